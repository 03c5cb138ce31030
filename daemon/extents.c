/* extents.c: where a file's bytes lie on its disk, for a host that reads
 * the disk itself: a download answered with extents instead of chunks.
 *
 * Only what is certainly plain is offered: a filesystem whose FIEMAP
 * addresses are byte offsets on its device, mounted read-only at the
 * superblock (no page of it can differ from the disk, and a read-only
 * mount here replays no journal), on a whole disk or a partition of one
 * (not a volume: that mapping is the device-mapper's), with every extent
 * neither inline, encoded, encrypted, delayed nor unknown. Anything else
 * goes as chunks, as always. The host checks every number against its
 * image before it reads a byte. */
#include <errno.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "daemon.h"

/* linux/fs.h's, which clashes with musl's limits.h */
#ifndef FS_IOC_FIEMAP
#define FS_IOC_FIEMAP _IOWR('f', 11, struct fiemap)
#endif

/* FIEMAP's physical addresses are offsets on the device for these (not
 * btrfs: its are in its own logical space). vfat has no FIEMAP in 6.1. */
static const char *const plain_fs[] = { "ext2", "ext3", "ext4", "xfs", "ntfs3", NULL };

#define NOT_PLAIN                                                                                  \
    (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED |                      \
     FIEMAP_EXTENT_DATA_ENCRYPTED | FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_DATA_INLINE |        \
     FIEMAP_EXTENT_DATA_TAIL)

#define BATCH 256

/* Is every mount of dev of a plain filesystem, read-only at the
 * superblock? mountinfo: ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS] - TYPE
 * SOURCE SUPEROPTS */
static bool mounted_plainly(dev_t dev)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char *line = NULL, want[32];
    size_t cap = 0;
    bool seen = false, plain = true;

    if (!f)
        return false;
    snprintf(want, sizeof want, "%u:%u", major(dev), minor(dev));
    while (getline(&line, &cap, f) > 0) {
        char id[32], type[32], super[64];
        const char *rest = strstr(line, " - ");
        if (sscanf(line, "%*s %*s %31s", id) != 1 || strcmp(id, want) != 0)
            continue;
        seen = true;
        bool known = false;
        if (rest && sscanf(rest, " - %31s %*s %63s", type, super) == 2)
            for (int i = 0; plain_fs[i] && !known; i++)
                known = !strcmp(type, plain_fs[i]);
        plain = plain && known && (!strcmp(super, "ro") || !strncmp(super, "ro,", 3));
    }
    free(line);
    fclose(f);
    return seen && plain;
}

/* The disk (its serial, "sda"...) holding dev, where dev starts on it and
 * its size: /sys/dev/block/MAJ:MIN is the disk itself, or a partition
 * directory inside the disk's. */
static bool locate(dev_t dev, ferry_direct *dv)
{
    char path[PATH_MAX + 32], real[PATH_MAX], val[64];

    snprintf(path, sizeof path, "/sys/dev/block/%u:%u", major(dev), minor(dev));
    if (!realpath(path, real))
        return false;
    snprintf(path, sizeof path, "%s/size", real);
    sysfs_read(path, val, sizeof val);
    dv->device_size = strtoull(val, NULL, 10) * 512;
    snprintf(path, sizeof path, "%s/partition", real);
    if (access(path, F_OK) == 0) {
        snprintf(path, sizeof path, "%s/start", real);
        sysfs_read(path, val, sizeof val);
        if (!val[0])
            return false;
        dv->offset = strtoull(val, NULL, 10) * 512;
        snprintf(path, sizeof path, "%s/../serial", real);
    } else {
        dv->offset = 0;
        snprintf(path, sizeof path, "%s/serial", real);
    }
    sysfs_read(path, val, sizeof val);
    if (strlen(val) != 3 || strncmp(val, "sd", 2) != 0 || val[2] < 'a' || val[2] > 'z')
        return false; /* not one of the host's images (a volume, an empty slot) */
    dv->disk = strdup(val);
    return dv->disk && dv->device_size > 0;
}

