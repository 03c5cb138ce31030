/* tsk.c: the appliance's window on deleted files, through The Sleuth Kit's
 * library (Debian's libtsk.a, linked statically: Debian's fls and icat
 * need 30 MB of shared libraries for image formats the appliance never
 * sees). ferryd runs it on a device of the guest:
 *
 *   tsk list DEVICE DIR [-r] [--inode N]
 *                              deleted names in DIR (a path from the
 *                              filesystem's root; N the inode the kernel
 *                              gives it, checked where the numbers agree),
 *                              below it with -r
 *   tsk cat DEVICE INODE [TYPE ID]
 *                              what can be recovered of an inode's content
 *                              (of one attribute, NTFS's TYPE-ID), as icat
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tsk/libtsk.h>
#include <unistd.h>

#define LIST_LIMIT_S 600
/* a path below the listed directory, as ferry's protocol carries it */
#define PATH_LIMIT 4096
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

/* The walk: one directory at a time (the Sleuth Kit's own recursion joins
 * names with '/' as they are, so a crafted name holding one would pass for
 * a path). Each name is written with '/' as \x2f and '\' as \\. */
struct walk {
    char path[PATH_LIMIT + 1]; /* below the listed directory, escaped */
    size_t len;
    int recursive;
    size_t nsub, capsub, capname; /* the subdirectories met in this directory */
    TSK_INUM_T *sub;
    char **subname;
    TSK_INUM_T *seen; /* directories entered: no loop in a crafted tree */
    size_t nseen, capseen;
    unsigned long skipped; /* names whose path is longer than PATH_LIMIT */
};

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    void *p = realloc(*v, (*cap ? *cap * 2 : 64) * size);
    if (!p)
        return -1;
    *v = p;
    *cap = *cap ? *cap * 2 : 64;
    return 0;
}

/* name, escaped, after the current path; its length, or 0 if too long */
static size_t join(struct walk *w, const char *name, char *out)
{
    size_t o = w->len;

    memcpy(out, w->path, w->len);
    if (o)
        out[o++] = '/';
    for (const char *p = name; *p; p++) {
        const char *e = *p == '/' ? "\\x2f" : *p == '\\' ? "\\\\" : NULL;
        size_t n = e ? strlen(e) : 1;
        if (o + n > PATH_LIMIT)
            return 0;
        memcpy(out + o, e ? e : p, n);
        o += n;
    }
    out[o] = '\0';
    return o;
}

static void record(const TSK_FS_NAME *n, const TSK_FS_META *m, const char *path)
{
    /* a name whose inode now belongs to another file: only its number */
    int known = m && !(m->flags & TSK_FS_META_FLAG_ALLOC) && m->addr == n->meta_addr;
    unsigned mode = type_bits(n->type) | (known ? (m->mode & 07777) : 0);
    char ls[16] = "----------";
    if (known)
        tsk_fs_meta_make_ls(m, ls, sizeof ls);
    const char *ntype = n->type < TSK_FS_NAME_TYPE_STR_MAX ? tsk_fs_name_type_str[n->type] : "-";
    printf("%" PRIuINUM " %d %u %u %u %" PRIu64 " %lld %u %lld %u %lld %u %lld %u %s/%s\t%s%c",
           n->meta_addr, known, mode, known ? (unsigned) m->uid : 0, known ? (unsigned) m->gid : 0,
           known ? (uint64_t) m->size : 0, known ? (long long) m->atime : 0,
           known ? m->atime_nano : 0, known ? (long long) m->mtime : 0, known ? m->mtime_nano : 0,
           known ? (long long) m->ctime : 0, known ? m->ctime_nano : 0,
           known ? (long long) m->crtime : 0, known ? m->crtime_nano : 0, ntype, ls, path, 0);
}

static bool seen(struct walk *w, TSK_INUM_T inum)
{
    for (size_t i = 0; i < w->nseen; i++)
        if (w->seen[i] == inum)
            return true;
    if (grow((void **) &w->seen, &w->capseen, w->nseen, sizeof *w->seen) == 0)
        w->seen[w->nseen++] = inum;
    return false;
}

static TSK_WALK_RET_ENUM entry(TSK_FS_FILE *f, const char *unused, void *opaque)
{
    struct walk *w = opaque;
    const TSK_FS_NAME *n = f->name;
    const TSK_FS_META *m = f->meta;
    char path[PATH_LIMIT + 1];

    (void) unused;
    if (!n || !n->name || !n->name[0] || !strcmp(n->name, ".") || !strcmp(n->name, ".."))
        return TSK_WALK_CONT;
    bool deleted = n->flags & TSK_FS_NAME_FLAG_UNALLOC;
    /* a directory to go into: its inode is still a directory, and still
     * this name's (not given to another file since) */
    bool dir = w->recursive && m && TSK_FS_IS_DIR_META(m->type) && m->addr == n->meta_addr &&
               (!deleted || !(m->flags & TSK_FS_META_FLAG_ALLOC));
    if (!deleted && !dir)
        return TSK_WALK_CONT;
    if (!join(w, n->name, path)) {
        w->skipped++;
        return TSK_WALK_CONT;
    }
    if (deleted)
        record(n, m, path);
    if (dir && !seen(w, n->meta_addr)) {
        if (grow((void **) &w->sub, &w->capsub, w->nsub, sizeof *w->sub) < 0 ||
            grow((void **) &w->subname, &w->capname, w->nsub, sizeof *w->subname) < 0)
            return TSK_WALK_ERROR;
        if (!(w->subname[w->nsub] = strdup(path + (w->len ? w->len + 1 : 0))))
            return TSK_WALK_ERROR;
        w->sub[w->nsub++] = n->meta_addr;
    }
    return ferror(stdout) ? TSK_WALK_ERROR : TSK_WALK_CONT;
}

