/* transfer.h: the local ends of transfers: where a download's bytes go,
 * where an upload's come from. Each end gives the RPC client its struct
 * xfer callbacks. */
#ifndef FERRY_TRANSFER_H
#define FERRY_TRANSFER_H

#include <lzma.h>
#include <stdbool.h>
#include <sys/types.h>
#include <zlib.h>
#include <zstd.h>

#include "rpc/client.h"

/* ---- sink.c ---- */
/* Ranges of a file the appliance could not read (download --zero-unreadable). */
struct bad_range {
    uint64_t offset, length;
};
struct bad_ranges {
    struct bad_range *v;
    size_t n, cap;
};
void bad_ranges_free(struct bad_ranges *b);

/* A file descriptor: holes are seeked over in a regular file (zeros into
 * a pipe); unreadable ranges become zeros and are listed in `bad`. A
 * transfer stops when ferry is interrupted (SIGINT, SIGTERM). */
struct sink {
    int fd;
    bool seekable;
    off_t start;
    uint64_t pos;
    struct bad_ranges bad;
    bool no_copy; /* the kernel cannot copy into fd (sink_copy) */
};
void sink_init(struct sink *k, int fd);
struct xfer sink_xfer(struct sink *k, bool zeros_for_bad);
int sink_finish(struct sink *k); /* a file ending in a hole gets its length */

/* Memory: the first `cap` bytes of a file; then the transfer is cancelled
 * (the client then fails with ECANCELED, which is no error here). */
struct membuf {
    char *buf;
    size_t len, cap;
};
struct xfer membuf_xfer(struct membuf *m);

/* ---- digest.c: a download hashed on the host as it arrives (holes as zeros) ---- */
/* OpenSSL's digests by their own functions: its EVP layer would link in the
 * providers, which need glibc; these link with musl and use SHA-NI. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>
#include <openssl/sha.h>
struct digest {
    int alg; /* ferry_checksum_alg */
    union {
        MD5_CTX md5;
        SHA_CTX sha1;
        SHA256_CTX sha256;
        SHA512_CTX sha512;
    } u;
};
void digest_init(struct digest *d, int alg);
void digest_update(struct digest *d, const void *buf, size_t len);
struct xfer digest_xfer(struct digest *d);
/* The digest in lowercase hex; d is used up. */
void digest_hex(struct digest *d, char *hex, size_t size);

/* ---- direct.c ---- */
struct session;
/* A file's bytes into x: as chunks through the appliance, or, where it
 * says they lie plainly on a raw image, read from the image here. 0, or
 * -1 with s->cl's err and msg set (call_failed says it). */
int file_download(struct session *s, ferry_download_args *a, const struct xfer *x);
/* Image i when the host can read the disk the appliance sees itself: a
 * raw image, nothing behind it. Its descriptor and size, or -1. */
int direct_image(int i, uint64_t *size);
/* The disks (bit i: image i) the host reads itself, for a call's
 * direct_disks; 0 with --no-direct. */
uint32_t direct_disks(struct session *s);
/* Smaller files come as chunks: the extents would cost the guest as much. */
#define DIRECT_MIN (64u << 10)
/* size bytes of a file where dv (a guest's answer, checked first against
 * the images in `asked`) says they lie, into x. 0, or -1 with errno
 * (EPROTO: the extents lie outside the image; EIO with *bad_at set: the
 * file's first byte that could not be read, else UINT64_MAX), or -2
 * (ENXIO) before any byte: the disk's export was given up since it was
 * offered. */
int direct_read(struct session *s, const char *path, const ferry_direct *dv, uint64_t size,
                uint32_t asked, const struct xfer *x, uint64_t *bad_at);
/* A session lends a joining command its raw images' descriptors. */
void direct_adopt(int i, int fd);

/* ---- source.c ---- */
struct source {
    int fd;
    bool seekable; /* a regular file: its holes travel as holes */
    uint64_t pos, size, data_end;
};
void source_init(struct source *src, int fd, bool keep_holes);
struct xfer source_xfer(struct source *src);

#include "signals.h" /* ferry_interrupted: a transfer stops at a signal */

/* ---- compress.c: a stream compressed on its way to fd (tar-out) ---- */
enum compress_kind { COMPRESS_NONE, COMPRESS_ZSTD, COMPRESS_GZIP, COMPRESS_XZ };
struct compressor {
    enum compress_kind kind;
    int fd;
    ZSTD_CCtx *zstd;
    z_stream gz;
    lzma_stream xz;
    unsigned char out[1 << 16];
};
extern const char *const compressions[];                             /* zstd gzip xz, then NULL */
int compressor_init(struct compressor *c, const char *kind, int fd); /* none or one above */
int compressor_write(struct compressor *c, const void *buf, size_t len);
int compressor_finish(struct compressor *c);
void compressor_free(struct compressor *c);
const char *compression_for(const char *file); /* from .tar.zst, .tgz... or NULL */
struct xfer compressor_xfer(struct compressor *c);

/* ---- archive.c: a tar archive (pax, GNU sparse) written by libarchive ---- */
struct archive;
struct archive_entry;
struct tar_writer {
    struct archive *a;
    struct archive_entry *entry;
    struct xfer out;  /* where the archive goes */
    uint64_t written; /* bytes of archive so far */
    uint64_t left;    /* of the entry's bytes */
    bool closed;
    int err;
    char msg[256];
};
int tar_open(struct tar_writer *w, const struct xfer *out);
/* The next entry. name: its name in the archive; link: a symlink's
 * target; hardlink: the name it is another link of (no bytes follow), or
 * NULL; data: where a regular file's ndata ranges of data lie, the rest
 * holes (ndata -1: all of it is data). 0, or -1 with w->msg set. */
int tar_header(struct tar_writer *w, const char *name, const struct ferry_stat *st,
               const char *link, const char *hardlink, const ferry_range *data, int ndata);
/* Where the entry's bytes go: exactly the size in its header. */
struct xfer tar_data_xfer(struct tar_writer *w);
/* The entry is complete: all the bytes its header said came, or -1. */
int tar_end_entry(struct tar_writer *w);
/* An archive cut short, whose reader must not take it for whole: a block
 * no tar reads as a header, straight to the output. */
int tar_poison(struct tar_writer *w);
int tar_close(struct tar_writer *w); /* the archive's end */
/* Freed; an archive not closed gets no end: it cannot pass for whole. */
void tar_free(struct tar_writer *w);

#endif
