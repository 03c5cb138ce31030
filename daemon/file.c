/* file.c: download and upload of one regular file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

int read_all(int fd, void *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = read(fd, (char *) buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += n;
    }
    return 0;
}

int do_download(struct call *c, ferry_download_args *a, ferry_transfer_ret *r)
{
    struct stat st;
    CLEANUP_CLOSE int fd = open_regular(c, a->path);

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    /* the host reads the bytes itself where it can: no chunks, the extents */
    if (a->direct_disks && (uint64_t) st.st_size >= a->direct_min && st.st_size > 0 &&
        (r->direct = file_direct(fd, st.st_size, a->direct_disks, FERRY_MAX_EXTENTS, NULL))) {
        r->size = st.st_size;
        return 0;
    }
    struct send_opts o = {
        .seekable = true,
        .total = st.st_size,
        .progress = a->progress,
        .zeros_for_bad = a->unreadable_as_zeros,
    };
    if (send_fd(c, fd, &o, &r->size) < 0)
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
    int ret = 0;
    CLEANUP_CLOSE int dir = open_parent(c, a->path, buf, sizeof buf, &name);
    CLEANUP_CLOSE int fd = -1;

    if (dir < 0)
        return -1;
    bool exists = fstatat(dir, name, &old, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && S_ISDIR(old.st_mode))
        return call_fail(c, EISDIR, "%s: Is a directory", a->path);
    /* a regular file is replaced keeping its owner and mode; anything else
     * in the way (a symlink, say) gives those of a new file */
    replace = exists && S_ISREG(old.st_mode);
    fd = create_aside(dir, tmp, sizeof tmp);
    if (fd < 0)
        return call_fail_errno(c, errno, "%s", a->path);
    if (recv_fd(c, fd, true, &r->size) < 0) {
        call_prefix(c, a->path);
        goto fail;
    }
    busy_begin(c); /* the fsync may take a while */
    if (replace && fchown(fd, old.st_uid, old.st_gid) < 0 && errno != EPERM)
        ret = call_fail_errno(c, errno, "%s: chown", a->path);
    else if (fchmod(fd, replace ? old.st_mode & 07777 : a->mode & 07777) < 0 || fsync(fd) < 0 ||
             renameat(dir, tmp, dir, name) < 0)
        ret = call_fail_errno(c, errno, "%s", a->path);
    busy_end(c);
    if (ret == 0)
        return 0;
fail:
    unlinkat(dir, tmp, 0);
    return -1;
}
