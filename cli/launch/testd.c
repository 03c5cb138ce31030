/* testd.c: for tests (--test-root DIR), the other end of the channel is
 * ferryd itself, run on the host and serving DIR: no VM. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch/session.h"

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

    if (fork_child() < 0)
        return -1;
    if (session_child == 0) {
        if (dup2(fd, 3) < 0)
            _exit(1);
        execl(prog, "ferryd", "--root", s->test_root, "--fd", "3", "--chunk-size",
              chunk && *chunk ? chunk : "262144", "--progress-ms",
              progress && *progress ? progress : "250", (char *) NULL);
        fprintf(stderr, "ferry: %s: %s\n", prog, strerror(errno));
        _exit(127);
    }
    return 0;
}
