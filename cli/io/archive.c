/* archive.c: tar archives written on the host by libarchive, from a tree
 * the appliance reads whole (read_tree). GNU tar in the emulated guest made
 * them at about 30 MB/s; here the bytes of most files never pass through
 * the guest at all.
 *
 * The format is POSIX pax: modification times to the nanosecond (an
 * extended header for each entry that has them), names of any length and
 * bytes, and GNU's sparse files (1.0) where the appliance said where the
 * holes are: `tar -x` (GNU or bsdtar) restores them as holes. Owners are
 * numbers (no names: those of the image's own users are not the host's). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "io/transfer.h"

/* Debian's libarchive.a calls this from its pax writer; the one it comes
 * with sits in the file that names every format libarchive writes, which
 * would link in all of them (xar's XML, zip's crypto, 7-zip...). pax
 * refuses only sockets, which tar_header leaves out before. */
void __archive_write_entry_filetype_unsupported(struct archive *a, struct archive_entry *entry,
                                                const char *format);
void __archive_write_entry_filetype_unsupported(struct archive *a, struct archive_entry *entry,
                                                const char *format)
{
    archive_set_error(a, EINVAL, "%s: %s cannot hold a file of mode 0%o",
                      archive_entry_pathname(entry), format, (unsigned) archive_entry_mode(entry));
}

static la_ssize_t out(struct archive *a, void *opaque, const void *buf, size_t len)
{
    struct tar_writer *w = opaque;

    (void) a;
    if (w->out.data(w->out.opaque, buf, len) < 0) {
        w->err = errno ? errno : EIO;
        return -1;
    }
    w->written += len;
    return len;
}

static int failed(struct tar_writer *w)
{
    if (!w->err)
        w->err = archive_errno(w->a) > 0 ? archive_errno(w->a) : EIO;
    snprintf(w->msg, sizeof w->msg, "%s",
             archive_error_string(w->a) ? archive_error_string(w->a) : strerror(w->err));
    errno = w->err;
    return -1;
}

int tar_open(struct tar_writer *w, const struct xfer *to)
{
    memset(w, 0, sizeof *w);
    w->out = *to;
    if (!(w->a = archive_write_new()) || !(w->entry = archive_entry_new()))
        return errno = ENOMEM, -1;
    /* unblocked: each piece goes out as it is made (the compressor buffers
     * anyway), so what a reader has is all that was made */
    if (archive_write_set_format_pax(w->a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(w->a, 0) != ARCHIVE_OK ||
        archive_write_open(w->a, w, NULL, out, NULL) != ARCHIVE_OK)
        return failed(w);
    return 0;
}

int tar_header(struct tar_writer *w, const char *name, const struct ferry_stat *st,
               const char *link, const char *hardlink, const ferry_range *data, int ndata)
{
    struct archive_entry *e = w->entry;

    archive_entry_clear(e);
    archive_entry_copy_pathname(e, name);
    archive_entry_set_mode(e, st->mode);
    archive_entry_set_uid(e, st->uid);
    archive_entry_set_gid(e, st->gid);
    archive_entry_set_mtime(e, st->mtime.sec, st->mtime.nsec);
    if (hardlink) {
        archive_entry_copy_hardlink(e, hardlink);
        archive_entry_set_size(e, 0);
    } else if (S_ISLNK(st->mode)) {
        archive_entry_copy_symlink(e, link);
    } else if (S_ISCHR(st->mode) || S_ISBLK(st->mode)) {
        /* the wire's device numbers: major in the high half */
        archive_entry_set_rdevmajor(e, st->rdev >> 32);
        archive_entry_set_rdevminor(e, st->rdev & 0xffffffff);
    } else if (S_ISREG(st->mode)) {
        archive_entry_set_size(e, st->size);
        /* sparse when there is a hole; a file all hole is one empty block
         * at its end */
        bool dense = ndata < 0 || (ndata == 1 && data[0].offset == 0 && data[0].length == st->size);
        for (int i = 0; !dense && i < ndata; i++)
            archive_entry_sparse_add_entry(e, data[i].offset, data[i].length);
        if (!dense && ndata == 0 && st->size)
            archive_entry_sparse_add_entry(e, st->size, 0);
    }
    w->left = S_ISREG(st->mode) && !hardlink ? st->size : 0;
    int r = archive_write_header(w->a, e);
    /* a warning: a name that is not UTF-8 goes as its bytes (hdrcharset) */
    return r == ARCHIVE_OK || r == ARCHIVE_WARN ? 0 : failed(w);
}

static int data(void *opaque, const void *buf, size_t len)
{
    struct tar_writer *w = opaque;

    if (ferry_interrupted)
        return errno = EINTR, -1;
    if (len > w->left)
        return errno = EBADMSG, -1; /* never more than the header said */
    while (len) {
        la_ssize_t n = archive_write_data(w->a, buf, len);
        if (n <= 0)
            return failed(w);
        buf = (const char *) buf + n;
        len -= n;
        w->left -= n;
    }
    return 0;
}

static int hole(void *opaque, uint64_t len)
{
    static const unsigned char zeros[1 << 16];

    /* the writer leaves a hole's zeros out of the archive, but counts them */
    while (len) {
        size_t n = len < sizeof zeros ? len : sizeof zeros;
        if (data(opaque, zeros, n) < 0)
            return -1;
        len -= n;
    }
    return 0;
}

struct xfer tar_data_xfer(struct tar_writer *w)
{
    return (struct xfer){ .data = data, .hole = hole, .opaque = w };
}

int tar_end_entry(struct tar_writer *w)
{
    if (w->left) {
        /* fewer bytes than its header said: never padded into a file */
        snprintf(w->msg, sizeof w->msg, "%llu bytes of an entry never came",
                 (unsigned long long) w->left);
        return errno = w->err = EBADMSG, -1;
    }
    return archive_write_finish_entry(w->a) == ARCHIVE_OK ? 0 : failed(w);
}

int tar_poison(struct tar_writer *w)
{
    char block[512];

    /* not a header (its checksum field is text): tar -x stops there and
     * fails, where an archive cut between entries would pass for whole */
    memset(block, '!', sizeof block);
    memcpy(block, "ferry: this archive is incomplete\n", 34);
    return w->out.data(w->out.opaque, block, sizeof block);
}

int tar_close(struct tar_writer *w)
{
    w->closed = true;
    return archive_write_close(w->a) == ARCHIVE_OK ? 0 : failed(w);
}

void tar_free(struct tar_writer *w)
{
    if (w->entry)
        archive_entry_free(w->entry);
    if (w->a && !w->closed)
        archive_write_fail(w->a); /* freeing would otherwise close it */
    if (w->a)
        archive_write_free(w->a);
    w->a = NULL;
    w->entry = NULL;
}
