/* tsk.c: the appliance's window on deleted files, through The Sleuth Kit's
 * library (Debian's libtsk.a, linked statically: Debian's fls and icat
 * need 30 MB of shared libraries for image formats the appliance never
 * sees). ferryd runs it on a device of the guest:
 *
 *   tsk list DEVICE DIR [-r]   deleted names in DIR (a path from the
 *                              filesystem's root), below it with -r
 *   tsk cat DEVICE INODE       what can be recovered of an inode's content,
 *                              as icat -r gives it
 *
 * list writes one record per name (orphan files under $OrphanFiles too, as
 * fls lists them): fields separated by spaces, a tab, the name's path below
 * DIR, a NUL (a name may hold any other byte):
 *   INODE KNOWN MODE UID GID SIZE ATIME ANSEC MTIME MNSEC CTIME CNSEC BTIME BNSEC LS
 * LS is the mode as fls -m writes it: the name's type, '/', the inode's
 * type and permissions ("r/rrw-r--r--").
 * KNOWN is 1 when the inode still holds this file's metadata (it is not
 * allocated to another file), and the numbers after MODE are then its own;
 * MODE's type comes from the name either way. Errors go to stderr, exit 1;
 * a filesystem the Sleuth Kit does not read, exit 3. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tsk/libtsk.h>
#include <unistd.h>

#define LIST_LIMIT_S 600
#define CAT_LIMIT_S 3600

/* The image layer's other formats (AFF, EWF, VHD, VMDK) would pull in
 * their libraries; this program opens devices, which are raw. */
TSK_IMG_INFO *aff_open(const TSK_TCHAR *const images[], unsigned int ssize);
TSK_IMG_INFO *ewf_open(int n, const TSK_TCHAR *const images[], unsigned int ssize);
TSK_IMG_INFO *vhdi_open(int n, const TSK_TCHAR *const images[], unsigned int ssize);
TSK_IMG_INFO *vmdk_open(int n, const TSK_TCHAR *const images[], unsigned int ssize);

static TSK_IMG_INFO *not_here(void)
{
    tsk_error_reset();
    tsk_error_set_errno(TSK_ERR_IMG_UNSUPTYPE);
    return NULL;
}

TSK_IMG_INFO *aff_open(const TSK_TCHAR *const images[], unsigned int ssize)
{
    (void) images, (void) ssize;
    return not_here();
}

TSK_IMG_INFO *ewf_open(int n, const TSK_TCHAR *const images[], unsigned int ssize)
{
    (void) n, (void) images, (void) ssize;
    return not_here();
}

TSK_IMG_INFO *vhdi_open(int n, const TSK_TCHAR *const images[], unsigned int ssize)
{
    (void) n, (void) images, (void) ssize;
    return not_here();
}

TSK_IMG_INFO *vmdk_open(int n, const TSK_TCHAR *const images[], unsigned int ssize)
{
    (void) n, (void) images, (void) ssize;
    return not_here();
}

static int fail(const char *what)
{
    const char *why = tsk_error_get();
    fprintf(stderr, "%s: %s\n", what, why ? why : "the Sleuth Kit failed");
    return 1;
}

static unsigned type_bits(TSK_FS_NAME_TYPE_ENUM t)
{
    switch (t) {
    case TSK_FS_NAME_TYPE_FIFO:
        return S_IFIFO;
    case TSK_FS_NAME_TYPE_CHR:
        return S_IFCHR;
    case TSK_FS_NAME_TYPE_DIR:
        return S_IFDIR;
    case TSK_FS_NAME_TYPE_BLK:
        return S_IFBLK;
    case TSK_FS_NAME_TYPE_LNK:
        return S_IFLNK;
    case TSK_FS_NAME_TYPE_SOCK:
        return S_IFSOCK;
    default:
        return S_IFREG; /* regular, or unknown: recovered as bytes */
    }
}

