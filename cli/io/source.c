/* source.c: where an upload's bytes come from: a regular file, whose data
 * extents and holes travel as they are, or a stream (stdin, a pipe). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/transfer.h"

void source_init(struct source *src, int fd, bool keep_holes)
{
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);

    memset(src, 0, sizeof *src);
    src->fd = fd;
    src->seekable = regular && keep_holes;
    src->size = regular ? (uint64_t) st.st_size : 0;
}

static ssize_t source_read(void *opaque, void *buf, size_t len, uint64_t *hole)
{
    struct source *src = opaque;
    size_t got = 0;

    if (ferry_interrupted) {
        errno = EINTR; /* cancel the upload: the old file stays */
        return -1;
    }
    if (!src->seekable) {
        /* fill the chunk: a pipe hands over a little at a time */
        while (got < len) {
            ssize_t n = read(src->fd, (char *) buf + got, len - got);
            if (n < 0 && errno == EINTR && !ferry_interrupted)
                continue;
            if (n < 0)
                return -1;
            if (n == 0)
                break;
            got += n;
        }
        return got;
    }
    if (src->pos >= src->size)
        return 0;
    if (src->pos >= src->data_end) {
        uint64_t data;
        file_next_data(src->fd, src->pos, src->size, &data, &src->data_end);
        if (data > src->pos) {
            *hole = data - src->pos;
            src->pos = data;
            return 0;
        }
    }
    if (len > src->data_end - src->pos)
        len = src->data_end - src->pos;
    for (;;) {
        ssize_t n = pread(src->fd, buf, len, src->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0)
            src->pos += n;
        return n;
    }
}

struct xfer source_xfer(struct source *src)
{
    return (struct xfer){ .read = source_read, .opaque = src, .total = src->size };
}
