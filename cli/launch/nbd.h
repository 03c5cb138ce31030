/* nbd.h: as much of the NBD protocol as ferry needs: a read-only server
 * of one export on a connected socket (qemu's nbd client is the other
 * end), and a client of that server (ferry verify reads through it) and
 * of qemu's (export.c). */
#ifndef FERRY_NBD_H
#define FERRY_NBD_H

#include <stdint.h>

/* The largest read served at once: the server says so (NBD_INFO_BLOCK_SIZE)
 * and qemu splits bigger requests; it bounds the server's buffer. */
#define NBD_MAX_READ (4u << 20)

struct nbd_export {
    uint64_t size;
    uint32_t preferred; /* the block size reads are best made in */
    /* len bytes at off (within size, len <= NBD_MAX_READ) into buf:
     * 0, or the errno the client is told (EIO) */
    int (*read)(void *opaque, void *buf, uint32_t len, uint64_t off);
    void *opaque;
};

/* Serve the connection fd: the handshake, then reads, until the client
 * disconnects (0), breaks the protocol or goes away (-1), or `wake`
 * becomes readable between two requests (1: the caller has news). */
int nbd_serve(int fd, const struct nbd_export *e, int wake);

/* The client: the handshake for the export `name`, which learns its
 * size (0, or -1 with errno), then reads: 0, the server's errno for the
 * range (EIO), or -1 when the connection broke (errno 0 at its end,
 * EBADMSG: the server broke the protocol, ETIMEDOUT, or EINTR: ferry is
 * interrupted). A server's errno is one NBD defines (else EIO). Each waits at
 * most ms for the server (-1: no limit). close: the disconnection. */
#define NBD_MAX_NAME 64
int nbd_client_open(int fd, const char *name, uint64_t *size, int ms);
int nbd_client_read(int fd, void *buf, uint32_t len, uint64_t off, int ms);
void nbd_client_close(int fd);
/* A read in parts, so that several may be in flight: ask (0 and the
 * request's handle, or -1; on a non-blocking fd, within ms), then for each answer in the order the server
 * sends them: the handle it answers and the server's errno (0), or -1;
 * when 0, take its len bytes (0, or -1). */
int nbd_client_ask(int fd, uint32_t len, uint64_t off, uint64_t *handle, int ms);
int nbd_client_answer(int fd, uint64_t *handle, int ms);
int nbd_client_take(int fd, void *buf, uint32_t len, int ms);

#endif
