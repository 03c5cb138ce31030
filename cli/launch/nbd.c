/* nbd.c: the little of the NBD protocol ferry speaks: the fixed newstyle
 * handshake with NBD_OPT_GO (and the old NBD_OPT_EXPORT_NAME), simple
 * replies, reads only. qemu's nbd client reads an E01's media through the
 * server; `ferry verify` reads it through the client, and so do direct
 * reads of an image qemu exports (export.c).
 *
 * The peer is qemu (confined, but it has parsed the image) or ferry
 * itself: every length it sends is bounded before anything is read into
 * a buffer, and a peer that breaks the protocol is dropped. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launch/nbd.h"
#include "wire.h" /* write_all, deadlines */

#define NBD_MAGIC 0x4e42444d41474943ull      /* "NBDMAGIC" */
#define NBD_OPTS_MAGIC 0x49484156454f5054ull /* "IHAVEOPT" */
#define NBD_REP_MAGIC 0x0003e889045565a9ull
#define NBD_REQUEST_MAGIC 0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698u

#define NBD_FLAG_FIXED_NEWSTYLE 1u
#define NBD_FLAG_NO_ZEROES 2u
#define NBD_FLAG_HAS_FLAGS 1u
#define NBD_FLAG_READ_ONLY 2u

enum { OPT_EXPORT_NAME = 1, OPT_ABORT = 2, OPT_INFO = 6, OPT_GO = 7 };
#define REP_ACK 1u
#define REP_INFO 3u
#define REP_ERR_UNSUP 0x80000001u
#define REP_ERR_INVALID 0x80000003u
enum { INFO_EXPORT = 0, INFO_BLOCK_SIZE = 3 };
enum { CMD_READ = 0, CMD_DISC = 2 };

/* An option's data is a name and a few info requests: anything longer is
 * not a client of ours. */
#define NBD_MAX_OPTION 4096
/* Options before the export is chosen: a client that never chooses is
 * dropped rather than answered for ever. */
#define NBD_MAX_OPTIONS 32

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, v >> 32);
    put32(p + 4, v);
}

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t) get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t) get32(p) << 32 | get32(p + 4);
}

/* Exactly len bytes, or -1 (EOF is -1 with errno 0). */
static int read_all(int fd, void *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = read(fd, (char *) buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            return -1;
        }
        got += n;
    }
    return 0;
}

/* ---- the server */

static int option_reply(int fd, uint32_t opt, uint32_t type, const void *data, uint32_t len)
{
    unsigned char h[20];

    put64(h, NBD_REP_MAGIC);
    put32(h + 8, opt);
    put32(h + 12, type);
    put32(h + 16, len);
    return write_all(fd, h, sizeof h, -1) < 0 || (len && write_all(fd, data, len, -1) < 0) ? -1 : 0;
}

static const uint16_t transmission_flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY;

/* NBD_OPT_INFO and NBD_OPT_GO: the export's size and flags, and the block
 * sizes (always sent: qemu then splits its requests to fit). The name is
 * not looked at: there is one export. */
static int info_reply(int fd, uint32_t opt, const unsigned char *data, uint32_t len,
                      const struct nbd_export *e)
{
    unsigned char export[12], sizes[14];
    /* a name's length, the name, a count of info requests, the requests */
    uint32_t name = len >= 6 ? get32(data) : 0;

    if (len < 6 || name > len - 6 || get16(data + 4 + name) * 2u != len - 6 - name)
        return option_reply(fd, opt, REP_ERR_INVALID, NULL, 0);
    put16(export, INFO_EXPORT);
    put64(export + 2, e->size);
    put16(export + 10, transmission_flags);
    put16(sizes, INFO_BLOCK_SIZE);
    put32(sizes + 2, 1);
    put32(sizes + 6, e->preferred);
    put32(sizes + 10, NBD_MAX_READ);
    if (option_reply(fd, opt, REP_INFO, export, sizeof export) < 0 ||
        option_reply(fd, opt, REP_INFO, sizes, sizeof sizes) < 0)
        return -1;
    return option_reply(fd, opt, REP_ACK, NULL, 0);
}

/* The options, until one chooses the export: 0 (transmission follows), or
 * -1 (the client left or broke the protocol). */
