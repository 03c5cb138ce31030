/* main.c: ferry's global options and dispatch to a command. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "transfer.h"

#define ENTRY(id, name, usage, summary, flags, opthelp)                             \
    { name, usage, summary, flags, opthelp, cmd_##id },
const struct command commands[] = { FERRY_COMMANDS(ENTRY) };
const size_t ncommands = sizeof commands / sizeof commands[0];

const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < ncommands; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static const char global_usage[] =
    "usage: ferry [OPTIONS] COMMAND [ARGS...]\n"
    "       ferry [OPTIONS] COMMAND IMAGE [ARGS...]   (when no -a is given)\n"
    "\n"
    "Options:\n";
const char ferry_options_help[] =
    "  -a, --add IMAGE        a disk image (repeatable: /dev/sda, /dev/sdb, ...)\n"
    "      --format FMT       format of the following -a (default: detected)\n"
    "      --backing          also open the backing files a qcow2 (etc.) names; by\n"
    "                         default ferry opens only the files given to it\n"
    "  -m, --mount DEV[:MOUNTPOINT[:OPTIONS[:FSTYPE]]]  mount explicitly (repeatable)\n"
    "      --ro               read-only (the default)\n"
    "      --rw               allow writes\n"
    "  -v, --verbose          show what ferry and the appliance do\n"
    "  -x, --trace            trace each call\n"
    "      --accel auto|kvm|tcg   accelerator (default auto; $FERRY_ACCEL)\n"
    "      --memsize MB       guest memory (default 256; $FERRY_MEMSIZE)\n"
    "      --timeout S        give up on a call silent for S seconds (default 60)\n"
    "      --launch-timeout S give up on a boot after S seconds (default 30)\n"
    "      --log FILE         append an audit record: versions, command, times, exit\n"
    "                         status, each image's sha256 before and after\n"
    "      --test-root DIR    testing: serve DIR with a host ferryd, no VM\n"
    "  -V, --version          print versions\n"
    "  -h, --help             this help\n";

static void usage_exit(void)
{
    fputs(global_usage, stderr);
    fputs(ferry_options_help, stderr);
    ferry_exit(EXIT_USAGE);
}

static void add_mount(struct session *s, const char *spec)
{
    struct mount_req *m;
    char *copy, *p;

    if (s->nmounts >= MAX_MOUNTS)
        die(EXIT_USAGE, "too many -m options");
    m = &s->mounts[s->nmounts++];
    copy = xstrdup(spec);
    m->device = copy;
    m->mountpoint = m->options = m->fstype = NULL;
    char **fields[] = { &m->mountpoint, &m->options, &m->fstype };
    p = copy;
    for (int i = 0; i < 3 && (p = strchr(p, ':')); i++) {
        *p++ = '\0';
        *fields[i] = p;
    }
    if (!m->mountpoint || !*m->mountpoint)
        m->mountpoint = "/";
    if (!m->options)
        m->options = "";
    if (!m->fstype)
        m->fstype = "";
}

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : dflt;
}

struct timespec ferry_started;

int main(int argc, char **argv)
{
    clock_gettime(CLOCK_MONOTONIC, &ferry_started);
    int argc_all = argc;
    char **argv_all = argv;
    enum { O_FORMAT = 256, O_RO, O_RW, O_ACCEL, O_MEMSIZE, O_TIMEOUT, O_LAUNCH, O_TEST_ROOT,
           O_LOG, O_BACKING };
    static const struct option opts[] = {
        { "add", required_argument, 0, 'a' },
        { "format", required_argument, 0, O_FORMAT },
        { "mount", required_argument, 0, 'm' },
        { "ro", no_argument, 0, O_RO },
        { "rw", no_argument, 0, O_RW },
        { "verbose", no_argument, 0, 'v' },
        { "trace", no_argument, 0, 'x' },
        { "accel", required_argument, 0, O_ACCEL },
        { "memsize", required_argument, 0, O_MEMSIZE },
        { "timeout", required_argument, 0, O_TIMEOUT },
        { "launch-timeout", required_argument, 0, O_LAUNCH },
        { "test-root", required_argument, 0, O_TEST_ROOT },
        { "log", required_argument, 0, O_LOG },
        { "backing", no_argument, 0, O_BACKING },
        { "version", no_argument, 0, 'V' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    static struct session s;
    const char *format = NULL;
    const struct command *cmd;
    int o;

    s.accel = getenv("FERRY_ACCEL") && *getenv("FERRY_ACCEL") ? getenv("FERRY_ACCEL") : "auto";
    s.memsize_mb = env_int("FERRY_MEMSIZE", 256);
    s.timeout_s = env_int("FERRY_TIMEOUT", 60);
    s.launch_timeout_s = env_int("FERRY_LAUNCH_TIMEOUT", 30);
    s.console_fd = -1;
    s.machine = getenv("FERRY_MACHINE") && *getenv("FERRY_MACHINE") ? getenv("FERRY_MACHINE")
                                                                     : "microvm";

    /* "+": options end at the command; what follows is the command's. */
    while ((o = getopt_long(argc, argv, "+a:m:vxVh", opts, NULL)) != -1) {
        switch (o) {
        case 'a':
            if (s.nimages >= MAX_IMAGES)
                die(EXIT_USAGE, "at most %d images", MAX_IMAGES);
            s.images[s.nimages++] = (struct image){ optarg, format };
            format = NULL;
            break;
        case O_FORMAT: format = optarg; break;
        case 'm': add_mount(&s, optarg); break;
        case O_RO: s.rw = false; break;
        case O_RW: s.rw = true; break;
        case 'v': s.verbose = true; break;
        case 'x': s.trace = true; break;
        case O_ACCEL: s.accel = optarg; break;
        case O_MEMSIZE: s.memsize_mb = atoi(optarg); break;
        case O_TIMEOUT: s.timeout_s = atoi(optarg); break;
        case O_LAUNCH: s.launch_timeout_s = atoi(optarg); break;
        case O_TEST_ROOT: s.test_root = optarg; break;
        case O_LOG: s.log = optarg; break;
        case O_BACKING: s.backing = true; break;
        case 'V': return cmd_version(&s, 1, (char *[]){ "version", NULL });
        case 'h':
            fputs(global_usage, stdout);
            fputs(ferry_options_help, stdout);
            puts("\nCommands: see 'ferry help'.");
            return EXIT_OK;
        default: usage_exit();
        }
    }
    if (strcmp(s.accel, "auto") && strcmp(s.accel, "kvm") && strcmp(s.accel, "tcg"))
        die(EXIT_USAGE, "--accel: expected auto, kvm or tcg, not '%s'", s.accel);
    if (s.timeout_s <= 0 || s.launch_timeout_s <= 0 || s.memsize_mb < 64)
        die(EXIT_USAGE, "--timeout and --launch-timeout must be positive, --memsize >= 64");
    if (optind >= argc)
        usage_exit();
    cmd = find_command(argv[optind]);
    if (!cmd)
        die(EXIT_USAGE, "unknown command '%s' (see 'ferry help')", argv[optind]);
    s.command = cmd->name;
    argc -= optind;
    argv += optind;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            command_usage(stdout, cmd);
            return EXIT_OK;
        }
        if (!strcmp(argv[i], "--"))
            break;
    }
    /* ferry cat disk.img /etc/passwd == ferry -a disk.img cat /etc/passwd */
    if (!(cmd->flags & CMD_NO_APPLIANCE) && s.nimages == 0 && !s.test_root) {
        if (argc < 2)
            die(EXIT_USAGE, "%s: no disk image: use -a IMAGE or put it first", cmd->name);
        if (argv[1][0] == '-' && argv[1][1])
            die(EXIT_USAGE, "%s: without -a the image comes first: ferry %s IMAGE [OPTIONS] ...",
                cmd->name, cmd->name);
        s.images[s.nimages++] = (struct image){ argv[1], format };
        argv[1] = argv[0];
        argc--;
        argv++;
    }
    if ((cmd->flags & CMD_WRITES) && !s.rw)
        die(EXIT_USAGE, "%s writes to the image: add --rw to allow it", cmd->name);
    signal(SIGPIPE, SIG_IGN);
    signals_install();
    if (s.log)
        audit_begin(&s, s.log, argc_all, argv_all);
    if (!(cmd->flags & CMD_NO_APPLIANCE))
        session_start(&s, cmd->flags);
    optind = 0;   /* commands parse their own options with getopt */
    ferry_graceful = true;
    int status = cmd->run(&s, argc, argv);
    if (s.started && session_end(&s) < 0 && status == EXIT_OK)
        status = EXIT_FAILED;
    if (ferry_interrupted) {
        /* the appliance is down cleanly: now die of the signal */
        cleanup_done();
        signal(ferry_interrupted, SIG_DFL);
        raise(ferry_interrupted);
    }
    if (status == EXIT_PIPE) {
        /* end as a program killed by SIGPIPE would, silently */
        signal(SIGPIPE, SIG_DFL);
        raise(SIGPIPE);
    }
    ferry_exit(status);
}
