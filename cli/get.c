/* get.c: cat and download: files out of the image, in constant memory. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ferry.h"
#include "transfer.h"

/* Interrupted (SIGINT, SIGTERM): the transfer is cancelled. */
static int interrupted(void)
{
    if (!ferry_interrupted)
        return 0;
    errno = EINTR;
    return -1;
}

int sink_write(void *opaque, const void *buf, size_t len)
{
    struct sink *k = opaque;

    if (interrupted() < 0)
        return -1;
    if (write_all(k->fd, buf, len, -1) < 0)
        return -1;
    k->pos += len;
    return 0;
}

/* Holes stay holes in a regular file; a pipe gets the zeros. */
int sink_skip(void *opaque, uint64_t len)
{
    static const char zeros[65536];
    struct sink *k = opaque;

    if (interrupted() < 0)
        return -1;
    if (k->seekable) {
        if (lseek(k->fd, len, SEEK_CUR) < 0)
            return -1;
        k->pos += len;
        return 0;
    }
    while (len > 0) {
        size_t n = len < sizeof zeros ? len : sizeof zeros;
        if (sink_write(k, zeros, n) < 0)
            return -1;
        len -= n;
    }
    return 0;
}

void sink_init(struct sink *k, int fd)
{
    struct stat st;

    memset(k, 0, sizeof *k);
    k->fd = fd;
    k->seekable = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) >= 0;
    k->start = k->seekable ? lseek(fd, 0, SEEK_CUR) : 0;
}

/* A file that ends in a hole: give it its full length. */
int sink_finish(struct sink *k)
{
    if (k->seekable && ftruncate(k->fd, k->start + k->pos) < 0)
        return -1;
    return 0;
}

/* Download one file to fd, with a progress bar if `bar` (not for cat,
 * whose output is often read on the same terminal). 0, or -1 with the
 * error reported. */
static int fetch(struct session *s, const char *remote, int fd, bool bar)
{
    struct sink k;
    struct progress_bar p = { 0 };
    ferry_download_args a = { .path = (char *) remote };
    ferry_transfer_ret r;
    struct xfer x = { .data = sink_write, .hole = sink_skip };
    int ret;

    sink_init(&k, fd);
    x.opaque = &k;
    if (bar)
        progress_begin(s, &p);
    a.progress = p.on;
    ret = rpc_download(&s->cl, &a, &r, &x);
    progress_end(s, &p);
    if (ret == 0 && sink_finish(&k) < 0) {
        warnx_("%s: %s", s->command, strerror(errno));
        return -1;
    }
    if (ret < 0) {
        if (s->cl.err == EPIPE && !s->cl.remote)
            return -2;  /* the reader went away: not worth a message */
        call_failed(s);
        return -1;
    }
    return 0;
}

int cmd_cat(struct session *s, int argc, char **argv)
{
    int status = EXIT_OK;

    if (argc < 2)
        die(EXIT_USAGE, "cat: which path?");
    for (int i = 1; i < argc; i++) {
        int r = fetch(s, argv[i], 1, false);
        if (r == -2)
            return EXIT_PIPE;
        if (r < 0)
            status = EXIT_FAILED;
    }
    return status;
}

/* Open a new file beside `path` to be renamed over it when complete. */
int open_aside(const char *path, char **tmp)
{
    size_t n = strlen(path) + 32;
    int fd;

    *tmp = xmalloc(n);
    snprintf(*tmp, n, "%s.ferry-partial-XXXXXX", path);
    fd = mkostemp(*tmp, O_CLOEXEC);
    if (fd < 0) {
        warnx_("%s: %s", path, strerror(errno));
        free(*tmp);
        return -1;
    }
    cleanup_register(*tmp);
    return fd;
}

int cmd_download(struct session *s, int argc, char **argv)
{
    const char *remote, *local;
    char *copy, *tmp, *target = NULL;
    struct stat st;
    int fd, r;

    if (argc < 2 || argc > 3)
        die(EXIT_USAGE, "usage: ferry download REMOTE [LOCAL|-]");
    remote = argv[1];
    copy = xstrdup(remote);
    local = argc == 3 ? argv[2] : basename(copy);
    if (strcmp(local, "-") == 0) {
        r = fetch(s, remote, 1, true);
        free(copy);
        return r == -2 ? EXIT_PIPE : r < 0 ? EXIT_FAILED : EXIT_OK;
    }
    if (stat(local, &st) == 0 && S_ISDIR(st.st_mode)) {
        size_t n = strlen(local) + strlen(basename(copy)) + 2;
        target = xmalloc(n);
        snprintf(target, n, "%s/%s", local, basename(copy));
        local = target;
    }
    /* Written aside and renamed at the end: a failed or interrupted
     * download never leaves a file that looks complete. */
    fd = open_aside(local, &tmp);
    if (fd < 0)
        return EXIT_FAILED;
    r = fetch(s, remote, fd, true);
    if (r == 0 && (fchmod(fd, 0644 & ~current_umask()) < 0 || close(fd) < 0 ||
                   rename(tmp, local) < 0)) {
        warnx_("%s: %s", local, strerror(errno));
        r = -1;
    } else if (r < 0) {
        close(fd);
    }
    if (r == 0)
        cleanup_keep();
    else
        cleanup_done();
    free(tmp);
    free(target);
    free(copy);
    return r == 0 ? EXIT_OK : EXIT_FAILED;
}