static int negotiate(int fd, const struct nbd_export *e)
{
    unsigned char h[18], flags[4], data[NBD_MAX_OPTION];
    bool no_zeroes;

    put64(h, NBD_MAGIC);
    put64(h + 8, NBD_OPTS_MAGIC);
    put16(h + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
    if (write_all(fd, h, 18, -1) < 0 || read_all(fd, flags, 4) < 0)
        return -1;
    if (!(get32(flags) & NBD_FLAG_FIXED_NEWSTYLE) || get32(flags) & ~3u)
        return -1;
    no_zeroes = get32(flags) & NBD_FLAG_NO_ZEROES;
    for (int i = 0; i < NBD_MAX_OPTIONS; i++) {
        unsigned char o[16];
        if (read_all(fd, o, 16) < 0 || get64(o) != NBD_OPTS_MAGIC || get32(o + 12) > sizeof data)
            return -1;
        uint32_t opt = get32(o + 8), len = get32(o + 12);
        if (read_all(fd, data, len) < 0)
            return -1;
        switch (opt) {
        case OPT_EXPORT_NAME: {
            unsigned char r[10 + 124] = { 0 };
            put64(r, e->size);
            put16(r + 8, transmission_flags);
            return write_all(fd, r, no_zeroes ? 10 : sizeof r, -1);
        }
        case OPT_ABORT:
            option_reply(fd, opt, REP_ACK, NULL, 0);
            return -1;
        case OPT_INFO:
        case OPT_GO:
            if (info_reply(fd, opt, data, len, e) < 0)
                return -1;
            if (opt == OPT_GO)
                return 0;
            break;
        default: /* structured replies, meta contexts, TLS, lists: not here */
            if (option_reply(fd, opt, REP_ERR_UNSUP, NULL, 0) < 0)
                return -1;
        }
    }
    return -1;
}

static int simple_reply(int fd, uint32_t error, const unsigned char *handle)
{
    unsigned char r[16];

    put32(r, NBD_SIMPLE_REPLY_MAGIC);
    put32(r + 4, error);
    memcpy(r + 8, handle, 8);
    return write_all(fd, r, sizeof r, -1);
}

int nbd_serve(int fd, const struct nbd_export *e, int wake)
{
    unsigned char *buf;
    int r = -1;

    if (negotiate(fd, e) < 0 || !(buf = malloc(NBD_MAX_READ)))
        return -1;
    for (;;) {
        struct pollfd p[2] = { { fd, POLLIN, 0 }, { wake, POLLIN, 0 } };
        if (poll(p, wake >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (wake >= 0 && p[1].revents) {
            r = 1;
            break;
        }
        unsigned char q[28];
        if (read_all(fd, q, sizeof q) < 0 || get32(q) != NBD_REQUEST_MAGIC)
            break;
        uint16_t type = get16(q + 6);
        uint64_t off = get64(q + 16);
        uint32_t len = get32(q + 24);
        if (type == CMD_DISC) {
            r = 0;
            break;
        }
        if (type != CMD_READ) {
            /* a write would be followed by its data: nothing to answer */
            break;
        }
        if (len > NBD_MAX_READ || off > e->size || len > e->size - off) {
            if (simple_reply(fd, EINVAL, q + 8) < 0)
                break;
            continue;
        }
        int err = len ? e->read(e->opaque, buf, len, off) : 0;
        if (simple_reply(fd, err, q + 8) < 0 || (!err && write_all(fd, buf, len, -1) < 0))
            break;
    }
    free(buf);
    return r;
}

/* ---- the client */

/* Exactly len bytes from the socket fd within ms (-1: no limit): 0, or
 * -1 with errno (0 at the end, ETIMEDOUT, EINTR: a signal came, and the
 * only ones ferry catches stop it). What has arrived is taken before
 * poll is asked. */
static int receive(int fd, void *buf, size_t len, int ms)
{
    int64_t deadline = wire_deadline(ms);

    for (size_t got = 0; got < len;) {
        ssize_t n = recv(fd, (char *) buf + got, len - got, MSG_DONTWAIT);
        if (n > 0) {
            got += n;
            continue;
        }
        if (n == 0)
            return errno = 0, -1;
        if (errno != EAGAIN)
            return -1;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, wire_left_ms(deadline));
        if (r <= 0)
            return errno = r == 0 ? ETIMEDOUT : errno, -1;
    }
    return 0;
}

int nbd_client_open(int fd, const char *name, uint64_t *size, int ms)
{
    size_t namelen = strlen(name);
    unsigned char h[18], o[16 + 4 + NBD_MAX_NAME + 2 + 2], r[20], data[NBD_MAX_OPTION];

    if (namelen > NBD_MAX_NAME)
        return errno = EINVAL, -1;
    if (receive(fd, h, 18, ms) < 0 || get64(h) != NBD_MAGIC || get64(h + 8) != NBD_OPTS_MAGIC ||
        !(get16(h + 16) & NBD_FLAG_FIXED_NEWSTYLE) || !(get16(h + 16) & NBD_FLAG_NO_ZEROES))
        goto broken;
    put32(h, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
    put64(o, NBD_OPTS_MAGIC);
    put32(o + 8, OPT_GO);
    put32(o + 12, 4 + namelen + 2 + 2);
    put32(o + 16, namelen);
    memcpy(o + 20, name, namelen);
    put16(o + 20 + namelen, 1);
    put16(o + 22 + namelen, INFO_BLOCK_SIZE);
    if (write_all(fd, h, 4, -1) < 0 || write_all(fd, o, 24 + namelen, -1) < 0)
        return -1;
    bool sized = false;
    for (int i = 0; i < NBD_MAX_OPTIONS; i++) {
        if (receive(fd, r, sizeof r, ms) < 0 || get64(r) != NBD_REP_MAGIC ||
            get32(r + 8) != OPT_GO || get32(r + 16) > sizeof data ||
            receive(fd, data, get32(r + 16), ms) < 0)
            goto broken;
        uint32_t type = get32(r + 12), len = get32(r + 16);
        if (type == REP_ACK) {
            if (!sized)
                goto broken;
            return 0;
        }
        if (type != REP_INFO)
            goto broken;
        if (len >= 12 && get16(data) == INFO_EXPORT) {
            *size = get64(data + 2);
            sized = true;
        }
    }
broken:
    if (errno != ETIMEDOUT && errno != EINTR)
        errno = EBADMSG;
    return -1;
}

int nbd_client_ask(int fd, uint32_t len, uint64_t off, uint64_t *handle, int ms)
{
    static uint64_t handles;
    unsigned char q[28];

    if (len > NBD_MAX_READ)
        return errno = EINVAL, -1;
    *handle = ++handles;
    put32(q, NBD_REQUEST_MAGIC);
    put16(q + 4, 0);
    put16(q + 6, CMD_READ);
    put64(q + 8, *handle);
    put64(q + 16, off);
    put32(q + 24, len);
    return write_all(fd, q, sizeof q, ms);
}

/* The errors NBD defines; anything else a server says is EIO. */
static int nbd_errno(uint32_t e)
{
    switch (e) {
    case EPERM:
    case EIO:
    case ENOMEM:
    case EINVAL:
    case ENOSPC:
    case EOVERFLOW:
    case ENOTSUP:
    case ESHUTDOWN:
        return e;
    default:
        return EIO;
    }
}

int nbd_client_answer(int fd, uint64_t *handle, int ms)
{
    unsigned char r[16];

    if (receive(fd, r, sizeof r, ms) < 0)
        return -1;
    if (get32(r) != NBD_SIMPLE_REPLY_MAGIC)
        return errno = EBADMSG, -1;
    *handle = get64(r + 8);
    return get32(r + 4) ? nbd_errno(get32(r + 4)) : 0;
}

int nbd_client_take(int fd, void *buf, uint32_t len, int ms)
{
    return receive(fd, buf, len, ms);
}

int nbd_client_read(int fd, void *buf, uint32_t len, uint64_t off, int ms)
{
    uint64_t asked, got;
    int err;

    if (nbd_client_ask(fd, len, off, &asked, ms) < 0 || (err = nbd_client_answer(fd, &got, ms)) < 0)
        return -1;
    if (got != asked)
        return errno = EBADMSG, -1;
    return err ? err : nbd_client_take(fd, buf, len, ms);
}

void nbd_client_close(int fd)
{
    unsigned char q[28] = { 0 };

    put32(q, NBD_REQUEST_MAGIC);
    put16(q + 6, CMD_DISC);
    send(fd, q, sizeof q, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}
