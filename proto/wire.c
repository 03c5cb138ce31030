/* wire.c: framing of ferry messages (see wire.h and docs/protocol.md). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "wire.h"

/* Input holds one whole message with its length word, and a sync frame. */
#define IN_CAP (FERRY_MAX_MESSAGE + 64)

static int fail(struct wire *w, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct wire *w, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(w->error, sizeof w->error, fmt, ap);
    va_end(ap);
    errno = err;
    return -1;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t) get32(p) << 32 | get32(p + 4);
}

int wire_init(struct wire *w, int fd)
{
    int fl = fcntl(fd, F_GETFL);

    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->timeout_ms = w->frame_timeout_ms = w->write_timeout_ms = -1;
    /* blocking writes would ignore every timeout: a peer that stops
     * reading must be a timeout, not a hang */
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    w->in = malloc(IN_CAP);
    w->out = malloc(FERRY_MAX_MESSAGE + 4);
    if (!w->in || !w->out) {
        wire_free(w);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void wire_free(struct wire *w)
{
    free(w->in);
    free(w->out);
    w->in = w->out = NULL;
}

void wire_wipe(struct wire *w)
{
    if (w->in) {
        /* what was read (and copies a move left behind), not what is unread */
        explicit_bzero(w->in, w->start);
        explicit_bzero(w->in + w->end, IN_CAP - w->end);
    }
    if (w->out)
        explicit_bzero(w->out, FERRY_MAX_MESSAGE + 4);
}

int64_t wire_now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t wire_deadline(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : wire_now_ms() + timeout_ms;
}

int wire_left_ms(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - wire_now_ms();
    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int) left;
}

/* Wait until fd is ready for `events` or the deadline passes: 0 when
 * ready, -1 with ETIMEDOUT. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p = { .fd = fd, .events = events };
    int r;

    do
        r = poll(&p, 1, wire_left_ms(deadline));
    while (r < 0 && errno == EINTR);
    if (r == 0)
        errno = ETIMEDOUT;
    return r > 0 ? 0 : -1;
}

/* Make at least `need` (<= IN_CAP) unread bytes available by the deadline. */
static int fill(struct wire *w, size_t need, int64_t deadline)
{
    while (w->end - w->start < need) {
        if (w->start > 0 && w->start + need > IN_CAP) {
            memmove(w->in, w->in + w->start, w->end - w->start);
            w->end -= w->start;
            w->start = 0;
        }
        ssize_t n = read(w->fd, w->in + w->end, IN_CAP - w->end);
        if (n > 0) {
            w->end += n;
            w->received += n;
            continue;
        }
        if (n == 0)
            return fail(w, ECONNRESET, "the peer closed the channel");
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return fail(w, errno, "read: %s", strerror(errno));
        if (wait_fd(w->fd, POLLIN, deadline) < 0) {
            if (errno == ETIMEDOUT)
                return fail(w, errno, "nothing from the peer in time");
            return fail(w, errno, "poll: %s", strerror(errno));
        }
    }
    return 0;
}

static int decode_header(const unsigned char *p, size_t len, struct ferry_header *h)
{
    XDR x;
    bool_t ok;

    xdrmem_create(&x, (char *) p, len, XDR_DECODE);
    ok = xdr_ferry_header(&x, h);
    xdr_destroy(&x);
    return ok ? 0 : -1;
}

int wire_read_frame(struct wire *w, struct wire_frame *f)
{
    uint32_t word;

    if (fill(w, 4, wire_deadline(w->timeout_ms)) < 0)
        return -1;
    /* from here on one deadline bounds the whole frame */
    int64_t rest = wire_deadline(w->frame_timeout_ms >= 0 ? w->frame_timeout_ms : w->timeout_ms);
    word = get32(w->in + w->start);
    switch (word) {
    case FERRY_WORD_LAUNCH:
    case FERRY_WORD_CANCEL:
        f->kind = word == FERRY_WORD_LAUNCH ? WIRE_LAUNCH : WIRE_CANCEL;
        w->start += 4;
        return 0;
    case FERRY_WORD_SYNC:
    case FERRY_WORD_DELIM:
        if (fill(w, 12, rest) < 0)
            return -1;
        f->kind = word == FERRY_WORD_SYNC ? WIRE_SYNC : WIRE_DELIM;
        f->sync_id = get64(w->in + w->start + 4);
        w->start += 12;
        return 0;
    }
    if (word > FERRY_MAX_MESSAGE || word < FERRY_HEADER_SIZE)
        return fail(w, EBADMSG, "bad length word 0x%08x", word);
    if (fill(w, 4 + (size_t) word, rest) < 0)
        return -1;
    const unsigned char *msg = w->in + w->start + 4;
    if (decode_header(msg, word, &f->hdr) < 0 || f->hdr.prog != FERRY_PROGRAM_ID ||
        f->hdr.type > FERRY_CHUNK || f->hdr.status > FERRY_ERROR)
        return fail(w, EBADMSG, "not a ferry message header");
    if (f->hdr.vers != FERRY_PROTOCOL_VERSION)
        return fail(w, EPROTONOSUPPORT, "speaks protocol version %u; this side speaks %u",
                    f->hdr.vers, FERRY_PROTOCOL_VERSION);
    f->kind = WIRE_MESSAGE;
    f->body = msg + FERRY_HEADER_SIZE;
    f->body_len = word - FERRY_HEADER_SIZE;
    w->start += 4 + word;
    return 0;
}

int wire_input_pending(struct wire *w)
{
    if (w->end > w->start)
        return 1;
    struct pollfd p = { .fd = w->fd, .events = POLLIN };
    int r = poll(&p, 1, 0);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    return r > 0;
}

int wire_discard_until(struct wire *w, uint32_t word, const uint64_t *want_id, uint64_t *id)
{
    int64_t deadline = wire_deadline(w->timeout_ms);
    size_t thrown = 0;
    unsigned char pat[4];

    put32(pat, word);
    for (;;) {
        unsigned char *from = w->in + w->start;
        size_t avail = w->end - w->start;
        unsigned char *hit = avail >= 4 ? memmem(from, avail, pat, 4) : NULL;
        size_t skip = hit ? (size_t) (hit - from) : avail > 3 ? avail - 3 : 0;

        /* what is skipped is thrown away: a peer that only sends junk
         * cannot keep us here */
        thrown += skip;
        w->start += skip;
        if (w->discard_limit && thrown > w->discard_limit)
            return fail(w, EMSGSIZE, "more than %zu bytes of junk", w->discard_limit);
        if (!hit) {
            /* what is kept may be the start of the pattern */
            if (fill(w, w->end - w->start + 1, deadline) < 0)
                return -1;
            continue;
        }
        if (fill(w, 12, deadline) < 0)
            return -1;
        uint64_t got = get64(w->in + w->start + 4);
        if (want_id && got != *want_id) {
            w->start++;
            thrown++;
            continue;
        }
        w->start += 12;
        *id = got;
        return 0;
    }
}

/* Write iov[0..*np) completely by the deadline; with `yield`, stop
 * (EAGAIN) when the peer has something to say before it reads more: iov
 * and *np then hold what is left, from iov[0]. */
static int writev_all(int fd, struct iovec *iov, int *np, int64_t deadline, bool yield)
{
    while (*np > 0) {
        ssize_t r = writev(fd, iov, *np);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = { .fd = fd, .events = POLLOUT | (yield ? POLLIN : 0) };
                int k;
                do
                    k = poll(&p, 1, wire_left_ms(deadline));
                while (k < 0 && errno == EINTR);
                if (k == 0)
                    errno = ETIMEDOUT;
                if (k <= 0)
                    return -1;
                if ((p.revents & POLLIN) && !(p.revents & POLLOUT)) {
                    errno = EAGAIN;
                    return -1;
                }
                continue;
            }
            return -1;
        }
        while (*np > 0 && (size_t) r >= iov[0].iov_len) {
            r -= iov[0].iov_len;
            memmove(iov, iov + 1, --*np * sizeof *iov);
        }
        if (*np > 0) {
            iov[0].iov_base = (char *) iov[0].iov_base + r;
            iov[0].iov_len -= r;
        }
    }
    return 0;
}

