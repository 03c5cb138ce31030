/* tree.c: changing the tree: mkdir, rm, chmod, chown, symlink, rename, touch. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

/* mkdir -p: make each missing component in turn, inside the root. */
static int mkdir_parents(struct call *c, const char *path, mode_t mode)
{
    char buf[FERRY_MAX_PATH + 1];
    size_t len = strlen(path);

    if (len >= sizeof buf)
        return call_fail(c, ENAMETOOLONG, "%s: path too long", path);
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        char pbuf[FERRY_MAX_PATH + 1];
        const char *name;
        int dir = open_parent(c, buf, pbuf, sizeof pbuf, &name);
        if (dir >= 0) {
            int r = mkdirat(dir, name, mode);
            int err = errno;
            close(dir);
            /* what is there may be a symlink to a directory: look at it
             * the way the next component will be reached, inside the root */
            if (r < 0 && err == EEXIST) {
                int fd = open_in_root(c, buf, O_PATH | O_DIRECTORY, 0);
                if (fd >= 0)
                    close(fd);
                r = fd >= 0 ? 0 : -1;
            }
            if (r < 0)
                return call_fail_errno(c, err, "%s", buf);
        } else if (c->err != EINVAL) { /* EINVAL: "/", "." or ".." parts */
            return -1;
        }
        *p = saved;
        if (saved == '\0')
            return 0;
    }
}

int do_mkdir(struct call *c, ferry_mkdir_args *a, ferry_void *r)
{
    (void) r;
    char buf[FERRY_MAX_PATH + 1];
    const char *name;
    mode_t mode = a->mode & 07777;

    if (a->parents)
        return mkdir_parents(c, a->path, mode);
    CLEANUP_CLOSE int dir = open_parent(c, a->path, buf, sizeof buf, &name);
    if (dir < 0)
        return -1;
    if (mkdirat(dir, name, mode) < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    return 0;
}

/* Remove everything below dirfd (which it closes). */
static int rm_below(struct call *c, int dirfd, const char *path)
{
    DIR *dir = fdopendir(dirfd);
    struct dirent *de;
    int r = 0;

    if (!dir) {
        close(dirfd);
        return call_fail_errno(c, errno, "%s", path);
    }
    while (r == 0 && (errno = 0, de = readdir(dir))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd, de->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno != EISDIR && errno != EPERM) {
            r = call_fail_errno(c, errno, "%s/%s", path, de->d_name);
            break;
        }
        int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            r = call_fail_errno(c, errno, "%s/%s", path, de->d_name);
            break;
        }
        r = rm_below(c, sub, path);
        if (r == 0 && unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
            r = call_fail_errno(c, errno, "%s/%s", path, de->d_name);
    }
    if (r == 0 && errno)
        r = call_fail_errno(c, errno, "%s", path);
    closedir(dir);
    return r;
}

int do_rm(struct call *c, ferry_rm_args *a, ferry_void *r)
{
    (void) r;
    char buf[FERRY_MAX_PATH + 1];
    const char *name;
    struct stat st;
    CLEANUP_CLOSE int dir = open_parent(c, a->path, buf, sizeof buf, &name);

    if (dir < 0)
        return a->force && c->err == ENOENT ? 0 : -1;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (a->force && errno == ENOENT)
            return 0;
        return call_fail_errno(c, errno, "%s", a->path);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dir, name, 0) < 0)
            return call_fail_errno(c, errno, "%s", a->path);
        return 0;
    }
    if (a->recursive) {
        int sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            return call_fail_errno(c, errno, "%s", a->path);
        if (rm_below(c, sub, a->path) < 0)
            return -1;
    }
    if (unlinkat(dir, name, AT_REMOVEDIR) < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    return 0;
}

int do_chmod(struct call *c, ferry_chmod_args *a, ferry_void *r)
{
    (void) r;
    char proc[64];
    CLEANUP_CLOSE int fd = open_in_root(c, a->path, O_PATH, 0);

    if (fd < 0)
        return -1;
    /* fchmod does not take O_PATH descriptors; the /proc link of one does. */
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (chmod(proc, a->mode & 07777) < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    return 0;
}

int do_chown(struct call *c, ferry_chown_args *a, ferry_void *r)
{
    (void) r;
    char buf[FERRY_MAX_PATH + 1];
    const char *name = "";
    CLEANUP_CLOSE int fd = -1;

    if (a->nofollow)
        fd = open_parent(c, a->path, buf, sizeof buf, &name);
    else
        fd = open_in_root(c, a->path, O_PATH, 0);
    if (fd < 0)
        return -1;
    if (fchownat(fd, name, a->uid, a->gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    return 0;
}

int do_symlink(struct call *c, ferry_symlink_args *a, ferry_void *r)
{
    (void) r;
    char buf[FERRY_MAX_PATH + 1];
    const char *name;
    CLEANUP_CLOSE int dir = open_parent(c, a->path, buf, sizeof buf, &name);

    if (dir < 0)
        return -1;
    if (!a->target[0])
        return call_fail(c, EINVAL, "%s: empty link target", a->path);
    if (symlinkat(a->target, dir, name) < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    return 0;
}

int do_rename(struct call *c, ferry_rename_args *a, ferry_void *r)
{
    (void) r;
    char fbuf[FERRY_MAX_PATH + 1], tbuf[FERRY_MAX_PATH + 1];
    const char *fname, *tname;
    CLEANUP_CLOSE int from = open_parent(c, a->from, fbuf, sizeof fbuf, &fname);
    CLEANUP_CLOSE int to = -1;

    if (from < 0)
        return -1;
    to = open_parent(c, a->to, tbuf, sizeof tbuf, &tname);
    if (to < 0)
        return -1;
    if (renameat(from, fname, to, tname) < 0)
        return call_fail_errno(c, errno, "%s -> %s", a->from, a->to);
    return 0;
}

int do_touch(struct call *c, ferry_touch_args *a, ferry_void *r)
{
    (void) r;
    struct timespec ts[2] = {
        { .tv_sec = a->atime.sec, .tv_nsec = a->atime.nsec },
        { .tv_sec = a->mtime.sec, .tv_nsec = a->mtime.nsec },
    };
    CLEANUP_CLOSE int fd = -1;
    bool tried = false; /* to open it for writing, which said why not */

    if (!a->now && (a->atime.nsec >= 1000000000 || a->mtime.nsec >= 1000000000))
        return call_fail(c, EINVAL, "%s: nanoseconds out of range", a->path);
    /* resolved inside the root like any path: a symlink in the image leads
     * to a file in the image, never out of it */
    if (a->create && !a->nofollow) {
        /* opened for writing only when it is a regular file or nothing: a
         * device node in the image is never opened, whatever the mount's
         * options (the fifo, the directory get their times below) */
        struct call probe = *c;
        struct stat st;
        int p = open_in_root(&probe, a->path, O_PATH, 0);
        bool plain = p < 0 ? probe.err == ENOENT : fstat(p, &st) == 0 && S_ISREG(st.st_mode);
        if (p >= 0)
            close(p);
        if ((tried = plain))
            fd = open_in_root(c, a->path, O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK, 0644);
    }
    if (fd < 0) {
        /* it exists but cannot be opened for writing (a directory, a fifo):
         * its times can still be set; if not, the first error tells why */
        struct call first = *c;
        fd = open_in_root(c, a->path, O_PATH | (a->nofollow ? O_NOFOLLOW : 0), 0);
        if (fd < 0 && tried)
            *c = first;
    }
    if (fd < 0)
        return -1;
    if (utimensat(fd, "", a->now ? NULL : ts, AT_EMPTY_PATH) < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    return 0;
}
