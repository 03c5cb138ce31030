/* main.c: ferryd, the daemon that serves ferry's calls.
 *
 * In the appliance it is /init (PID 1) and serves /sysroot over the
 * virtio-serial port. On a host (tests) it serves a directory over an
 * inherited descriptor:  ferryd --root DIR --fd N */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon.h"

/* The static GNU tar the appliance carries (build-tar.sh). */
#define APPLIANCE_TAR "/usr/libexec/ferry/tar"

/* On a host (tests), how long a write may wait for the client to read: a
 * client that stopped reading for this long has gone; the stream is then
 * out of step. In the appliance a write waits as long as ferry does not
 * read: `ferry cat big | less` may sit in the pager for an hour, and when
 * ferry goes, qemu and the appliance go with it. */
#define WRITE_TIMEOUT_MS 60000

static void usage(void)
{
    fprintf(stderr, "usage: ferryd --root DIR --fd N [--chunk-size BYTES] "
                    "[--progress-ms MS] [--frame-timeout MS] [--tar PATH]\n");
    exit(2);
}

/* On a host: the static tar beside this ferryd (build/tar). */
static const char *tar_beside_me(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 8);

    if (n < 0)
        return "tar";
    path[n] = '\0';
    strcpy(strrchr(path, '/') + 1, "tar");
    return path;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "root", required_argument, 0, 'r' },
        { "fd", required_argument, 0, 'f' },
        { "chunk-size", required_argument, 0, 'c' },
        { "progress-ms", required_argument, 0, 'p' },
        { "frame-timeout", required_argument, 0, 't' },
        { "tar", required_argument, 0, 'T' },
        { 0, 0, 0, 0 },
    };
    const char *root = NULL;
    int fd = -1, frame_timeout = 5000, o;
    struct rlimit rl;

    d.appliance = getpid() == 1;
    while (!d.appliance && (o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'r':
            root = optarg;
            break;
        case 'f':
            fd = atoi(optarg);
            break;
        case 'c':
            d.chunk_size = strtoul(optarg, NULL, 0);
            break;
        case 'p':
            d.progress_ms = atoi(optarg);
            break;
        case 't':
            frame_timeout = atoi(optarg);
            break;
        case 'T':
            d.tar = optarg;
            break;
        default:
            usage();
        }
    }
    if (d.appliance) {
        appliance_init();
        root = "/sysroot";
        d.tar = APPLIANCE_TAR;
        fd = appliance_channel();
        if (fd < 0 || (appliance_saved() && appliance_wake(fd) < 0))
            appliance_poweroff();
        appliance_settings();
    }
    if (!root || fd < 0 || d.chunk_size == 0 || d.chunk_size > FERRY_MAX_CHUNK)
        usage();
    signal(SIGPIPE, SIG_IGN);
    /* deep trees hold a descriptor per level while they are walked */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    d.root = root;
    d.rootfd = -1;
    if (reopen_root() < 0) {
        fprintf(stderr, "ferryd: %s: %s\n", root, strerror(errno));
        return 1;
    }
    if (wire_init(&d.w, fd) < 0) {
        fprintf(stderr, "ferryd: %s\n", strerror(errno));
        return 1;
    }
    if (!d.tar)
        d.tar = tar_beside_me();
    d.w.frame_timeout_ms = frame_timeout;
    d.w.write_timeout_ms = d.appliance ? -1 : WRITE_TIMEOUT_MS;
    if (send_hello() < 0) {
        fprintf(stderr, "ferryd: hello: %s\n", d.w.error);
        return 1;
    }
    serve();
    if (d.appliance)
        appliance_poweroff();
    return 0;
}
