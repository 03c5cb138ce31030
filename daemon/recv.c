/* recv.c: a file coming in as chunks: DATA is written, HOLE skipped (or
 * written as zeros into a pipe), END closes the file, CANCEL abandons it.
 *
 * Under TCG the guest kernel's page-cache work dominates writes as it does
 * reads, so a regular file is written with O_DIRECT: data is gathered in
 * an aligned buffer and written in whole blocks. What cannot be written
 * that way (a tail that is not a whole block, a hole that leaves the
 * offset unaligned, a filesystem that refuses) is written buffered, and
 * direct writing stays off for the rest of the file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

#define ALIGN 4096
#define STAGE (1u << 20)

struct writer {
    int fd;
    bool seekable, direct;
    unsigned char *stage; /* aligned; holds len bytes meant for offset at */
    size_t len;
    uint64_t at;
    uint64_t pos; /* where the next byte goes */
};

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

/* Stop writing direct: everything staged is written buffered first. */
static int stop_direct(struct writer *w)
{
    direct_off(w->fd);
    w->direct = false;
    if (pwrite_all(w->fd, w->stage, w->len, w->at) < 0)
        return -1;
    w->at += w->len;
    w->len = 0;
    return 0;
}

/* Write the staged whole blocks direct; with `all`, the tail too (which
 * ends direct writing unless there is none). */
static int flush(struct writer *w, bool all)
{
    size_t whole = w->len / ALIGN * ALIGN;

    if (whole && pwrite_all(w->fd, w->stage, whole, w->at) < 0)
        return errno == EINVAL ? stop_direct(w) : -1; /* refused: buffered from here */
    memmove(w->stage, w->stage + whole, w->len - whole);
    w->len -= whole;
    w->at += whole;
    return all && w->len ? stop_direct(w) : 0;
}

static int data(struct writer *w, const unsigned char *p, size_t len)
{
    if (!w->direct)
        return w->seekable ? pwrite_all(w->fd, p, len, w->pos) : write_all(w->fd, p, len, -1);
    memcpy(w->stage + w->len, p, len);
    w->len += len;
    return w->len >= STAGE ? flush(w, false) : 0;
}

static int hole(struct writer *w, uint64_t len)
{
    if (w->direct && flush(w, true) < 0)
        return -1;
    if (!w->seekable)
        return write_zeros(w->fd, len);
    if (w->direct) {
        w->at = w->pos + len;
        if (w->at % ALIGN)
            return stop_direct(w);
    }
    return 0;
}

int recv_fd(struct call *c, int fd, bool seekable, uint64_t *received)
{
    static unsigned char *stage;
    struct writer w = { .fd = fd, .seekable = seekable };
    struct wire_frame f;
    struct ferry_chunk_head head;
    const unsigned char *p;
    size_t len;

    if (seekable && !d.no_direct && !stage)
        stage = aligned_alloc(ALIGN, STAGE + FERRY_MAX_CHUNK + ALIGN);
    w.stage = stage;
    w.direct = seekable && stage && !d.no_direct && direct_on(fd);
    for (;;) {
        int r = wire_read_frame(&d.w, &f);
        if (r < 0 || f.kind != WIRE_MESSAGE || f.hdr.type != FERRY_CHUNK ||
            f.hdr.serial != c->serial || wire_chunk(&f, &head, &p, &len) < 0) {
            call_interrupted(c, &f, r);
            return -1;
        }
        switch (head.kind) {
        case FERRY_CHUNK_DATA:
            if (data(&w, p, len) < 0)
                return call_fail_errno(c, errno, "write");
            w.pos += len;
            break;
        case FERRY_CHUNK_HOLE:
            if (head.hole_length > (uint64_t) INT64_MAX - w.pos)
                return call_fail(c, EFBIG, "hole beyond the largest file size");
            if (hole(&w, head.hole_length) < 0)
                return call_fail_errno(c, errno, "write");
            w.pos += head.hole_length;
            break;
        case FERRY_CHUNK_END:
            c->closed = true;
            if (w.direct && flush(&w, true) < 0)
                return call_fail_errno(c, errno, "write");
            if (seekable && ftruncate(fd, w.pos) < 0)
                return call_fail_errno(c, errno, "truncate");
            *received = w.pos;
            return 0;
        case FERRY_CHUNK_CANCEL:
            c->closed = true;
            return call_fail(c, ECANCELED, "cancelled by the client");
        case FERRY_CHUNK_BAD:
            /* only a download may carry unreadable ranges */
            c->lost = true;
            return call_fail(c, EPROTO, "an unreadable range in an upload");
        }
    }
}
