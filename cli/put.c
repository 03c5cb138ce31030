/* put.c: upload: a local file (or stdin) into the image. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transfer.h"

void source_init(struct source *src, int fd)
{
    struct stat st;

    memset(src, 0, sizeof *src);
    src->fd = fd;
    src->seekable = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    src->size = src->seekable ? (uint64_t) st.st_size : 0;
}

/* Regular files travel as their data extents and holes between them. */
ssize_t source_read(void *opaque, void *buf, size_t len, uint64_t *hole)
{
    struct source *src = opaque;
    size_t got = 0;

    if (ferry_interrupted) {
        errno = EINTR;   /* cancel the upload: the old file stays */
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
        off_t data = lseek(src->fd, src->pos, SEEK_DATA);
        if (data < 0 && errno != ENXIO)
            data = src->pos;   /* no SEEK_DATA here: all of it is data */
        if (data < 0 || (uint64_t) data >= src->size) {
            *hole = src->size - src->pos;
            src->pos = src->size;
            return 0;
        }
        if ((uint64_t) data > src->pos) {
            *hole = data - src->pos;
            src->pos = data;
            return 0;
        }
        off_t end = lseek(src->fd, data, SEEK_HOLE);
        src->data_end = end < 0 ? src->size : (uint64_t) end;
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

mode_t current_umask(void)
{
    mode_t m = umask(022);
    umask(m);
    return m;
}

int cmd_upload(struct session *s, int argc, char **argv)
{
    struct source src;
    struct progress_bar p;
    ferry_transfer_ret r;
    struct xfer x = { .read = source_read, .opaque = &src };
    int fd, ret;
    struct stat st;

    if (argc != 3)
        die(EXIT_USAGE, "usage: ferry upload LOCAL|- REMOTE");
    if (strcmp(argv[1], "-") == 0) {
        fd = 0;
    } else if ((fd = open(argv[1], O_RDONLY | O_CLOEXEC)) < 0) {
        warnx_("upload: %s: %s", argv[1], strerror(errno));
        return EXIT_FAILED;
    }
    ferry_upload_args a = {
        .path = argv[2],
        .mode = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_mode & 07777
                                                           : 0666 & ~current_umask(),
    };
    source_init(&src, fd);
    x.total = src.size;
    progress_begin(s, &p);
    ret = rpc_upload(&s->cl, &a, &r, &x);
    progress_end(s, &p);
    if (fd != 0)
        close(fd);
    if (ret < 0) {
        if (s->cl.remote || s->cl.broken)
            return call_failed(s);
        warnx_("upload: %s: %s", argv[1], s->cl.msg);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}
