/* compress.c: compressing a stream on its way to a file descriptor, for
 * tar-out --compress: zstd (libzstd), gzip (zlib) or xz (liblzma). The
 * host compresses: it is many times faster than the emulated guest. */
#include <errno.h>
#include <lzma.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "io/transfer.h"

const char *const compressions[] = { "zstd", "gzip", "xz", NULL };

int compressor_init(struct compressor *c, const char *kind, int fd)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    if (!kind || !strcmp(kind, "none")) {
        c->kind = COMPRESS_NONE;
    } else if (!strcmp(kind, "zstd")) {
        c->kind = COMPRESS_ZSTD;
        if (!(c->zstd = ZSTD_createCCtx()))
            return -1;
        ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, 3);
        ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_checksumFlag, 1);
    } else if (!strcmp(kind, "gzip")) {
        c->kind = COMPRESS_GZIP;
        /* 15 + 16: a gzip wrapper around deflate */
        if (deflateInit2(&c->gz, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return -1;
    } else if (!strcmp(kind, "xz")) {
        c->kind = COMPRESS_XZ;
        lzma_stream init = LZMA_STREAM_INIT;
        c->xz = init;
        if (lzma_easy_encoder(&c->xz, 6, LZMA_CHECK_CRC64) != LZMA_OK)
            return -1;
    } else {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/* A compression's name from a file name's ending, or NULL. */
const char *compression_for(const char *file)
{
    static const struct {
        const char *end, *kind;
    } ends[] = {
        { ".tar.zst", "zstd" }, { ".tzst", "zstd" }, { ".tar.gz", "gzip" },
        { ".tgz", "gzip" },     { ".tar.xz", "xz" }, { ".txz", "xz" },
    };
    size_t n = strlen(file);

    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        size_t e = strlen(ends[i].end);
        if (n > e && !strcmp(file + n - e, ends[i].end))
            return ends[i].kind;
    }
    return NULL;
}

static int flush_out(struct compressor *c, size_t n)
{
    return n ? write_all(c->fd, c->out, n, -1) : 0;
}

/* Feed len bytes (finish: len 0 and the end of the stream). */
static int run(struct compressor *c, const void *buf, size_t len, bool finish)
{
    switch (c->kind) {
    case COMPRESS_NONE:
        return len ? write_all(c->fd, buf, len, -1) : 0;
    case COMPRESS_ZSTD: {
        ZSTD_inBuffer in = { buf, len, 0 };
        for (;;) {
            ZSTD_outBuffer out = { c->out, sizeof c->out, 0 };
            size_t left =
                ZSTD_compressStream2(c->zstd, &out, &in, finish ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(left) || flush_out(c, out.pos) < 0)
                return errno = ZSTD_isError(left) ? EIO : errno, -1;
            if (finish ? left == 0 : in.pos == in.size)
                return 0;
        }
    }
    case COMPRESS_GZIP:
        c->gz.next_in = (unsigned char *) buf;
        c->gz.avail_in = len;
        for (;;) {
            c->gz.next_out = c->out;
            c->gz.avail_out = sizeof c->out;
            int r = deflate(&c->gz, finish ? Z_FINISH : Z_NO_FLUSH);
            if (r == Z_STREAM_ERROR || flush_out(c, sizeof c->out - c->gz.avail_out) < 0)
                return errno = r == Z_STREAM_ERROR ? EIO : errno, -1;
            if (finish ? r == Z_STREAM_END : c->gz.avail_in == 0 && c->gz.avail_out != 0)
                return 0;
        }
    case COMPRESS_XZ:
        c->xz.next_in = buf;
        c->xz.avail_in = len;
        for (;;) {
            c->xz.next_out = c->out;
            c->xz.avail_out = sizeof c->out;
            lzma_ret r = lzma_code(&c->xz, finish ? LZMA_FINISH : LZMA_RUN);
            if ((r != LZMA_OK && r != LZMA_STREAM_END) ||
                flush_out(c, sizeof c->out - c->xz.avail_out) < 0)
                return errno = (r != LZMA_OK && r != LZMA_STREAM_END) ? EIO : errno, -1;
            if (finish ? r == LZMA_STREAM_END : c->xz.avail_in == 0 && c->xz.avail_out != 0)
                return 0;
        }
    }
    return 0;
}

int compressor_write(struct compressor *c, const void *buf, size_t len)
{
    return run(c, buf, len, false);
}

int compressor_finish(struct compressor *c)
{
    return run(c, NULL, 0, true);
}

void compressor_free(struct compressor *c)
{
    if (c->kind == COMPRESS_ZSTD)
        ZSTD_freeCCtx(c->zstd);
    else if (c->kind == COMPRESS_GZIP)
        deflateEnd(&c->gz);
    else if (c->kind == COMPRESS_XZ)
        lzma_end(&c->xz);
}

static int compress_data(void *opaque, const void *buf, size_t len)
{
    if (ferry_interrupted) {
        errno = EINTR;
        return -1;
    }
    return compressor_write(opaque, buf, len);
}

static int no_holes(void *opaque, uint64_t len)
{
    (void) opaque;
    (void) len;
    errno = EBADMSG; /* an archive is a stream: it has no holes */
    return -1;
}

struct xfer compressor_xfer(struct compressor *c)
{
    return (struct xfer){ .data = compress_data, .hole = no_holes, .opaque = c };
}
