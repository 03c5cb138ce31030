/* sink.c: where a download's bytes go: a file descriptor (holes kept,
 * unreadable ranges listed), or a buffer in memory. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/transfer.h"

static int interrupted(void)
{
    if (!ferry_interrupted)
        return 0;
    errno = EINTR; /* cancels the transfer */
    return -1;
}

static int sink_data(void *opaque, const void *buf, size_t len)
{
    struct sink *k = opaque;

    if (interrupted() < 0 || write_all(k->fd, buf, len, -1) < 0)
        return -1;
    k->pos += len;
    return 0;
}

/* Holes stay holes in a regular file; a pipe gets the zeros. */
static int sink_hole(void *opaque, uint64_t len)
{
    static const char zeros[65536];
    struct sink *k = opaque;

    if (interrupted() < 0)
        return -1;
    if (k->seekable) {
        if (lseek(k->fd, len, SEEK_CUR) < 0)
            return -1;
        k->pos += len;
        return 0;
    }
    while (len > 0) {
        size_t n = len < sizeof zeros ? len : sizeof zeros;
        if (sink_data(k, zeros, n) < 0)
            return -1;
        len -= n;
    }
    return 0;
}

/* A file's bytes from the image straight into ours (copy_file_range) or
 * into a pipe (splice): one copy in the kernel instead of two and a pass
 * through user memory. Anything that cannot (a terminal, a socket, the
 * same file) says so once and gets the bytes as data from then on. */
static ssize_t sink_copy(void *opaque, int fd, uint64_t at, size_t len)
{
    struct sink *k = opaque;
    loff_t off = at;
    ssize_t n;

    if (k->no_copy || interrupted() < 0)
        return k->no_copy ? -2 : -1;
    do
        n = k->seekable ? copy_file_range(fd, &off, k->fd, NULL, len, 0)
                        : splice(fd, &off, k->fd, NULL, len, SPLICE_F_MORE);
    while (n < 0 && errno == EINTR && !ferry_interrupted);
    /* EAGAIN: a non-blocking pipe, which write_all waits for */
    if (n < 0 && (errno == EINVAL || errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP ||
                  errno == EBADF || errno == EAGAIN)) {
        k->no_copy = true;
        return -2;
    }
    if (n > 0)
        k->pos += n;
    return n;
}

static int sink_bad(void *opaque, uint64_t len)
{
    struct sink *k = opaque;
    struct bad_ranges *b = &k->bad;

    if (b->n && b->v[b->n - 1].offset + b->v[b->n - 1].length == k->pos) {
        b->v[b->n - 1].length += len; /* one range, sent in pieces */
    } else {
        if (b->n == b->cap) {
            size_t cap = b->cap ? 2 * b->cap : 16;
            struct bad_range *v = realloc(b->v, cap * sizeof *v);
            if (!v)
                return -1;
            b->v = v;
            b->cap = cap;
        }
        b->v[b->n++] = (struct bad_range){ k->pos, len };
    }
    return sink_hole(k, len);
}

void bad_ranges_free(struct bad_ranges *b)
{
    free(b->v);
    memset(b, 0, sizeof *b);
}

void sink_init(struct sink *k, int fd)
{
    struct stat st;

    memset(k, 0, sizeof *k);
    k->fd = fd;
    /* a file open for appending writes at its end whatever the offset: a
     * hole skipped there would move the bytes after it (so: zeros) */
    int fl = fcntl(fd, F_GETFL);
    k->seekable = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && fl >= 0 && !(fl & O_APPEND) &&
                  lseek(fd, 0, SEEK_CUR) >= 0;
    k->start = k->seekable ? lseek(fd, 0, SEEK_CUR) : 0;
}

struct xfer sink_xfer(struct sink *k, bool zeros_for_bad)
{
    return (struct xfer){
        .data = sink_data,
        .hole = sink_hole,
        .bad = zeros_for_bad ? sink_bad : NULL,
        .copy = sink_copy,
        .opaque = k,
    };
}

int sink_finish(struct sink *k)
{
    if (k->seekable && ftruncate(k->fd, k->start + k->pos) < 0)
        return -1;
    return 0;
}

/* ---- memory ---- */

static int mem_data(void *opaque, const void *data, size_t len)
{
    struct membuf *m = opaque;
    size_t n = len < m->cap - m->len ? len : m->cap - m->len;

    memcpy(m->buf + m->len, data, n);
    m->len += n;
    if (m->len == m->cap) {
        errno = ECANCELED; /* enough: cancel the rest */
        return -1;
    }
    return 0;
}

static int mem_hole(void *opaque, uint64_t len)
{
    struct membuf *m = opaque;
    size_t n = len < m->cap - m->len ? len : m->cap - m->len;

    memset(m->buf + m->len, 0, n);
    m->len += n;
    return 0;
}

struct xfer membuf_xfer(struct membuf *m)
{
    return (struct xfer){ .data = mem_data, .hole = mem_hole, .opaque = m };
}