int write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
    struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
    int n = 1;
    return writev_all(fd, &iov, &n, wire_deadline(timeout_ms), false);
}

static int write_failed(struct wire *w)
{
    if (errno == EAGAIN)
        return fail(w, EAGAIN, "the peer spoke before it read all");
    if (errno == ETIMEDOUT)
        return fail(w, ETIMEDOUT, "the peer stopped reading");
    if (errno == EPIPE || errno == ECONNRESET)
        return fail(w, ECONNRESET, "the peer closed the channel");
    return fail(w, errno, "write: %s", strerror(errno));
}

int wire_send(struct wire *w, const struct ferry_header *hdr, xdrproc_t xdr_body, const void *body,
              const void *raw, size_t raw_len)
{
    XDR x;
    bool_t ok;
    size_t len;

    xdrmem_create(&x, (char *) w->out + 4, FERRY_MAX_MESSAGE, XDR_ENCODE);
    ok = xdr_ferry_header(&x, (struct ferry_header *) hdr);
    if (ok && xdr_body)
        ok = xdr_body(&x, (void *) body, 0);
    len = xdr_getpos(&x);
    xdr_destroy(&x);
    if (!ok || len + raw_len > FERRY_MAX_MESSAGE)
        return fail(w, EMSGSIZE, "message too large to send");
    put32(w->out, len + raw_len);

    w->pending[0] = (struct iovec){ .iov_base = w->out, .iov_len = 4 + len };
    w->pending[1] = (struct iovec){ .iov_base = (void *) raw, .iov_len = raw_len };
    w->npending = raw_len ? 2 : 1;
    return wire_resume(w);
}

