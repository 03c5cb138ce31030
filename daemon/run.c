/* run.c: running a helper program (tar, blkid, lvm) for a call.
 *
 * A confined helper (tar, which writes where an archive says) runs
 * chrooted into the served root and starts in the directory it works on:
 * like every path the daemon resolves, what the image's symlinks point at
 * stays inside the image. It is a static program, exec'd by a descriptor
 * opened before the chroot, so the image provides nothing it runs. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

/* Write a small file in /proc; for the user namespace below. */
static int put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    int r = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t) strlen(text) ? 0 : -1;
    if (fd >= 0)
        close(fd);
    return r;
}

/* chroot into the served root. ferryd is root in the appliance; a host
 * ferryd under an ordinary user (tests) gets the right from a user
 * namespace in which it is root. Only what is async-signal-safe: the
 * daemon has a second thread. */
static int confine(void)
{
    if (fchdir(d.rootfd) < 0)
        return -1;
    if (chroot(".") == 0)
        return 0;
    if (errno != EPERM)
        return -1;
    char map[64];
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER) < 0 || put("/proc/self/setgroups", "deny") < 0)
        return -1;
    snprintf(map, sizeof map, "%u %u 1", (unsigned) uid, (unsigned) uid);
    if (put("/proc/self/uid_map", map) < 0)
        return -1;
    snprintf(map, sizeof map, "%u %u 1", (unsigned) gid, (unsigned) gid);
    if (put("/proc/self/gid_map", map) < 0)
        return -1;
    return chroot(".");
}

int helper_start(struct call *c, struct helper *h, char *const argv[], const struct helper_io *io)
{
    int exe = -1;

    if (io->confined && (exe = open(argv[0], O_PATH | O_CLOEXEC)) < 0)
        return call_fail_errno(c, errno, "%s", argv[0]);
    h->errfd = memfd_create("helper-stderr", MFD_CLOEXEC);
    if (h->errfd < 0) {
        if (exe >= 0)
            close(exe);
        return call_fail_errno(c, errno, "memfd_create");
    }
    h->pid = fork();
    if (h->pid == 0) {
        static const char cant[] = "ferryd: cannot start the helper\n";
        int in = io->in >= 0 ? io->in : open("/dev/null", O_RDONLY);
        int out = io->out >= 0 ? io->out : open("/dev/null", O_WRONLY);
        signal(SIGPIPE, SIG_DFL);
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(h->errfd, 2) < 0 ||
            (io->confined && confine() < 0) || (io->dirfd >= 0 && fchdir(io->dirfd) < 0)) {
            write(2, cant, sizeof cant - 1);
            _exit(126);
        }
        if (io->confined)
            fexecve(exe, argv, (char *[]){ "TZ=UTC0", "LC_ALL=C", NULL });
        else
            execvp(argv[0], argv);
        write(2, cant, sizeof cant - 1);
        _exit(127);
    }
    if (exe >= 0)
        close(exe);
    if (h->pid < 0) {
        close(h->errfd);
        return call_fail_errno(c, errno, "fork");
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

/* Wait for the helper; past limit_s seconds (0: none) it is killed. A
 * helper fed what the image says (cryptsetup's header) may be made to work
 * for ever: the daemon must not. */
static pid_t wait_helper(struct helper *h, int *status, int limit_s, bool *expired)
{
    int64_t deadline = limit_s > 0 ? wire_now_ms() + (int64_t) limit_s * 1000 : -1;
    pid_t r;

    *expired = false;
    for (;;) {
        r = waitpid(h->pid, status, deadline < 0 ? 0 : WNOHANG);
        if (r < 0 && errno == EINTR)
            continue;
        if (r != 0)
            return r;
        if (wire_now_ms() >= deadline) {
            kill(h->pid, SIGKILL);
            *expired = true;
            deadline = -1; /* now reap it */
            continue;
        }
        nanosleep(&(struct timespec){ 0, 20 * 1000000 }, NULL);
    }
}

int helper_finish(struct call *c, struct helper *h, const char *what)
{
    return helper_finish_within(c, h, what, 0);
}

int helper_finish_within(struct call *c, struct helper *h, const char *what, int limit_s)
{
    char msg[512];
    int status = 0;
    ssize_t n;
    off_t size;
    pid_t r;
    bool expired;

    busy_begin(c); /* tar may work for minutes */
    r = wait_helper(h, &status, limit_s, &expired);
    busy_end(c);
    h->pid = 0;
    h->status = status;
    if (r < 0) {
        close(h->errfd);
        return call_fail_errno(c, errno, "waitpid");
    }
    if (expired) {
        close(h->errfd);
        return call_fail(c, ETIMEDOUT, "%s: gave up after %d s", what, limit_s);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        close(h->errfd);
        return 0;
    }
    /* the end of what it said is most likely the reason */
    size = lseek(h->errfd, 0, SEEK_END);
    n = pread(h->errfd, msg, sizeof msg - 1,
              size > (off_t) sizeof msg - 1 ? size - (off_t) sizeof msg + 1 : 0);
    close(h->errfd);
    msg[n > 0 ? n : 0] = '\0';
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    if (WIFSIGNALED(status))
        return call_fail(c, EIO, "%s: killed by signal %d%s%s", what, WTERMSIG(status),
                         n > 0 ? ": " : "", n > 0 ? msg : "");
    return call_fail(c, EIO, "%s failed: %s", what, n > 0 ? msg : "no message");
}
