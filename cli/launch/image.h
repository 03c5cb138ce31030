/* image.h: disk image files: which format each is, and every other file
 * it names. qemu is given only what ferry opened and checked. */
#ifndef FERRY_IMAGE_H
#define FERRY_IMAGE_H

#include <stdbool.h>
#include <string.h>

/* Every format ferry opens, for --format: raw and the common ones, then
 * those whose qemu drivers are rarely used (opened only when named). */
extern const char *const image_formats[];
bool image_format_rare(const char *format);

#define IMAGE_MAX_EXTENTS 64
#define IMAGE_MAX_CHAIN 16

/* One file qemu is given: an image, or a file an image names. */
struct image_file {
    char *path;                 /* as ferry opened it */
    const char *format;         /* raw, qcow2, ... */
    int fd;                     /* opened by ferry; qemu gets a copy */
    bool block;                 /* a block device */
    struct image_file *backing; /* the image this one is an overlay of */
    struct image_file *data;    /* a qcow2's external data file (raw) */
    /* A VMDK descriptor names its extents, and qemu opens them by path
     * (relative to the descriptor): it is given the descriptor by path too,
     * and may open exactly these files (Landlock). */
    int nextents;
    char *extents[IMAGE_MAX_EXTENTS];
    /* An E01 is read by a server of ferry's (ewf.c); qemu connects to it. */
    struct ewf_server *ewf;
};

/* Open an image as ferry will hand it to qemu (an E01's server is started:
 * call it before any thread): its format from --format
 * or from its first bytes (never qemu's probing), and the files it names.
 * An image that names another file is refused, with the reason, unless
 * `external`; then each file named is opened too (and ferry says so).
 * NULL with the reason reported. */
struct image_file *image_open(const char *path, const char *format, bool rw, bool external,
                              bool verbose);
void image_free(struct image_file *f);
/* The guest's disk is the file's own bytes: raw, nothing behind it. The
 * host reads such a disk with pread; any other through qemu (export.c). */
static inline bool image_plain(const struct image_file *f)
{
    return !strcmp(f->format, "raw") && !f->backing && !f->data && !f->nextents && !f->ewf;
}

#endif
