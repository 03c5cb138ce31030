/* direct.c: a file's bytes read from the image on the host, where the
 * appliance said they lie (a download answered with extents). Under TCG
 * every byte that passes through the guest costs; here they cost a pread
 * of a raw image, or a read of qemu's NBD export of any other image's disk
 * (launch/export.c), at the host's speed.
 *
 * The extents come from the guest, which an image may control: before a
 * byte is read, every one is checked to lie in order inside the file, on
 * the device, and the device inside the image. A lie can at most show the
 * image's own bytes, which the user has anyway; a read that fails or
 * finds the image shorter is an error, never zeros. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/transfer.h"
#include "launch/image.h"
#include "launch/nbd.h"
#include "launch/session.h"
#include "output/output.h"
#include "signals.h"

/* What is read at once: no more than an NBD read may be. What failed is
 * read again in blocks, as the guest reads it. */
#define BLOCK 4096u
#define PIECE (4u << 20)
/* From qemu's export, two of these in flight: 1 MiB pieces took a 256 MiB
 * download from a qcow2 in 0.68 s against 1.27 s with 4 MiB ones (medians
 * of 9, interleaved; 512 KiB: 0.69 s), with a quarter of the memory. */
#define EXPORT_PIECE (1u << 20)
_Static_assert(EXPORT_PIECE <= NBD_MAX_READ, "a piece is one NBD read");

static int adopted[MAX_IMAGES]; /* lent by a session: descriptor + 1 */

void direct_adopt(int i, int fd)
{
    if (i >= 0 && i < MAX_IMAGES)
        adopted[i] = fd + 1;
}

/* The descriptor of image i when qemu shows the guest its bytes as they
 * are, or -1. */
static int raw_fd(int i)
{
    const struct image_file *f = launch_image(i);

    if (i < 0 || i >= MAX_IMAGES)
        return -1;
    if (!f)
        return adopted[i] - 1;
    return image_plain(f) ? f->fd : -1;
}

int direct_image(int i, uint64_t *size)
{
    int fd = raw_fd(i);
    struct stat st;

    if (fd < 0 || fstat(fd, &st) < 0)
        return -1;
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, size) < 0)
            return -1;
    } else if (S_ISREG(st.st_mode)) {
        *size = st.st_size;
    } else {
        return -1;
    }
    return fd;
}

/* Where the host reads disk i: the image (raw), or qemu's export of it. */
struct disk {
    int i, fd;
    bool nbd;
    uint64_t size;
};

static int disk_open(struct session *s, int i, struct disk *d)
{
    d->i = i;
    d->nbd = false;
    if ((d->fd = direct_image(i, &d->size)) >= 0)
        return 0;
    if (s->joined || (d->fd = launch_export(s, i, &d->size)) < 0)
        return -1;
    d->nbd = true;
    return 0;
}

uint32_t direct_disks(struct session *s)
{
    struct disk d;
    uint32_t disks = 0;

    if (s->no_direct || !(s->cl.capabilities & FERRY_CAP_EXTENTS))
        return 0;
    for (int i = 0; i < s->nimages && i < 26; i++)
        if (disk_open(s, i, &d) == 0)
            disks |= 1u << i;
    return disks;
}

/* The extents, checked: in order, inside the file and the device, the
 * device inside disk d (one of those `asked`). 0, -1 (a lie), or -2: the
 * disk was offered, but its export has been given up since. */
static int checked(struct session *s, const ferry_direct *dv, uint64_t size, uint32_t asked,
                   struct disk *d)
{
    uint64_t end = 0;
    int i = strlen(dv->disk) == 3 && !strncmp(dv->disk, "sd", 2) ? dv->disk[2] - 'a' : -1;

    if (i < 0 || i >= 26 || !(asked & 1u << i))
        return -1;
    if (disk_open(s, i, d) < 0)
        return -2;
    /* a size the host cannot seek to is no file's (as for a hole chunk) */
    if (size > INT64_MAX || dv->offset > d->size || dv->device_size > d->size - dv->offset)
        return -1;
    for (unsigned k = 0; k < dv->extents.extents_len; k++) {
        const ferry_extent *e = &dv->extents.extents_val[k];
        if (e->logical < end || e->length == 0 || e->logical > size ||
            e->length > size - e->logical || e->physical > dv->device_size ||
            e->length > dv->device_size - e->physical)
            return -1;
        end = e->logical + e->length;
    }
    return 0;
}

static int zeros(const struct xfer *x, uint64_t len)
{
    return len ? x->hole(x->opaque, len) : 0;
}

/* The file's first byte that could not be read, in the last direct_read
 * that failed so (EIO). */
static uint64_t unreadable_at;

/* n bytes of disk d at `at` into buf: 0, the errno of a read that
 * failed (EIO: the bytes cannot be had), or -1 when an export's stream
 * broke. */
