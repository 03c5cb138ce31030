/* send.c: a file going out as chunks.
 *
 * Holes (SEEK_HOLE) go as HOLE chunks, data as DATA chunks of d.chunk_size;
 * between chunks a CANCEL word (or a sync) from the client stops the
 * transfer. The dispatcher sends the closing END or CANCEL chunk.
 *
 * A read error is never data. When a read fails, the range it covered is
 * read again block by block: the good blocks before the first bad one go
 * out, then the transfer ends with the error and its offset, or, when the
 * call asked for it, each run of unreadable blocks goes as a BAD chunk (the
 * receiver puts zeros there and lists the range) and the rest follows. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

/* Under TCG the guest kernel's per-page work of the page cache dominates a
 * cold read. Reading with O_DIRECT skips it: qemu copies the disk's data
 * straight into our buffer. Offsets and lengths must then be multiples of
 * the disk's logical block size; a file or filesystem that refuses gets
 * buffered reads. Bad ranges are found and reported in blocks of this size
 * too: a page is what a buffered read fails on. */
#define BLOCK 4096

unsigned char *transfer_buffer(void)
{
    static unsigned char *buf;

    if (!buf)
        buf = aligned_alloc(BLOCK, FERRY_MAX_CHUNK + BLOCK);
    return buf;
}

bool direct_on(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
}

void direct_off(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_DIRECT);
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

static int chunk(struct call *c, enum ferry_chunk_kind kind, uint64_t hole, const void *data,
                 size_t len)
{
    if (check_peer(c) < 0)
        return -1;
    if (wire_send_chunk(&d.w, c->proc, c->serial, kind, hole, data, len) < 0) {
        c->dead = true;
        return call_fail(c, errno, "%s", d.w.error);
    }
    return 0;
}

int send_data(struct call *c, const void *data, size_t len)
{
    return chunk(c, FERRY_CHUNK_DATA, 0, data, len);
}

int send_unreadable(struct call *c, uint64_t len)
{
    return chunk(c, FERRY_CHUNK_BAD, len, NULL, 0);
}

struct sender {
    struct call *c;
    int fd;
    bool seekable, direct, zeros;
    unsigned char *buf;
    uint64_t pos;
    uint64_t bad; /* unreadable bytes at pos - bad, not yet sent */
    bool progress;
    uint64_t total;
    int64_t next_progress;
};

/* Errors that say the bytes themselves cannot be had. */
static bool unreadable(int err)
{
    return err == EIO || err == EBADMSG || err == EUCLEAN || err == ENODATA;
}

static ssize_t read_at(struct sender *s, size_t want)
{
    for (;;) {
        busy_begin(s->c); /* a slow disk, or tar thinking, is not silence */
        ssize_t n = s->seekable ? pread(s->fd, s->buf, want, s->pos) : read(s->fd, s->buf, want);
        int err = errno;
        busy_end(s->c);
        if (n >= 0 || err != EINTR) {
            errno = err;
            return n;
        }
    }
}

static int send_bad(struct sender *s)
{
    if (!s->bad)
        return 0;
    int r = chunk(s->c, FERRY_CHUNK_BAD, s->bad, NULL, 0);
    s->bad = 0;
    return r;
}

/* n good bytes are in the buffer, of the at most `room` that belong here. */
static int send_good(struct sender *s, size_t n, uint64_t room)
{
    if (n > room)
        n = room; /* a read rounded up past the extent */
    if (send_bad(s) < 0 || send_data(s->c, s->buf, n) < 0)
        return -1;
    s->pos += n;
    if (s->progress && wire_now_ms() >= s->next_progress) {
        s->next_progress = wire_now_ms() + d.progress_ms;
        send_progress(s->c, s->pos, s->total);
    }
    return s->c->dead ? -1 : 0;
}

static int fail_at(struct sender *s, int err)
{
    return call_fail(s->c, err, "%s at offset %llu", strerror(err), (unsigned long long) s->pos);
}

/* A read of `len` bytes at pos failed: read them again block by block. */
static int salvage(struct sender *s, uint64_t len)
{
    uint64_t end = s->pos + len;

    while (s->pos < end) {
        uint64_t room = end - s->pos;
        size_t want = BLOCK - s->pos % BLOCK;
        if (want > room)
            want = room;
        size_t asked = s->direct ? BLOCK : want; /* direct: whole blocks */
        ssize_t n = read_at(s, asked);
        if (n < 0 && !unreadable(errno))
            return fail_at(s, errno);
        if (n < 0) {
            if (!s->zeros)
                return send_bad(s) < 0 ? -1 : fail_at(s, errno);
            s->bad += want;
            s->pos += want;
            continue;
        }
        if (n == 0)
            break;
        if (send_good(s, n, want) < 0)
            return -1;
    }
    return send_bad(s);
}

int send_fd(struct call *c, int fd, const struct send_opts *o, uint64_t *sent)
{
    struct sender s = {
        .c = c,
        .fd = fd,
        .seekable = o->seekable,
        .zeros = o->zeros_for_bad,
        .buf = transfer_buffer(),
        .progress = o->progress,
        .total = o->total,
        .next_progress = wire_now_ms() + d.progress_ms,
    };
    uint64_t data_at = 0, end = 0; /* end: of the data extent at pos */

    if (!s.buf)
        return call_fail(c, ENOMEM, "out of memory");
    s.direct = s.seekable && !d.no_direct && direct_on(fd);
    for (;;) {
        if (s.seekable && s.pos >= end) {
            if (s.pos >= o->total)
                break;
            file_next_data(fd, s.pos, o->total, &data_at, &end);
            if (data_at > s.pos) {
                if (chunk(c, FERRY_CHUNK_HOLE, data_at - s.pos, NULL, 0) < 0)
                    return -1;
                s.pos = data_at;
            }
            continue;
        }
        size_t want = d.chunk_size;
        if (s.seekable && end - s.pos < want)
            want = end - s.pos;
        size_t asked = want;
        if (s.direct && s.pos % BLOCK) {
            direct_off(fd); /* an extent that starts mid-block */
            s.direct = false;
        } else if (s.direct) {
            asked = (want + BLOCK - 1) / BLOCK * BLOCK; /* a tail: whole blocks */
        }
        ssize_t n = read_at(&s, asked);
        if (n < 0 && errno == EINVAL && s.direct) {
            direct_off(fd);
            s.direct = false;
            continue;
        }
        if (n < 0 && unreadable(errno) && s.seekable) {
            if (salvage(&s, want) < 0)
                return -1;
            continue;
        }
        if (n < 0)
            return fail_at(&s, errno);
        if (n == 0)
            break; /* the file shrank under us: what we sent is what there was */
        if (send_good(&s, n, s.seekable ? end - s.pos : (uint64_t) n) < 0)
            return -1;
    }
    *sent = s.pos;
    return 0;
}
