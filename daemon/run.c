/* run.c: running a helper program (tar, blkid) for a call. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

int helper_start(struct call *c, struct helper *h, char *const argv[], int in, int out, int dirfd)
{
    h->errfd = memfd_create("helper-stderr", MFD_CLOEXEC);
    if (h->errfd < 0)
        return call_fail_errno(c, errno, "memfd_create");
    h->pid = fork();
    if (h->pid < 0) {
        close(h->errfd);
        return call_fail_errno(c, errno, "fork");
    }
    if (h->pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        if (in < 0)
            in = open("/dev/null", O_RDONLY);
        if (out < 0)
            out = open("/dev/null", O_WRONLY);
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(h->errfd, 2) < 0 ||
            (dirfd >= 0 && fchdir(dirfd) < 0))
            _exit(126);
        execvp(argv[0], argv);
        fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return 0;
}

void helper_kill(struct helper *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        close(h->errfd);
        h->pid = 0;
    }
}

int helper_finish(struct call *c, struct helper *h, const char *what)
{
    char msg[512];
    int status;
    ssize_t n;
    off_t size;

    for (;;) {
        pid_t r = waitpid(h->pid, &status, WNOHANG);
        if (r == h->pid)
            break;
        if (r < 0 && errno != EINTR)
            return call_fail_errno(c, errno, "waitpid");
        call_keepalive(c);   /* tar may work for minutes */
        nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000 }, NULL);
    }
    h->pid = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        close(h->errfd);
        return 0;
    }
    /* the end of what it said is most likely the reason */
    size = lseek(h->errfd, 0, SEEK_END);
    n = pread(h->errfd, msg, sizeof msg - 1, size > (off_t) sizeof msg - 1 ? size - (off_t) sizeof msg + 1 : 0);
    close(h->errfd);
    msg[n > 0 ? n : 0] = '\0';
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    if (WIFSIGNALED(status))
        return call_fail(c, EIO, "%s: killed by signal %d", what, WTERMSIG(status));
    return call_fail(c, EIO, "%s failed: %s", what, n > 0 ? msg : "no message");
}