int wire_resume(struct wire *w)
{
    if (writev_all(w->fd, w->pending, &w->npending, wire_deadline(w->write_timeout_ms),
                   w->write_yields) < 0)
        return write_failed(w);
    return 0;
}

int wire_send_word(struct wire *w, uint32_t word, uint64_t id)
{
    unsigned char b[12];
    size_t n = 4;

    put32(b, word);
    if (word == FERRY_WORD_SYNC || word == FERRY_WORD_DELIM) {
        put32(b + 4, id >> 32);
        put32(b + 8, id);
        n = 12;
    }
    if (write_all(w->fd, b, n, w->write_timeout_ms) < 0)
        return write_failed(w);
    return 0;
}

int xdr_decode_bytes(const void *buf, size_t len, xdrproc_t fn, void *out)
{
    XDR x;
    bool_t ok;

    xdrmem_create(&x, (char *) buf, len, XDR_DECODE);
    ok = fn(&x, out, 0);
    /* the bytes must be exactly the value: trailing bytes are an error */
    if (ok && xdr_getpos(&x) != len)
        ok = FALSE;
    xdr_destroy(&x);
    if (!ok) {
        /* a decoder that failed halfway has allocated the first half */
        xdr_free(fn, out);
        errno = EBADMSG;
        return -1;
    }
    return 0;
}

int wire_decode(const struct wire_frame *f, xdrproc_t xdr_body, void *body)
{
    return xdr_decode_bytes(f->body, f->body_len, xdr_body, body);
}

int wire_send_chunk(struct wire *w, uint32_t proc, uint32_t serial, enum ferry_chunk_kind kind,
                    uint64_t hole_length, const void *data, size_t len)
{
    struct ferry_header h = ferry_msg_header(proc, FERRY_CHUNK, serial, FERRY_OK);
    struct ferry_chunk_head head = { .kind = kind, .hole_length = hole_length };

    return wire_send(w, &h, (xdrproc_t) xdr_ferry_chunk_head, &head, data, len);
}

int wire_chunk(const struct wire_frame *f, struct ferry_chunk_head *head,
               const unsigned char **data, size_t *len)
{
    XDR x;
    bool_t ok;

    if (f->kind != WIRE_MESSAGE || f->hdr.type != FERRY_CHUNK)
        goto bad;
    xdrmem_create(&x, (char *) f->body, f->body_len, XDR_DECODE);
    ok = xdr_ferry_chunk_head(&x, head);
    xdr_destroy(&x);
    if (!ok || head->kind > FERRY_CHUNK_BAD ||
        (head->hole_length && head->kind != FERRY_CHUNK_HOLE && head->kind != FERRY_CHUNK_BAD))
        goto bad;
    *data = f->body + FERRY_CHUNK_HEAD_SIZE;
    *len = f->body_len - FERRY_CHUNK_HEAD_SIZE;
    if (*len > FERRY_MAX_CHUNK || (*len && head->kind != FERRY_CHUNK_DATA))
        goto bad;
    return 0;
bad:
    errno = EBADMSG;
    return -1;
}
