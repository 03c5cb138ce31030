/* join.c: a command run in a session: it borrows the session's appliance
 * instead of starting one, and gives it back when it is done. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"
#include "io/transfer.h"
#include "launch/session.h"
#include "output/output.h"
#include "share/share.h"
#include "signals.h"

/* The mounts a command asks for, as a key: two commands with the same key
 * want the same filesystems at the same places. false: too long to keep. */
static bool plan_key(const struct session *s, char *key, size_t size)
{
    size_t n = snprintf(key, size, "%s", s->nmounts ? "-m" : "auto");

    for (int i = 0; i < s->nmounts && n < size; i++) {
        const struct mount_req *m = &s->mounts[i];
        n += snprintf(key + n, size - n, "\x1e%s\x1f%s\x1f%s\x1f%s", m->device, m->mountpoint,
                      m->options, m->fstype);
    }
    return n < size;
}

static int request(int fd, enum share_op op, uint32_t want, const char *plan)
{
    struct share_request q = { .op = op, .want = want };

    share_magic(q.magic);
    if (plan)
        snprintf(q.plan, sizeof q.plan, "%s", plan);
    return send(fd, &q, sizeof q, MSG_NOSIGNAL) == (ssize_t) sizeof q ? 0 : -1;
}

/* Wait for the server's answer: another command may hold the appliance
 * for a while, which is said (on a terminal, or with -v) after a second.
 * A signal ends the wait. */
static int await(int fd, bool say)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int ms = 1000;

    for (;;) {
        int r = poll(&p, 1, ms);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return report("poll: %s", strerror(errno)), -1;
        if (ferry_interrupted)
            return report("interrupted while waiting for the session"), -1;
        if (r == 0 && say)
            report("waiting for the session: another command is using its appliance");
        if (r == 0)
            ms = -1;
    }
}

/* The raw images' descriptors that came with the channel, in order. */
static void take_raw(uint32_t mask, const int *fds, int n)
{
    for (int i = 0, k = 0; i < MAX_IMAGES; i++)
        if (mask & 1u << i && k < n)
            direct_adopt(i, fds[k++]);
}

/* The server's answer, the channel when it lends one (else -1 in *chan),
 * and the images that follow it. -1 reported. */
static int greeting(int fd, struct share_greeting *g, char **images, size_t *len, int *chan,
                    bool say)
{
    char *buf = malloc(SHARE_GREETING_MAX);
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(SHARE_MAX_FDS * sizeof(int))];
    } u;
    int fds[SHARE_MAX_FDS], nfds = 0;
    struct iovec iov = { buf, SHARE_GREETING_MAX };
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf
    };
    ssize_t n;

    *chan = -1;
    if (!buf || await(fd, say) < 0)
        return free(buf), -1;
    do
        n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n >= 0 && c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && nfds == 0 &&
            c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
        }
    *chan = nfds ? fds[0] : -1;
    if (n < (ssize_t) sizeof *g || !share_magic_ok(buf)) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        *chan = -1;
        free(buf);
        report("the session ended without an answer");
        return -1;
    }
    memcpy(g, buf, sizeof *g);
    g->message[sizeof g->message - 1] = '\0';
    take_raw(g->raw_images, fds + 1, nfds - 1);
    *len = n - sizeof *g;
    memmove(buf, buf + sizeof *g, *len);
    *images = buf;
    return 0;
}

/* The session's images, for --log and messages. */
static int take_images(struct session *s, const struct share_greeting *g, char *blob, size_t len)
{
    size_t off = 0;

    for (uint32_t i = 0; i < g->nimages && i < MAX_IMAGES; i++) {
        const char *end = memchr(blob + off, '\0', len - off);
        if (!end)
            return -1;
        s->images[s->nimages++] = (struct image){ blob + off, NULL };
        off = end - blob + 1;
    }
    return 0;
}

