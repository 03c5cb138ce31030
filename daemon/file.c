/* file.c: download and upload of one regular file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

int do_download(struct call *c, ferry_download_args *a, ferry_transfer_ret *r)
{
    struct stat st;
    /* O_NONBLOCK: a fifo in a hostile image must not hang the open */
    CLEANUP_CLOSE int fd = open_in_root(c, a->path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    if (S_ISDIR(st.st_mode))
        return call_fail(c, EISDIR, "%s: Is a directory", a->path);
    if (!S_ISREG(st.st_mode))
        return call_fail(c, EINVAL, "%s: not a regular file", a->path);
    if (send_fd(c, fd, true, st.st_size, a->progress, &r->size) < 0)
        return call_prefix(c, a->path);
    return 0;
}

/* Create a new file beside `name` in dir, for writing aside. */
static int create_aside(int dir, char *tmp, size_t tmpsz)
{
    for (int tries = 0; tries < 100; tries++) {
        /* The name need only be unlikely to exist; O_EXCL makes it safe.
         * getrandom must not block: the pool is often not ready this soon
         * after boot, and waiting for it cost a second per upload. */
        uint32_t rnd;
        if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            rnd = (uint32_t) t.tv_nsec * 2654435761u + tries;
        }
        snprintf(tmp, tmpsz, ".ferry-upload-%08x", rnd);
        int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd >= 0 ? fd : -1;
    }
    errno = EEXIST;
    return -1;
}

int do_upload(struct call *c, ferry_upload_args *a, ferry_transfer_ret *r)
{
    char buf[FERRY_MAX_PATH + 1], tmp[64];
    const char *name;
    struct stat old;
    bool replace;
    CLEANUP_CLOSE int dir = open_parent(c, a->path, buf, sizeof buf, &name);
    CLEANUP_CLOSE int fd = -1;

    if (dir < 0)
        return -1;
    replace = fstatat(dir, name, &old, AT_SYMLINK_NOFOLLOW) == 0;
    if (replace && S_ISDIR(old.st_mode))
        return call_fail(c, EISDIR, "%s: Is a directory", a->path);
    fd = create_aside(dir, tmp, sizeof tmp);
    if (fd < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    if (recv_fd(c, fd, true, &r->size) < 0) {
        call_prefix(c, a->path);
        goto fail;
    }
    /* The new file takes the place of the old one, with its owner and mode. */
    if (replace && fchown(fd, old.st_uid, old.st_gid) < 0 && errno != EPERM) {
        call_fail_errno(c, errno, "%s: chown", a->path);
        goto fail;
    }
    if (fchmod(fd, replace ? old.st_mode & 07777 : a->mode & 07777) < 0 ||
        fsync(fd) < 0 || renameat(dir, tmp, dir, name) < 0) {
        call_fail_errno(c, errno, "%s", a->path);
        goto fail;
    }
    return 0;
fail:
    unlinkat(dir, tmp, 0);
    return -1;
}
