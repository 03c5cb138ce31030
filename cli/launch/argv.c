/* argv.c: qemu's command line, built an argument at a time (qemu.c,
 * blockdev.c), the descriptors a child keeps, and handing one over. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launch/launch.h"

void arg(struct argv *a, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (a->n >= (int) (sizeof a->v / sizeof a->v[0]) - 1 || vasprintf(&s, fmt, ap) < 0)
        abort(); /* a command line past its bounds: nothing to save */
    va_end(ap);
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

void close_all_but(const int *keep, int n)
{
    int top = 2;
    long max = sysconf(_SC_OPEN_MAX);

    for (int i = 0; i < n; i++)
        if (keep[i] > top)
            top = keep[i];
    for (int fd = 3; fd <= top; fd++) {
        bool kept = false;
        for (int i = 0; i < n; i++)
            kept |= keep[i] == fd;
        if (!kept)
            close(fd);
    }
    if (syscall(SYS_close_range, top + 1, ~0u, 0) < 0) /* kernels before 5.9 */
        for (long fd = top + 1; fd < (max > 0 ? max : 1024); fd++)
            close(fd);
}

ssize_t send_with_fd(int sock, const void *buf, size_t len, int fd)
{
    struct iovec iov = { (void *) buf, len };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (fd >= 0) {
        memset(&u, 0, sizeof u);
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}