int share_join(struct session *s)
{
    struct share_greeting g;
    char key[SHARE_PLAN_MAX], *images;
    size_t len;
    int chan;
    uint32_t want = s->want;

    /* a plan too long to compare is mounted afresh each time */
    if (want == SHARE_WANT_PLAN && !plan_key(s, key, sizeof key))
        want = SHARE_WANT_NOTHING;
    int fd = share_connect(s->join);
    if (fd < 0)
        return EXIT_FAILED;
    if (request(fd, SHARE_JOIN, want, want == SHARE_WANT_PLAN ? key : NULL) < 0) {
        report("FERRY_SESSION=%s: %s", s->join, strerror(errno));
        close(fd);
        return EXIT_FAILED;
    }
    if (greeting(fd, &g, &images, &len, &chan, s->verbose || isatty(2)) < 0) {
        close(fd);
        return EXIT_FAILED;
    }
    if (g.status != SHARE_OK || chan < 0) {
        if (g.status == SHARE_DEAD)
            report("the session's appliance died (%s); the session is over", g.message);
        else
            report("FERRY_SESSION=%s: %s", s->join, g.message[0] ? g.message : "refused");
        close(fd);
        return EXIT_FAILED;
    }
    s->want = want;
    if (take_images(s, &g, images, len) < 0)
        return report("the session's answer is garbled"), EXIT_FAILED;
    s->rw = g.rw && !s->said_ro;
    s->kvm = g.kvm;
    s->resumed = g.resumed;
    session_client_init(s);
    s->cl.protocol_version = g.protocol_version;
    s->cl.capabilities = g.capabilities;
    memcpy(s->cl.daemon_version, g.daemon_version, sizeof g.daemon_version);
    memcpy(s->cl.kernel_version, g.kernel_version, sizeof g.kernel_version);
    s->cl.daemon_version[sizeof s->cl.daemon_version - 1] = '\0';
    s->cl.kernel_version[sizeof s->cl.kernel_version - 1] = '\0';
    if (client_adopt(&s->cl, chan) < 0) {
        report("%s", s->cl.msg);
        close(chan);
        close(fd);
        return EXIT_FAILED;
    }
    s->joined = s->started = true;
    s->join_fd = fd;
    s->mounted = g.mounted && want == SHARE_WANT_PLAN;
    if (s->verbose)
        report("joined the session %s (%s, %s, %s): %s", s->join, s->kvm ? "KVM" : "TCG",
               s->resumed ? "resumed" : "booted", s->rw ? "read-write" : "read-only",
               s->mounted ? "its filesystems are mounted already" : "mounting");
    return EXIT_OK;
}

int share_leave(struct session *s)
{
    enum share_left left = SHARE_LEFT_UNKNOWN;
    int ret = 0;

    if (!s->cl.broken) {
        /* what this command wrote is on the image when it ends, as it
         * would be after a run of its own */
        ferry_release_args a = { .unmount = false };
        ferry_void r;
        if (s->rw && rpc_release(&s->cl, &a, &r, NULL) < 0) {
            call_failed(s);
            ret = -1;
        }
        if (s->want == SHARE_WANT_ANY)
            left = SHARE_LEFT_UNCHANGED;
        else if (s->want == SHARE_WANT_PLAN && s->mounted && !(s->writes && !s->nmounts))
            left = SHARE_LEFT_PLAN; /* a write may have changed the fstab that chose them */
        if (!s->cl.broken)
            request(s->join_fd, SHARE_DONE, left, NULL);
    }
    close(s->cl.w.fd);
    client_free(&s->cl);
    close(s->join_fd);
    s->joined = s->started = false;
    return ret;
}

int share_stop(const char *path)
{
    struct share_greeting g;
    char *images = NULL;
    size_t len;
    int chan, status = EXIT_FAILED;
    int fd = share_connect(path);

    if (fd >= 0 && request(fd, SHARE_STOP, 0, NULL) == 0 &&
        greeting(fd, &g, &images, &len, &chan, isatty(2)) == 0) {
        if (chan >= 0)
            close(chan);
        if (g.status == SHARE_STOPPED && !g.message[0])
            status = EXIT_OK;
        else if (g.status == SHARE_DEAD)
            report("the session's appliance had died: %s", g.message);
        else
            report("FERRY_SESSION=%s: %s", path, g.message[0] ? g.message : "refused");
    }
    free(images);
    if (fd >= 0)
        close(fd);
    /* whatever happened, the session is over: for eval "$(ferry session stop)" */
    fputs("unset FERRY_SESSION;\n", stdout);
    return status;
}
