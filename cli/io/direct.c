/* direct.c: a file's bytes read from the image on the host, where the
 * appliance said they lie (a download answered with extents). Under TCG
 * every byte that passes through the guest costs; here they cost a pread.
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
#include "launch/session.h"
#include "output/output.h"
#include "signals.h"

/* Smaller files come as chunks: the extents would cost the guest as much. */
#define PIECE (4u << 20)

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
    return !strcmp(f->format, "raw") && !f->backing && !f->data && !f->nextents ? f->fd : -1;
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

uint32_t direct_disks(struct session *s)
{
    uint64_t size;
    uint32_t disks = 0;

    if (s->no_direct || !(s->cl.capabilities & FERRY_CAP_EXTENTS))
        return 0;
    for (int i = 0; i < s->nimages && i < 26; i++)
        if (direct_image(i, &size) >= 0)
            disks |= 1u << i;
    return disks;
}

/* The extents, checked: in order, inside the file and the device, the
 * device inside image i. The image's descriptor, or -1. */
static int checked(const ferry_direct *dv, uint64_t size, uint32_t asked)
{
    uint64_t image_size, end = 0;
    int i = strlen(dv->disk) == 3 && !strncmp(dv->disk, "sd", 2) ? dv->disk[2] - 'a' : -1;
    int fd = i >= 0 && i < 26 && (asked & 1u << i) ? direct_image(i, &image_size) : -1;

    /* a size the host cannot seek to is no file's (as for a hole chunk) */
    if (fd < 0 || size > INT64_MAX || dv->offset > image_size ||
        dv->device_size > image_size - dv->offset)
        return -1;
    for (unsigned k = 0; k < dv->extents.extents_len; k++) {
        const ferry_extent *e = &dv->extents.extents_val[k];
        if (e->logical < end || e->length == 0 || e->logical > size ||
            e->length > size - e->logical || e->physical > dv->device_size ||
            e->length > dv->device_size - e->physical)
            return -1;
        end = e->logical + e->length;
    }
    return fd;
}

static int zeros(const struct xfer *x, uint64_t len)
{
    return len ? x->hole(x->opaque, len) : 0;
}

/* len bytes of the image at `at`, into the transfer: copied by the kernel
 * where the other end takes them so, else read here and handed over. */
static int copy(struct session *s, const struct xfer *x, int fd, uint64_t at, uint64_t len,
                uint64_t *pos, uint64_t size)
{
    static unsigned char *buf;
    bool kernel = x->copy != NULL;

    while (len) {
        size_t want = len < PIECE ? len : PIECE;
        ssize_t n = kernel ? x->copy(x->opaque, fd, at, want) : -2;
        if (n == -2) {
            kernel = false;
            if (!buf && !(buf = malloc(PIECE)))
                return -1;
            n = pread(fd, buf, want, at);
            if (n < 0 && errno == EINTR && !ferry_interrupted)
                continue;
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
                uint32_t asked, const struct xfer *x)
{
    uint64_t pos = 0;
    int fd = checked(dv, size, asked);

    if (fd < 0)
        return errno = EPROTO, -1;
    if (s->verbose)
        report("%s: %llu bytes in %u extents, read directly from the image", path,
               (unsigned long long) size, dv->extents.extents_len);
    for (unsigned k = 0; k < dv->extents.extents_len; k++) {
        const ferry_extent *e = &dv->extents.extents_val[k];
        if (zeros(x, e->logical - pos) < 0)
            return -1;
        pos = e->logical;
        if (e->zeros ? zeros(x, e->length) < 0
                     : copy(s, x, fd, dv->offset + e->physical, e->length, &pos, size) < 0)
            return -1;
        pos = e->logical + e->length;
    }
    return zeros(x, size - pos);
}

int file_download(struct session *s, ferry_download_args *a, const struct xfer *x)
{
    ferry_transfer_ret r = { 0 };

    a->direct_disks = direct_disks(s);
    a->direct_min = DIRECT_MIN;
    if (rpc_download(&s->cl, a, &r, x) < 0)
        return -1;
    if (r.direct && direct_read(s, a->path, r.direct, r.size, a->direct_disks, x) < 0) {
        int err = errno;
        /* said as the guest path says it: a local failure needs no path */
        if (err == EPROTO)
            snprintf(s->cl.msg, sizeof s->cl.msg,
                     "%s: the appliance placed the file's bytes outside its image", a->path);
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