static int block_read(struct session *s, const struct disk *d, void *buf, size_t n, uint64_t at)
{
    if (d->nbd)
        return nbd_client_read(d->fd, buf, n, at, s->cl.call_timeout_ms);
    ssize_t got = pread(d->fd, buf, n, at);
    return got == (ssize_t) n ? 0 : got < 0 ? errno : EIO; /* shorter: the image shrank */
}

/* A piece whose read failed (EIO), again block by block, as the guest
 * does: the blocks that read go on, the others are zeros where the
 * transfer takes them (--zero-unreadable) or end the file (with
 * unreadable_at). *broke: an export's stream is lost. */
static int salvage(struct session *s, const struct xfer *x, const struct disk *d, uint64_t at,
                   uint64_t len, uint64_t *pos, unsigned char *buf, bool *broke)
{
    while (len) {
        size_t n = BLOCK - at % BLOCK;
        if (n > len)
            n = len;
        int err = block_read(s, d, buf, n, at);
        if (err < 0 || ferry_interrupted) {
            *broke = err < 0;
            return errno = ferry_interrupted ? EINTR : errno ? errno : ECONNRESET, -1;
        }
        if (err && (err != EIO || !x->bad)) {
            unreadable_at = *pos;
            return errno = err, -1;
        }
        if (err ? x->bad(x->opaque, n) < 0 : x->data(x->opaque, buf, n) < 0)
            return -1;
        at += n, len -= n, *pos += n;
    }
    return 0;
}

/* len bytes of qemu's export of disk d at `at`, into the transfer: two
 * pieces asked for at a time, so that qemu reads the next while this one
 * is handed on. A piece that cannot be read (EIO) is read again block by
 * block once the other has come. A stream that broke, or is left with an
 * answer on its way (an error, a signal), is given up: later files come
 * through the guest. */
static int copy_export(struct session *s, const struct xfer *x, const struct disk *d, uint64_t at,
                       uint64_t len, uint64_t *pos, uint64_t size)
{
    enum { FLYING, GOT, FAILED };
    static unsigned char *buf[2];
    uint64_t handle[2], where[2], got;
    uint32_t piece[2];
    int state[2] = { GOT, GOT }, head = 0, flying = 0, ms = s->cl.call_timeout_ms, err = 0;
    bool broke = false;
#define IN_FLIGHT(k) (flying > ((k) != head) && state[k] == FLYING)

    for (int k = 0; k < 2; k++)
        if (!buf[k] && !(buf[k] = malloc(EXPORT_PIECE)))
            return -1;
    while (len || flying) {
        bool failed =
            (flying > 0 && state[head] == FAILED) || (flying > 1 && state[!head] == FAILED);
        for (; flying < 2 && len && !failed; flying++) {
            int k = (head + flying) % 2;
            piece[k] = len < EXPORT_PIECE ? len : EXPORT_PIECE;
            where[k] = at;
            state[k] = FLYING;
            if (nbd_client_ask(d->fd, piece[k], at, &handle[k], ms) < 0) {
                broke = true; /* perhaps half a request */
                goto fail;
            }
            at += piece[k], len -= piece[k];
        }
        if (IN_FLIGHT(head) || IN_FLIGHT(!head)) {
            int k = -1;
            if ((err = nbd_client_answer(d->fd, &got, ms)) >= 0)
                k = IN_FLIGHT(head) && got == handle[head]     ? head
                    : IN_FLIGHT(!head) && got == handle[!head] ? !head
                                                               : -1;
            if (err < 0 || k < 0) {
                err = err < 0 ? 0 : EBADMSG; /* an answer to nothing asked */
                broke = true;
                goto fail;
            }
            state[k] = err ? FAILED : GOT;
            if (err && err != EIO)
                goto fail;
            if (!err && nbd_client_take(d->fd, buf[k], piece[k], ms) < 0) {
                broke = true;
                goto fail;
            }
            err = 0; /* an EIO is the piece's, read again below */
        }
        for (; flying && state[head] != FLYING; head = !head, flying--) {
            if (ferry_interrupted)
                goto fail;
            if (state[head] == FAILED && IN_FLIGHT(!head))
                break; /* the other's answer comes first */
            if (state[head] == FAILED
                    ? salvage(s, x, d, where[head], piece[head], pos, buf[head], &broke) < 0
                    : x->data(x->opaque, buf[head], piece[head]) < 0)
                goto fail;
            if (state[head] == GOT)
                *pos += piece[head];
            if (s->cl.progress)
                s->cl.progress(s->cl.progress_opaque, *pos, size);
        }
    }
    return 0;
fail:
    err = ferry_interrupted ? EINTR : err > 0 ? err : errno ? errno : ECONNRESET;
    if (broke || IN_FLIGHT(head) || IN_FLIGHT(!head))
        launch_export_drop(d->i);
    return errno = err, -1;
#undef IN_FLIGHT
}

