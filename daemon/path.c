/* path.c: resolving the client's paths inside the served root, and statx.
 *
 * Every path is absolute in the root the daemon serves. It is resolved
 * with openat2(RESOLVE_IN_ROOT), so ".." and absolute symlinks in a hostile
 * image stay inside that root, as they would under chroot. musl has no
 * wrappers for openat2 or statx yet; their structures are Linux's ABI. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"

struct open_how_abi {
    uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10

struct statx_ts {
    int64_t sec;
    uint32_t nsec;
    int32_t reserved;
};
struct statx_abi {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, spare0;
    uint64_t ino, size, blocks, attributes_mask;
    struct statx_ts atime, btime, ctime, mtime;
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t spare[14];
};
_Static_assert(sizeof(struct statx_abi) == 256, "struct statx is 256 bytes");
#ifndef STATX_BASIC_STATS /* glibc has them; musl does not yet */
#define STATX_BASIC_STATS 0x7ffU
#define STATX_BTIME 0x800U
#endif

static int check_path(struct call *c, const char *path)
{
    if (path[0] != '/')
        return call_fail(c, EINVAL, "%s: not an absolute path", path);
    return 0;
}

int open_in_root(struct call *c, const char *path, int flags, mode_t mode)
{
    struct open_how_abi how = {
        .flags = flags | O_CLOEXEC,
        .mode = flags & O_CREAT ? mode : 0,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    const char *rel = path;
    long fd;

    if (check_path(c, path) < 0)
        return -1;
    while (*rel == '/')
        rel++;
    fd = syscall(SYS_openat2, d.rootfd, *rel ? rel : ".", &how, sizeof how);
    if (fd < 0)
        return call_fail_errno(c, errno, "%s", path);
    return fd;
}

int open_regular(struct call *c, const char *path)
{
    char self[64];
    struct stat st;
    CLEANUP_CLOSE int p = open_in_root(c, path, O_PATH, 0);
    int fd;

    if (p < 0)
        return -1;
    if (fstat(p, &st) < 0)
        return call_fail_errno(c, errno, "%s", path);
    if (S_ISDIR(st.st_mode))
        return call_fail(c, EISDIR, "%s: Is a directory", path);
    if (!S_ISREG(st.st_mode))
        return call_fail(c, EINVAL, "%s: not a regular file", path);
    /* the O_PATH descriptor pins the inode: this opens what was checked */
    snprintf(self, sizeof self, "/proc/self/fd/%d", p);
    fd = open(self, O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return call_fail_errno(c, errno, "%s", path);
    return fd;
}

int open_parent(struct call *c, const char *path, char *buf, size_t bufsz, const char **name)
{
    char *slash, *base;
    size_t len = strlen(path);
    int fd;

    if (check_path(c, path) < 0)
        return -1;
    if (len >= bufsz)
        return call_fail(c, ENAMETOOLONG, "%s: path too long", path);
    memcpy(buf, path, len + 1);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    slash = strrchr(buf, '/');
    base = slash + 1;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return call_fail(c, EINVAL, "%s: names no entry of a directory", path);
    *slash = '\0';
    fd = open_in_root(c, slash == buf ? "/" : buf, O_PATH | O_DIRECTORY, 0);
    *slash = '/';
    if (fd < 0)
        return call_fail_errno(c, c->err, "%s", path);
    *name = base;
    return fd;
}

static void put_time(struct ferry_time *t, const struct statx_ts *s)
{
    t->sec = s->sec;
    t->nsec = s->nsec;
}

int statx_at(int dirfd, const char *name, int flags, struct ferry_stat *st)
{
    struct statx_abi sx;

    if (syscall(SYS_statx, dirfd, name, flags, STATX_BASIC_STATS | STATX_BTIME, &sx) < 0)
        return -1;
    memset(st, 0, sizeof *st);
    st->dev = (uint64_t) sx.dev_major << 32 | sx.dev_minor;
    st->ino = sx.ino;
    st->mode = sx.mode;
    st->nlink = sx.nlink;
    st->uid = sx.uid;
    st->gid = sx.gid;
    st->rdev = (uint64_t) sx.rdev_major << 32 | sx.rdev_minor;
    st->size = sx.size;
    st->blocks = sx.blocks;
    st->blksize = sx.blksize;
    put_time(&st->atime, &sx.atime);
    put_time(&st->mtime, &sx.mtime);
    put_time(&st->ctime, &sx.ctime);
    st->has_btime = (sx.mask & STATX_BTIME) != 0;
    if (st->has_btime)
        put_time(&st->btime, &sx.btime);
    return 0;
}

int stat_path(struct call *c, const char *path, bool follow, struct ferry_stat *st)
{
    char buf[FERRY_MAX_PATH + 1];
    const char *name;
    CLEANUP_CLOSE int fd = -1;

    if (follow) {
        fd = open_in_root(c, path, O_PATH, 0);
        name = "";
    } else {
        fd = open_parent(c, path, buf, sizeof buf, &name);
        /* "/", "/a/.." and the like name no link: stat what they resolve to */
        if (fd < 0 && c->err == EINVAL && path[0] == '/') {
            fd = open_in_root(c, path, O_PATH, 0);
            name = "";
        }
    }
    if (fd < 0)
        return -1;
    if (statx_at(fd, name, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, st) < 0)
        return call_fail_errno(c, errno, "%s", path);
    return 0;
}