static bool add(ferry_direct *dv, const struct fiemap_extent *e, uint64_t size, unsigned max)
{
    ferry_extent *x;

    if (dv->extents.extents_len >= max)
        return false;
    if (dv->extents.extents_len % BATCH == 0) {
        void *grown = realloc(dv->extents.extents_val,
                              (dv->extents.extents_len + BATCH) * sizeof(ferry_extent));
        if (!grown)
            return false;
        dv->extents.extents_val = grown;
    }
    x = &dv->extents.extents_val[dv->extents.extents_len++];
    x->logical = e->fe_logical;
    x->physical = e->fe_physical;
    /* the last block goes past the end of the file */
    x->length = e->fe_length < size - e->fe_logical ? e->fe_length : size - e->fe_logical;
    x->zeros = (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) != 0;
    return true;
}

/* Every extent of the file, in order; false if any is not plain. */
static bool map(int fd, uint64_t size, unsigned max, ferry_direct *dv)
{
    struct fiemap *fm = calloc(1, sizeof *fm + BATCH * sizeof(struct fiemap_extent));
    uint64_t next = 0; /* the file's bytes before this are mapped */
    bool ok = fm != NULL, last = false;

    while (ok && !last && next < size) {
        fm->fm_start = next;
        fm->fm_length = size - next;
        fm->fm_flags = FIEMAP_FLAG_SYNC;
        fm->fm_extent_count = BATCH;
        fm->fm_mapped_extents = 0;
        if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0)
            ok = false;
        if (!ok || fm->fm_mapped_extents == 0)
            break;
        for (unsigned i = 0; ok && !last && i < fm->fm_mapped_extents; i++) {
            const struct fiemap_extent *e = &fm->fm_extents[i];
            last = e->fe_flags & FIEMAP_EXTENT_LAST;
            if (e->fe_logical >= size) {
                last = true; /* blocks kept beyond the end */
                break;
            }
            ok = !(e->fe_flags & NOT_PLAIN) && e->fe_length > 0 && e->fe_logical >= next &&
                 add(dv, e, size, max);
            next = e->fe_logical + e->fe_length;
        }
    }
    free(fm);
    return ok;
}

ferry_direct *file_direct(int fd, uint64_t size, uint32_t disks, unsigned max,
                          struct placement *known)
{
    struct placement here = { 0 }, *p = known ? known : &here;
    struct stat st;
    ferry_direct *dv = NULL;

    if (!d.appliance || !disks || fstat(fd, &st) < 0)
        return NULL;
    if (!p->known || p->dev != st.st_dev) {
        free(p->where.disk);
        *p = (struct placement){ .known = true, .dev = st.st_dev };
        p->plain = mounted_plainly(st.st_dev) && locate(st.st_dev, &p->where);
    }
    if (!p->plain || !(disks & 1u << (p->where.disk[2] - 'a')) || !(dv = calloc(1, sizeof *dv)) ||
        !(dv->disk = strdup(p->where.disk))) {
        free(dv);
        free(here.where.disk);
        return NULL;
    }
    dv->offset = p->where.offset;
    dv->device_size = p->where.device_size;
    free(here.where.disk);
    if (!map(fd, size, max < FERRY_MAX_EXTENTS ? max : FERRY_MAX_EXTENTS, dv)) {
        xdr_free((xdrproc_t) xdr_ferry_direct, (char *) dv);
        free(dv);
        return NULL;
    }
    for (unsigned i = 0; d.test_lie && i < dv->extents.extents_len; i++)
        dv->extents.extents_val[i].physical += dv->device_size; /* the host must refuse */
    return dv;
}

void placement_forget(struct placement *p)
{
    free(p->where.disk);
    memset(p, 0, sizeof *p);
}
