/* transfer.h: local ends of transfers, shared by the commands that move
 * files: where downloaded data goes, where uploaded data comes from. */
#ifndef FERRY_TRANSFER_H
#define FERRY_TRANSFER_H

#include "ferry.h"

/* A command whose reader went away: main() ends like a program killed by
 * SIGPIPE, after shutting the appliance down. */
#define EXIT_PIPE 141

struct sink {
    int fd;
    bool seekable;           /* a regular file: holes are seeked over */
    off_t start;
    uint64_t pos;
};
void sink_init(struct sink *k, int fd);
int sink_write(void *sink, const void *buf, size_t len);   /* struct xfer's data */
int sink_skip(void *sink, uint64_t len);                   /* struct xfer's hole */
int sink_finish(struct sink *k);

struct source {
    int fd;
    bool seekable;
    uint64_t pos, size, data_end;
};
void source_init(struct source *src, int fd);
ssize_t source_read(void *opaque, void *buf, size_t len, uint64_t *hole);

/* progress.c: a one-line bar on stderr, when it is a terminal and the
 * transfer lasts more than a second */
struct progress_bar {
    bool on, shown;
    double start, drawn;
};
void progress_begin(struct session *s, struct progress_bar *p);
void progress_end(struct session *s, struct progress_bar *p);

/* compress.c: a stream compressed on its way to fd (tar-out --compress) */
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
enum compress_kind { COMPRESS_NONE, COMPRESS_ZSTD, COMPRESS_GZIP, COMPRESS_XZ };
struct compressor {
    enum compress_kind kind;
    int fd;
    ZSTD_CCtx *zstd;
    z_stream gz;
    lzma_stream xz;
    unsigned char out[1 << 16];
};
int compressor_init(struct compressor *c, const char *kind, int fd);   /* none zstd gzip xz */
int compressor_write(struct compressor *c, const void *buf, size_t len);
int compressor_finish(struct compressor *c);
void compressor_free(struct compressor *c);
const char *compression_for(const char *file);   /* from .tar.zst, .tgz... or NULL */

/* Create PATH.ferry-partial-XXXXXX, registered for removal on failure. */
int open_aside(const char *path, char **tmp);
mode_t current_umask(void);

#endif
