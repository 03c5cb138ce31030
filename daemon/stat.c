/* stat.c: metadata of one path: lstat, stat, readlink, statvfs. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "daemon.h"

int do_lstat(struct call *c, ferry_path_args *a, ferry_stat_ret *r)
{
    return stat_path(c, a->path, false, &r->st);
}

int do_stat(struct call *c, ferry_path_args *a, ferry_stat_ret *r)
{
    return stat_path(c, a->path, true, &r->st);
}

int do_readlink(struct call *c, ferry_path_args *a, ferry_readlink_ret *r)
{
    char buf[FERRY_MAX_PATH + 1], target[FERRY_MAX_PATH + 1];
    const char *name;
    CLEANUP_CLOSE int dir = open_parent(c, a->path, buf, sizeof buf, &name);
    ssize_t n;

    if (dir < 0)
        return -1;
    n = readlinkat(dir, name, target, sizeof target);
    if (n < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    if ((size_t) n >= sizeof target)
        return call_fail(c, ENAMETOOLONG, "%s: link target too long", a->path);
    target[n] = '\0';
    r->target = strdup(target);
    if (!r->target)
        return call_fail(c, ENOMEM, "out of memory");
    return 0;
}

int do_statvfs(struct call *c, ferry_path_args *a, ferry_statvfs_ret *r)
{
    struct statvfs sv;
    CLEANUP_CLOSE int fd = open_in_root(c, a->path, O_PATH, 0);

    if (fd < 0)
        return -1;
    if (fstatvfs(fd, &sv) < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    r->bsize = sv.f_bsize;
    r->frsize = sv.f_frsize;
    r->blocks = sv.f_blocks;
    r->bfree = sv.f_bfree;
    r->bavail = sv.f_bavail;
    r->files = sv.f_files;
    r->ffree = sv.f_ffree;
    r->fsid = sv.f_fsid;
    r->namemax = sv.f_namemax;
    r->flags = sv.f_flag;
    return 0;
}
