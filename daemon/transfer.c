/* transfer.c: a file in transit as chunks, both ways.
 *
 * Sending: holes (SEEK_HOLE) go as HOLE chunks, data as DATA chunks of
 * d.chunk_size; between chunks a CANCEL word (or a sync) from the client
 * stops the transfer. The dispatcher sends the closing END or CANCEL chunk.
 * Receiving: chunks are written as they come; an END closes the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

/* Aligned for O_DIRECT reads. */
static unsigned char *buffer(void)
{
    static unsigned char *buf;

    if (!buf)
        buf = aligned_alloc(4096, FERRY_MAX_CHUNK);
    return buf;
}

/* Under TCG the guest kernel's per-page work of the page cache dominates a
 * cold read. Reading with O_DIRECT skips it: qemu copies the disk's data
 * straight into our buffer. Offsets and lengths must then be multiples of
 * the disk's logical block size; a file or filesystem that refuses gets
 * buffered reads. */
#define DIRECT_ALIGN 4096

static bool try_direct(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
}

static void stop_direct(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_DIRECT);
}

static int64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Between chunks: did the client say anything? */
static int check_peer(struct call *c)
{
    struct wire_frame f;
    int r = wire_input_pending(&d.w);

    if (r <= 0)
        return 0;
    r = wire_read_frame(&d.w, &f);
    if (r == 0 && f.kind == WIRE_CANCEL)
        return call_fail(c, ECANCELED, "cancelled by the client");
    call_interrupted(c, &f, r);
    return -1;
}

static int chunk(struct call *c, enum ferry_chunk_kind kind, uint64_t hole,
                 const void *data, size_t len)
{
    if (check_peer(c) < 0)
        return -1;
    if (wire_send_chunk(&d.w, c->proc, c->serial, kind, hole, data, len) < 0) {
        c->dead = true;
        return call_fail(c, errno, "%s", d.w.error);
    }
    return 0;
}

struct progress {
    bool on;
    uint64_t total;
    int64_t next;
};

static void progress(struct call *c, struct progress *p, uint64_t pos)
{
    int64_t t;

    if (!p->on || (t = now_ms()) < p->next)
        return;
    p->next = t + d.progress_ms;
    struct ferry_header h = {
        .prog = FERRY_PROGRAM_ID, .vers = FERRY_PROTOCOL_VERSION,
        .proc = FERRY_EVENT_PROGRESS, .type = FERRY_EVENT, .serial = c->serial,
    };
    struct ferry_progress ev = { .position = pos, .total = p->total };
    if (wire_send(&d.w, &h, (xdrproc_t) xdr_ferry_progress, &ev, NULL, 0) < 0)
        c->dead = true;
}

void call_keepalive(struct call *c)
{
    static int64_t last;
    int64_t t = now_ms();

    if (t - last < 1000)
        return;
    last = t;
    struct ferry_header h = {
        .prog = FERRY_PROGRAM_ID, .vers = FERRY_PROTOCOL_VERSION,
        .proc = FERRY_EVENT_PROGRESS, .type = FERRY_EVENT, .serial = c->serial,
    };
    struct ferry_progress ev = { 0, 0 };
    if (wire_send(&d.w, &h, (xdrproc_t) xdr_ferry_progress, &ev, NULL, 0) < 0)
        c->dead = true;
}

int send_data(struct call *c, const void *data, size_t len)
{
    return chunk(c, FERRY_CHUNK_DATA, 0, data, len);
}

/* Where the data at or after pos ends: the next hole, or `total`. With no
 * data left, *data_at is set to total. */
static void next_extent(int fd, uint64_t pos, uint64_t total, uint64_t *data_at, uint64_t *end)
{
    off_t dpos = lseek(fd, pos, SEEK_DATA);
    off_t hpos;

    if (dpos < 0) {
        /* ENXIO: only a hole is left; other errors: treat all as data */
        *data_at = errno == ENXIO ? total : pos;
        *end = total;
        return;
    }
    *data_at = dpos;
    hpos = lseek(fd, dpos, SEEK_HOLE);
    *end = hpos < 0 ? total : (uint64_t) hpos;
}