static TSK_WALK_RET_ENUM deleted(TSK_FS_FILE *f, const char *path, void *opaque)
{
    const TSK_FS_NAME *n = f->name;
    const TSK_FS_META *m = f->meta;

    (void) opaque;
    if (!n || !n->name || !(n->flags & TSK_FS_NAME_FLAG_UNALLOC) || !strcmp(n->name, ".") ||
        !strcmp(n->name, ".."))
        return TSK_WALK_CONT;
    /* a name whose inode now belongs to another file: only its number */
    int known = m && !(m->flags & TSK_FS_META_FLAG_ALLOC) && m->addr == n->meta_addr;
    unsigned mode = type_bits(n->type) | (known ? (m->mode & 07777) : 0);
    char ls[16] = "----------";
    if (known)
        tsk_fs_meta_make_ls(m, ls, sizeof ls);
    const char *ntype = n->type < TSK_FS_NAME_TYPE_STR_MAX ? tsk_fs_name_type_str[n->type] : "-";
    printf("%" PRIuINUM " %d %u %u %u %" PRIu64 " %lld %u %lld %u %lld %u %lld %u %s/%s\t%s%s%c",
           n->meta_addr, known, mode, known ? (unsigned) m->uid : 0, known ? (unsigned) m->gid : 0,
           known ? (uint64_t) m->size : 0, known ? (long long) m->atime : 0,
           known ? m->atime_nano : 0, known ? (long long) m->mtime : 0, known ? m->mtime_nano : 0,
           known ? (long long) m->ctime : 0, known ? m->ctime_nano : 0,
           known ? (long long) m->crtime : 0, known ? m->crtime_nano : 0, ntype, ls,
           path ? path : "", n->name, 0);
    return ferror(stdout) ? TSK_WALK_ERROR : TSK_WALK_CONT;
}

static int list(TSK_FS_INFO *fs, const char *dir, int recursive)
{
    TSK_INUM_T inum = fs->root_inum;

    if (strcmp(dir, "/") != 0 && tsk_fs_path2inum(fs, dir, &inum, NULL) != 0) {
        fprintf(stderr, "%s: not found by the Sleuth Kit\n", dir);
        return 1;
    }
    int flags = TSK_FS_DIR_WALK_FLAG_UNALLOC | (recursive ? TSK_FS_DIR_WALK_FLAG_RECURSE : 0);
    if (tsk_fs_dir_walk(fs, inum, (TSK_FS_DIR_WALK_FLAG_ENUM) flags, deleted, NULL))
        return fail(dir);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "list") && strcmp(argv[1], "cat"))) {
        fprintf(stderr, "usage: tsk list DEVICE DIR [-r] | tsk cat DEVICE INODE\n");
        return 2;
    }
    /* a crafted filesystem must not keep it (and the call) going for ever:
     * a listing is metadata alone; content may be large */
    alarm(!strcmp(argv[1], "list") ? LIST_LIMIT_S : CAT_LIMIT_S);
    TSK_IMG_INFO *img = tsk_img_open_sing(argv[2], TSK_IMG_TYPE_RAW, 0);
    if (!img)
        return fail(argv[2]);
    TSK_FS_INFO *fs = tsk_fs_open_img(img, 0, TSK_FS_TYPE_DETECT);
    if (!fs) { /* 3: a filesystem it does not know (xfs, btrfs): no error of the image's */
        fail("the Sleuth Kit cannot read this filesystem");
        return 3;
    }
    if (!strcmp(argv[1], "list"))
        return list(fs, argv[3], argc > 4 && !strcmp(argv[4], "-r"));
    char *end;
    unsigned long long inum = strtoull(argv[3], &end, 10);
    if (*end || inum < fs->first_inum || inum > fs->last_inum) {
        fprintf(stderr, "inode %s: not on this filesystem (%" PRIuINUM "-%" PRIuINUM ")\n", argv[3],
                fs->first_inum, fs->last_inum);
        return 1;
    }
    if (tsk_fs_icat(fs, inum, (TSK_FS_ATTR_TYPE_ENUM) 0, 0, 0, 0, TSK_FS_FILE_WALK_FLAG_NONE))
        return fail("recovering the inode's content");
    return fflush(stdout) == 0 ? 0 : 1;
}
