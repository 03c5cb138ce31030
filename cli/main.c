/* main.c: ferry's global options, the command, and the end of the run.
 * Handlers return a status; this is the only place ferry exits. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cmd/cmd.h"
#include "commands.h"
#include "guest/guest.h"
#include "io/key.h"
#include "launch/session.h"
#include "output/output.h"
#include "share/share.h"
#include "signals.h"

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : dflt;
}

static const char *env_str(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* In a session the first operand is a path in the image; one that names an
 * image on the host (relative, as no path in the image is, or one of the
 * session's own) was meant as `ferry CMD IMAGE PATH...`: running the
 * command on the session's image instead would act on the wrong paths
 * (`rm -r -f B.img /data`). */
static bool names_an_image(const struct session *s, const struct command *c, const struct args *a)
{
    struct stat st;
    const char *u = c->operands;

    u += *u == '[';
    if (a->argc < 1 || !(!strncmp(u, "PATH", 4) || !strncmp(u, "REMOTE", 6) ||
                         !strncmp(u, "FROM", 4) || !strncmp(u, "HIVE", 4)))
        return false;
    if (stat(a->argv[0], &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
        return false;
    if (a->argv[0][0] != '/')
        return true;
    char *real = realpath(a->argv[0], NULL);
    bool same = false;
    for (int i = 0; real && i < s->nimages && !same; i++)
        same = !strcmp(real, s->images[i].path);
    free(real);
    return same;
}

static int add_mount(struct session *s, const char *spec)
{
    struct mount_req *m;
    char *p;

    if (s->nmounts >= MAX_MOUNTS)
        return usage_error(NULL, "at most %d -m options", MAX_MOUNTS);
    m = &s->mounts[s->nmounts++];
    if (!(m->device = strdup(spec)))
        return EXIT_FAILED;
    m->mountpoint = m->options = m->fstype = NULL;
    char **fields[] = { &m->mountpoint, &m->options, &m->fstype };
    p = m->device;
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
    return 0;
}

/* Global options, up to the command. Returns 0, or an exit status (-1:
 * nothing to do but exit 0). */
static int global_options(struct session *s, int argc, char **argv)
{
    struct option longs[32];
    char shorts[64] = "+:"; /* options end at the command */
    const char *format = NULL;
    int n = 0, ch;

    for (const struct opt *o = global_opts; o->name; o++, n++) {
        longs[n] =
            (struct option){ o->name, o->arg ? required_argument : no_argument, NULL, 256 + n };
        if (o->letter) {
            size_t k = strlen(shorts);
            shorts[k++] = o->letter;
            if (o->arg)
                shorts[k++] = ':';
            shorts[k] = '\0';
        }
    }
    longs[n] = (struct option){ 0 };
    opterr = 0;
    while ((ch = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const struct opt *o = NULL;
        if (ch == '?' || ch == ':')
            return usage_error(NULL, "%s %s (see 'ferry --help')", argv[optind - 1],
                               ch == ':' ? "needs a value" : "is not an option");
        if (ch >= 256)
            o = &global_opts[ch - 256];
        for (const struct opt *p = global_opts; !o && p->name; p++)
            if (p->letter == ch)
                o = p;
        if (o->arg && check_choice(NULL, o, optarg))
            return EXIT_USAGE;
        const char *name = o->name;
        if (!strcmp(name, "add")) {
            if (s->nimages >= MAX_IMAGES)
                return usage_error(NULL, "at most %d images", MAX_IMAGES);
            s->images[s->nimages++] = (struct image){ optarg, format };
            format = NULL;
        } else if (!strcmp(name, "format")) {
            format = optarg;
        } else if (!strcmp(name, "external") || !strcmp(name, "backing")) {
            s->external = true;
        } else if (!strcmp(name, "mount")) {
            int r = add_mount(s, optarg);
            if (r)
                return r;
        } else if (!strcmp(name, "ro") || !strcmp(name, "rw")) {
            s->rw = name[1] == 'w';
            s->said_ro = !s->rw;
        } else if (!strcmp(name, "verbose")) {
            s->verbose = true;
        } else if (!strcmp(name, "trace")) {
            s->trace = true;
        } else if (!strcmp(name, "no-direct")) {
            s->no_direct = true;
        } else if (!strcmp(name, "accel")) {
            s->accel = optarg;
        } else if (!strcmp(name, "memsize")) {
            s->memsize_mb = atoi(optarg);
        } else if (!strcmp(name, "timeout")) {
            s->timeout_s = atoi(optarg);
        } else if (!strcmp(name, "call-limit")) {
            s->call_limit_s = atoi(optarg);
        } else if (!strcmp(name, "launch-timeout")) {
            s->launch_timeout_s = atoi(optarg);
        } else if (!strcmp(name, "log")) {
            s->log = optarg;
        } else if (!strcmp(name, "key-file")) {
            s->key_file = optarg;
        } else if (!strcmp(name, "qemu")) {
            s->qemu = optarg;
        } else if (!strcmp(name, "test-root")) {
            s->test_root = optarg;
        } else if (!strcmp(name, "version")) {
            return cmd_version(s, NULL) == 0 ? -1 : EXIT_FAILED;
        } else if (!strcmp(name, "help")) {
            global_help(stdout, &ferry_tables);
            return -1;
        }
    }
    if (format && !s->nimages)
        s->pending_format = format; /* for the image named first among the operands */
    if (s->timeout_s <= 0 || s->launch_timeout_s <= 0 || s->call_limit_s <= 0 || s->memsize_mb < 64)
        return usage_error(NULL, "--timeout, --call-limit and --launch-timeout must be "
                                 "positive, --memsize at least 64");
    return 0;
}

/* --key-file, read before the appliance starts: a missing file is said at
 * once. Standard input can give the key or a command's data, not both. */
static int read_key(struct session *s, const struct command *c, const struct args *a)
{
    bool reads_stdin =
        !strcmp(c->name, "shell") ||
        (a->argc > 0 && !strcmp(a->argv[0], "-") &&
         (!strncmp(c->operands, "LOCAL|-", 7) || !strncmp(c->operands, "FILE|-", 6)));

    if (!strcmp(s->key_file, "-") && reads_stdin)
        return usage_error(
            NULL, "--key-file -: %s reads standard input too; give the key in a file", c->name);
    return key_read_file(s->key_file) < 0 ? EXIT_FAILED : 0;
}

/* Run the command; the appliance is shut down before this returns. */
static int run(struct session *s, int argc, char **argv)
{
    const struct command *c;
    struct args a;
    const char *image = NULL;
    int status;

    if (optind >= argc) {
        global_help(stderr, &ferry_tables);
        return EXIT_USAGE;
    }
    c = find_command(commands, argv[optind]);
    if (!c)
        return usage_error(NULL, "unknown command '%s' (see 'ferry help')", argv[optind]);
    s->command = c->name;
    argc -= optind;
    argv += optind;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help")) {
            command_help(stdout, c);
            return EXIT_OK;
        }
    bool joins = s->join && !(c->flags & CMD_NO_APPLIANCE);
    bool take_image = !(c->flags & CMD_NO_APPLIANCE) && s->nimages == 0 && !s->test_root && !joins;
    if ((status = args_parse(c, c->name, argc, argv, take_image, &image, &a)))
        return status;
    if (image)
        s->images[s->nimages++] = (struct image){ image, s->pending_format };
    if (joins && (s->nimages || s->test_root))
        return usage_error(NULL, "FERRY_SESSION is set: commands use the session's images "
                                 "(no -a; FERRY_SESSION= ferry ... for others)");
    s->want = c->flags & CMD_OWN_MOUNTS ? SHARE_WANT_NOTHING
              : c->flags & CMD_NO_MOUNT ? SHARE_WANT_ANY
                                        : SHARE_WANT_PLAN;
    s->writes = c->flags & CMD_WRITES;
    if (joins && (status = share_join(s)))
        return status;
    if (s->joined && names_an_image(s, c, &a)) {
        share_leave(s);
        return usage_error(NULL,
                           "FERRY_SESSION is set: '%s' is an image, but commands use the "
                           "session's images (FERRY_SESSION= ferry ... for others)",
                           a.argv[0]);
    }
    if ((c->flags & CMD_WRITES) && !s->rw) {
        if (s->joined)
            share_leave(s);
        return usage_error(NULL, "%s writes to the image: %s", c->name,
                           s->join ? "the session is read-only (start it with --rw)"
                                   : "add --rw to allow it");
    }
    if (s->key_file && (status = read_key(s, c, &a))) {
        if (s->joined)
            share_leave(s);
        return status;
    }
    if (s->log && audit_begin(s, s->log, s->typed_argc, s->typed_argv) < 0) {
        if (s->joined)
            share_leave(s);
        return EXIT_FAILED;
    }
    signals_install();
    if (!(c->flags & CMD_NO_APPLIANCE) && !s->joined && (status = session_start(s)))
        return status;
    signals_graceful(true);
    if (s->started && !(c->flags & CMD_NO_MOUNT) && !s->test_root && !s->mounted)
        s->mounted = (status = mount_filesystems(s)) == EXIT_OK;
    if (status == EXIT_OK)
        status = c->run(s, &a);
    if (s->started && (s->joined ? share_leave(s) : session_end(s)) < 0 && status == EXIT_OK)
        status = EXIT_FAILED;
    key_forget();
    return status;
}

int main(int argc, char **argv)
{
    static struct session s;
    int status;

    clock_gettime(CLOCK_MONOTONIC, &s.began);
    s.tables = &ferry_tables;
    /* the record of --log holds the command line as typed, before getopt
     * reorders it */
    s.typed_argc = argc;
    s.typed_argv = calloc(argc + 1, sizeof *argv);
    for (int i = 0; s.typed_argv && i < argc; i++)
        s.typed_argv[i] = argv[i];
    s.accel = env_str("FERRY_ACCEL", "auto");
    s.memsize_mb = env_int("FERRY_MEMSIZE", 256);
    s.timeout_s = env_int("FERRY_TIMEOUT", 60);
    s.call_limit_s = env_int("FERRY_CALL_LIMIT", 3600);
    s.launch_timeout_s = env_int("FERRY_LAUNCH_TIMEOUT", 30);
    s.machine = env_str("FERRY_MACHINE", "microvm");
    s.qemu = env_str("FERRY_QEMU", NULL);
    s.join = env_str("FERRY_SESSION", NULL);

    /* the build makes the saved appliance this way (launch/save.c) */
    if (getenv("FERRY_SAVE_STATE") && argc == 1)
        return launch_save_state(&s, getenv("FERRY_SAVE_STATE"));
    status = global_options(&s, argc, argv);
    if (status == 0)
        status = run(&s, argc, argv);
    else if (status < 0)
        status = EXIT_OK;
    if (ferry_interrupted) {
        /* the appliance is down cleanly: now die of the signal */
        audit_end(128 + ferry_interrupted);
        partial_file(NULL);
        signal(ferry_interrupted, SIG_DFL);
        raise(ferry_interrupted);
    }
    audit_end(status);
    fflush(stdout);
    if (status == EXIT_PIPE) {
        /* end as a program killed by SIGPIPE would, silently */
        signal(SIGPIPE, SIG_DFL);
        raise(SIGPIPE);
    }
    return status;
}
