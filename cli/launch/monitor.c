/* monitor.c: qemu's monitor (QMP), on ferry's end of a socketpair: the
 * build's migration into the saved appliance (save.c) and a run's block
 * exports (export.c). Only what those need: a command, perhaps with a
 * descriptor, and whether it returned. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "launch/launch.h"
#include "launch/session.h"
#include "wire.h" /* deadlines */

static int mon = -1; /* ferry's end, while a qemu has one */

int launch_monitor(void)
{
    return mon;
}

/* A monitor is no part of the machine: a resumed one may have one. */
int monitor_args(bool want, struct argv *a, struct fdmap *m)
{
    int sv[2];

    monitor_close(); /* a former qemu's */
    if (!want)
        return 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    mon = sv[0];
    m->from[m->n] = sv[1];
    m->to[m->n++] = FD_QMP;
    m->close_after[m->nclose++] = sv[1];
    arg(a, "-chardev");
    arg(a, "socket,id=qmp,fd=%d", FD_QMP);
    arg(a, "-mon");
    arg(a, "chardev=qmp,mode=control");
    return 0;
}

int read_until(int fd, const char *want, char *buf, size_t size, int ms)
{
    size_t len = 0;
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    buf[0] = '\0';
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        struct pollfd p = { .fd = fd, .events = POLLIN };
        /* EINTR too: the only signals ferry catches stop it */
        int r = left > 0 ? poll(&p, 1, left) : 0;
        if (r <= 0)
            return -1;
        if (len + 1 >= size) { /* keep the newest half */
            memmove(buf, buf + size / 2, len - size / 2);
            len -= size / 2;
        }
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n <= 0)
            return -1;
        len += n;
        buf[len] = '\0';
        if (strstr(buf, want))
            return 0;
    }
}

/* What came after the last whole line the monitor sent. */
static struct {
    int fd;
    size_t len;
    char buf[8192];
} carry;

int qmp_line(int m, char *line, size_t size, int64_t deadline)
{
    if (carry.fd != m)
        carry.fd = m, carry.len = 0;
    for (;;) {
        /* a qemu that talks without end does not keep ferry here */
        if (deadline >= 0 && wire_left_ms(deadline) == 0)
            return errno = ETIMEDOUT, -1;
        char *nl = memchr(carry.buf, '\n', carry.len);
        if (nl) {
            size_t n = nl + 1 - carry.buf, keep = n < size ? n : size;
            memcpy(line, carry.buf, keep - 1);
            line[keep - 1] = '\0';
            memmove(carry.buf, nl + 1, carry.len - n);
            carry.len -= n;
            return 0;
        }
        if (carry.len == sizeof carry.buf)
            carry.len = 0; /* no line of qemu's is that long: drop it */
        struct pollfd p = { .fd = m, .events = POLLIN };
        int r = poll(&p, 1, wire_left_ms(deadline)); /* EINTR too: ferry is stopping */
        if (r <= 0)
            return -1;
        ssize_t n = read(m, carry.buf + carry.len, sizeof carry.buf - carry.len);
        if (n <= 0)
            return -1;
        carry.len += n;
    }
}

int qmp_command(int m, const char *cmd, int fd, char *reply, size_t size, int ms)
{
    int64_t deadline = wire_deadline(ms);

    if (send_with_fd(m, cmd, strlen(cmd), fd) != (ssize_t) strlen(cmd))
        return -1;
    /* events may come first: the answer is the line with return or error */
    for (;;) {
        if (qmp_line(m, reply, size, deadline) < 0)
            return -1;
        if (!strncmp(reply, "{\"return\"", 9))
            return 0;
        if (!strncmp(reply, "{\"error\"", 8))
            return -1;
    }
}

void monitor_close(void)
{
    if (mon >= 0)
        close(mon);
    mon = -1;
    carry.fd = -1; /* its number may come again: what it said does not */
    carry.len = 0;
}