/* len bytes of disk d at `at`, into the transfer: from a raw image,
 * copied by the kernel where the other end takes them so, else read here
 * and handed over. */
static int copy(struct session *s, const struct xfer *x, const struct disk *d, uint64_t at,
                uint64_t len, uint64_t *pos, uint64_t size)
{
    static unsigned char *buf;
    bool kernel = x->copy != NULL;

    if (d->nbd)
        return copy_export(s, x, d, at, len, pos, size);
    while (len) {
        size_t want = len < PIECE ? len : PIECE;
        ssize_t n = kernel ? x->copy(x->opaque, d->fd, at, want) : -2;
        if (n < 0 && errno == EIO && kernel)
            n = -2; /* read here, and again in blocks */
        if (n == -2) {
            kernel = false;
            if (!buf && !(buf = malloc(PIECE)))
                return -1;
            n = pread(d->fd, buf, want, at);
            if (n < 0 && errno == EINTR && !ferry_interrupted)
                continue;
            bool broke;
            if (n < 0 && errno == EIO && !ferry_interrupted) {
                if (salvage(s, x, d, at, want, pos, buf, &broke) < 0)
                    return -1;
                at += want, len -= want;
                continue;
            }
            if (n > 0 && !ferry_interrupted && x->data(x->opaque, buf, n) < 0)
                return -1;
        }
        if (ferry_interrupted)
            return errno = EINTR, -1;
        if (n <= 0)
            return errno = n < 0 ? errno : EIO, -1; /* the image is shorter than it was */
        at += n, len -= n, *pos += n;
        if (s->cl.progress)
            s->cl.progress(s->cl.progress_opaque, *pos, size);
    }
    return 0;
}

int direct_read(struct session *s, const char *path, const ferry_direct *dv, uint64_t size,
                uint32_t asked, const struct xfer *x, uint64_t *bad_at)
{
    uint64_t pos = 0;
    struct disk d;

    unreadable_at = *bad_at = UINT64_MAX;
    int c = checked(s, dv, size, asked, &d);
    if (c < 0) /* -2: nothing read, the disk's export given up */
        return errno = c == -2 ? ENXIO : EPROTO, c;
    if (s->verbose)
        report("%s: %llu bytes in %u extents, read directly from the image%s", path,
               (unsigned long long) size, dv->extents.extents_len, d.nbd ? " (qemu's export)" : "");
    for (unsigned k = 0; k < dv->extents.extents_len; k++) {
        const ferry_extent *e = &dv->extents.extents_val[k];
        if (zeros(x, e->logical - pos) < 0)
            return -1;
        pos = e->logical;
        if (e->zeros ? zeros(x, e->length) < 0
                     : copy(s, x, &d, dv->offset + e->physical, e->length, &pos, size) < 0)
            return *bad_at = unreadable_at, -1;
        pos = e->logical + e->length;
    }
    return zeros(x, size - pos);
}

int file_download(struct session *s, ferry_download_args *a, const struct xfer *x)
{
    ferry_transfer_ret r = { 0 };

    uint64_t bad_at;

    a->direct_disks = direct_disks(s);
    a->direct_min = DIRECT_MIN;
again:
    if (rpc_download(&s->cl, a, &r, x) < 0)
        return -1;
    int got = r.direct ? direct_read(s, a->path, r.direct, r.size, a->direct_disks, x, &bad_at) : 0;
    if (got < 0) {
        int err = errno;
        if (got == -2) {
            /* an export given up since the call was made; nothing was
             * read yet: the file again, through the guest */
            xdr_free((xdrproc_t) xdr_ferry_transfer_ret, (char *) &r);
            memset(&r, 0, sizeof r);
            a->direct_disks = 0;
            goto again;
        }
        /* said as the guest path says it: a local failure needs no path */
        if (err == EPROTO)
            snprintf(s->cl.msg, sizeof s->cl.msg,
                     "%s: the appliance placed the file's bytes outside its image", a->path);
        else if (bad_at != UINT64_MAX)
            snprintf(s->cl.msg, sizeof s->cl.msg, "%s: %s at offset %llu", a->path, strerror(err),
                     (unsigned long long) bad_at);
        else if (err == ECONNRESET || err == EBADMSG || err == ETIMEDOUT)
            snprintf(s->cl.msg, sizeof s->cl.msg, "%s: qemu's export of the disk: %s", a->path,
                     strerror(err));
        else
            snprintf(s->cl.msg, sizeof s->cl.msg, "%s", strerror(err));
        s->cl.err = err;
        s->cl.remote = false;
        xdr_free((xdrproc_t) xdr_ferry_transfer_ret, (char *) &r);
        return errno = err, -1;
    }
    xdr_free((xdrproc_t) xdr_ferry_transfer_ret, (char *) &r);
    return 0;
}