int send_fd(struct call *c, int fd, bool seekable, uint64_t total, bool want_progress,
            uint64_t *sent)
{
    unsigned char *buf = buffer();
    struct progress p = { .on = want_progress, .total = total, .next = now_ms() + d.progress_ms };
    uint64_t pos = 0, data_at = 0, end = 0;   /* end: of the data extent at pos */

    if (!buf)
        return call_fail(c, ENOMEM, "out of memory");
    bool direct = seekable && !d.no_direct && try_direct(fd);
    for (;;) {
        if (seekable && pos >= end) {
            if (pos >= total)
                break;
            next_extent(fd, pos, total, &data_at, &end);
            if (data_at > pos) {
                if (chunk(c, FERRY_CHUNK_HOLE, data_at - pos, NULL, 0) < 0)
                    return -1;
                pos = data_at;
            }
            continue;
        }
        size_t want = d.chunk_size;
        if (seekable && end - pos < want)
            want = end - pos;
        if (direct && (pos % DIRECT_ALIGN || want % DIRECT_ALIGN)) {
            /* a tail (or an odd extent): read it whole, rounded up */
            if (pos % DIRECT_ALIGN) {
                stop_direct(fd);
                direct = false;
            } else {
                want = (want + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN;
            }
        }
        ssize_t n = seekable ? pread(fd, buf, want, pos) : read(fd, buf, want);
        if (n < 0 && errno == EINVAL && direct) {
            stop_direct(fd);
            direct = false;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (seekable && (uint64_t) n > end - pos)
            n = end - pos;    /* a rounded-up read past the extent */
        if (n < 0)
            return call_fail_errno(c, errno, "read at offset %llu", (unsigned long long) pos);
        if (n == 0)
            break;   /* the file may have shrunk under us; what we sent is what there was */
        if (send_data(c, buf, n) < 0)
            return -1;
        pos += n;
        progress(c, &p, pos);
        if (c->dead)
            return -1;
    }
    *sent = pos;
    return 0;
}

static int write_zeros(int fd, uint64_t len)
{
    static const unsigned char zeros[65536];

    while (len > 0) {
        size_t n = len < sizeof zeros ? len : sizeof zeros;
        if (write_all(fd, zeros, n, -1) < 0)
            return -1;
        len -= n;
    }
    return 0;
}

static int pwrite_all(int fd, const unsigned char *p, size_t len, uint64_t pos)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= n;
        pos += n;
    }
    return 0;
}

/* Writing an upload with O_DIRECT, for the same reason as reading: data
 * is gathered in an aligned buffer and written in whole blocks. A tail that
 * is not a whole block, a hole that leaves the offset unaligned, or a
 * filesystem that refuses, turns direct writing off for the rest. */
struct direct_out {
    bool on;
    unsigned char *buf;      /* aligned; holds len bytes meant for offset at */
    size_t len;
    uint64_t at;
};

#define DIRECT_STAGE (1u << 20)

static int stage_flush(struct direct_out *o, int fd, bool all)
{
    size_t whole = o->len / DIRECT_ALIGN * DIRECT_ALIGN;

    if (whole && pwrite_all(fd, o->buf, whole, o->at) < 0) {
        if (errno != EINVAL)
            return -1;
        stop_direct(fd);       /* refused: write buffered from here on */
        o->on = false;
        if (pwrite_all(fd, o->buf, whole, o->at) < 0)
            return -1;
    }
    memmove(o->buf, o->buf + whole, o->len - whole);
    o->len -= whole;
    o->at += whole;
    if (all && o->len) {
        stop_direct(fd);
        o->on = false;
        if (pwrite_all(fd, o->buf, o->len, o->at) < 0)
            return -1;
        o->at += o->len;
        o->len = 0;
    }
    return 0;
}

int recv_fd(struct call *c, int fd, bool seekable, uint64_t *received)
{
    static unsigned char *stage;
    uint64_t pos = 0;
    struct wire_frame f;
    struct ferry_chunk_head head;
    const unsigned char *data;
    size_t len;
    struct direct_out o = { 0 };

    if (seekable && !d.no_direct && !stage)
        stage = aligned_alloc(DIRECT_ALIGN, DIRECT_STAGE + FERRY_MAX_CHUNK + DIRECT_ALIGN);
    o.buf = stage;
    o.on = seekable && stage && !d.no_direct && try_direct(fd);
    for (;;) {
        int r = wire_read_frame(&d.w, &f);
        if (r < 0 || f.kind != WIRE_MESSAGE || f.hdr.type != FERRY_CHUNK ||
            f.hdr.serial != c->serial || wire_chunk(&f, &head, &data, &len) < 0) {
            call_interrupted(c, &f, r);
            return -1;
        }
        switch (head.kind) {
        case FERRY_CHUNK_DATA:
            if (o.on) {
                memcpy(o.buf + o.len, data, len);
                o.len += len;
                if (o.len >= DIRECT_STAGE && stage_flush(&o, fd, false) < 0)
                    return call_fail_errno(c, errno, "write");
            } else if ((seekable ? pwrite_all(fd, data, len, pos) : write_all(fd, data, len, -1)) < 0) {
                return call_fail_errno(c, errno, "write");
            }
            pos += len;
            break;
        case FERRY_CHUNK_HOLE:
            if (head.hole_length > UINT64_MAX - pos || pos + head.hole_length > INT64_MAX)
                return call_fail(c, EFBIG, "hole beyond the largest file size");
            if (o.on && (stage_flush(&o, fd, true) < 0))
                return call_fail_errno(c, errno, "write");
            if (!seekable && write_zeros(fd, head.hole_length) < 0)
                return call_fail_errno(c, errno, "write");
            pos += head.hole_length;
            if (o.on)
                o.at = pos;
            if (o.on && pos % DIRECT_ALIGN) {
                stop_direct(fd);
                o.on = false;
            }
            break;
        case FERRY_CHUNK_END:
            c->closed = true;
            if (o.on && stage_flush(&o, fd, true) < 0)
                return call_fail_errno(c, errno, "write");
            if (seekable && ftruncate(fd, pos) < 0)
                return call_fail_errno(c, errno, "truncate");
            *received = pos;
            return 0;
        case FERRY_CHUNK_CANCEL:
            c->closed = true;
            return call_fail(c, ECANCELED, "cancelled by the client");
        }
    }
}