/* One directory (w->path names it), then those below it. */
static int walk_dir(TSK_FS_INFO *fs, struct walk *w, TSK_INUM_T inum)
{
    w->nsub = w->capsub = w->capname = 0;
    w->sub = NULL;
    w->subname = NULL;
    int r = tsk_fs_dir_walk(
        fs, inum,
        (TSK_FS_DIR_WALK_FLAG_ENUM) (TSK_FS_DIR_WALK_FLAG_ALLOC | TSK_FS_DIR_WALK_FLAG_UNALLOC),
        entry, w);
    size_t nsub = w->nsub, len = w->len;
    TSK_INUM_T *sub = w->sub;
    char **names = w->subname;
    for (size_t i = 0; r == 0 && i < nsub; i++) {
        size_t n = strlen(names[i]);
        w->len = len + (len ? 1 : 0) + n;
        if (len)
            w->path[len] = '/';
        memcpy(w->path + len + (len ? 1 : 0), names[i], n + 1);
        /* a directory below that does not read (a deleted one overwritten
         * since, a damaged one) is passed over, as fls does */
        if (walk_dir(fs, w, sub[i]))
            tsk_error_reset();
        w->len = len;
        w->path[len] = '\0';
    }
    for (size_t i = 0; i < nsub; i++)
        free(names[i]);
    free(names);
    free(sub);
    return r;
}

/* dir: the path from the filesystem's root; want: the inode the kernel
 * gives it, checked where the two number inodes alike (ext, NTFS) */
static int list(TSK_FS_INFO *fs, const char *dir, int recursive, const char *want)
{
    TSK_INUM_T inum = fs->root_inum;
    struct walk w = { .recursive = recursive };

    if (strcmp(dir, "/") != 0 && tsk_fs_path2inum(fs, dir, &inum, NULL) != 0) {
        fprintf(stderr, "%s: not found by the Sleuth Kit\n", dir);
        return 1;
    }
    if (want && (TSK_FS_TYPE_ISEXT(fs->ftype) || TSK_FS_TYPE_ISNTFS(fs->ftype)) &&
        strtoull(want, NULL, 10) != inum) {
        fprintf(stderr,
                "%s: the Sleuth Kit finds another directory there (inode %" PRIuINUM
                ", the kernel's %s)\n",
                dir, inum, want);
        return 1;
    }
    seen(&w, inum);
    if (walk_dir(fs, &w, inum))
        return fail(dir);
    if (w.skipped)
        fprintf(stderr, "%lu names left out: their paths are longer than %d bytes\n", w.skipped,
                PATH_LIMIT);
    free(w.seen);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* The content of an inode (or of one attribute of it, NTFS's TYPE-ID), as
 * icat gives it; no more bytes than its filesystem holds. */
static int cat(TSK_FS_INFO *fs, const char *inode, const char *type, const char *id)
{
    char *end;
    unsigned long long inum = strtoull(inode, &end, 10);

    if (*end || inum < fs->first_inum || inum > fs->last_inum) {
        fprintf(stderr, "inode %s: not on this filesystem (%" PRIuINUM "-%" PRIuINUM ")\n", inode,
                fs->first_inum, fs->last_inum);
        return 1;
    }
    TSK_FS_FILE *f = tsk_fs_file_open_meta(fs, NULL, inum);
    if (!f || !f->meta)
        return fail("its inode cannot be read");
    /* the attribute read (the one named, else the default) may claim any
     * size: no more than the device holds */
    const TSK_FS_ATTR *a = type ? tsk_fs_file_attr_get_type(f, (TSK_FS_ATTR_TYPE_ENUM) atoi(type),
                                                            (uint16_t) atoi(id), 1)
                                : tsk_fs_file_attr_get(f);
    uint64_t room = (uint64_t) (fs->last_block_act + 1) * fs->block_size;
    if (a && (a->size < 0 || (uint64_t) a->size > room)) {
        fprintf(stderr, "its content claims %lld bytes, more than its device holds (%llu)\n",
                (long long) a->size, (unsigned long long) room);
        return 1;
    }
    tsk_fs_file_close(f);
    uint8_t attr = type != NULL;
    if (tsk_fs_icat(fs, inum, (TSK_FS_ATTR_TYPE_ENUM) (attr ? atoi(type) : 0), attr,
                    (uint16_t) (attr ? atoi(id) : 0), attr, TSK_FS_FILE_WALK_FLAG_NONE))
        return fail("recovering the inode's content");
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "list") && strcmp(argv[1], "cat")) ||
        (!strcmp(argv[1], "cat") && argc != 4 && argc != 6)) {
        fprintf(stderr, "usage: tsk list DEVICE DIR [-r] [--inode N] | "
                        "tsk cat DEVICE INODE [TYPE ID]\n");
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
    if (!strcmp(argv[1], "cat"))
        return cat(fs, argv[3], argc == 6 ? argv[4] : NULL, argc == 6 ? argv[5] : NULL);
    int recursive = 0;
    const char *want = NULL;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "-r"))
            recursive = 1;
        else if (!strcmp(argv[i], "--inode") && i + 1 < argc)
            want = argv[++i];
    }
    return list(fs, argv[3], recursive, want);
}
