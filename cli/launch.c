/* launch.c: starting the other end of the channel: qemu with the
 * appliance, or (for tests) ferryd on the host serving a directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ferry.h"

pid_t child_pid;

/* In the child: die with ferry, whatever kills it. */
static void die_with_parent(pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
}

/* ferryd beside our own executable, or $FERRY_DAEMON */
static const char *daemon_path(void)
{
    static char path[PATH_MAX];
    const char *env = getenv("FERRY_DAEMON");
    ssize_t n;

    if (env && *env)
        return env;
    n = readlink("/proc/self/exe", path, sizeof path - 8);
    if (n < 0)
        return "ferryd";
    path[n] = '\0';
    strcpy(strrchr(path, '/') + 1, "ferryd");
    return path;
}

int launch_test_daemon(struct session *s, int fd)
{
    const char *prog = daemon_path();
    const char *chunk = getenv("FERRY_TEST_CHUNK_SIZE");
    const char *progress = getenv("FERRY_TEST_PROGRESS_MS");
    pid_t parent = getpid();

    child_pid = fork();
    if (child_pid < 0) {
        warnx_("fork: %s", strerror(errno));
        return -1;
    }
    if (child_pid == 0) {
        die_with_parent(parent);
        if (dup2(fd, 3) < 0)
            _exit(1);
        execl(prog, "ferryd", "--root", s->test_root, "--fd", "3",
              "--chunk-size", chunk && *chunk ? chunk : "262144",
              "--progress-ms", progress && *progress ? progress : "250", (char *) NULL);
        fprintf(stderr, "ferry: %s: %s\n", prog, strerror(errno));
        _exit(127);
    }
    return 0;
}

int launch_qemu(struct session *s, int fd)
{
    (void) s;
    (void) fd;
    warnx_("booting the appliance is not built into this ferry yet");
    return -1;
}

void launch_console_tail(struct session *s)
{
    (void) s;
}
