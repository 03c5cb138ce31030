/* list.c: directory listings, streamed as batches of entries.
 *
 * Each DATA chunk holds one whole XDR ferry_dirent_batch. Entries are
 * encoded into the batch one by one; the one that does not fit starts the
 * next batch, so a directory of any size lists in bounded memory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

/* Send what the batch holds as one DATA chunk. */
int batch_flush(struct call *c, struct batch *b)
{
    unsigned pos = xdr_getpos(&b->x);

    if (b->count == 0)
        return 0;
    b->buf[0] = b->count >> 24;
    b->buf[1] = b->count >> 16;
    b->buf[2] = b->count >> 8;
    b->buf[3] = b->count;
    /* the walk is a busy section (keepalives while a slow disk is read);
     * the channel is ours again only outside it */
    busy_end(c);
    int sent = c->lost ? -1 : send_data(c, b->buf, pos);
    busy_begin(c);
    if (sent < 0)
        return -1;
    b->count = 0;
    xdr_setpos(&b->x, 4);
    return 0;
}

int batch_add(struct call *c, struct batch *b, xdrproc_t encode, void *entry, const char *name)
{
    for (int tries = 0; tries < 2; tries++) {
        unsigned pos = xdr_getpos(&b->x);
        if (b->count < FERRY_MAX_BATCH && encode(&b->x, entry)) {
            b->count++;
            return 0;
        }
        xdr_setpos(&b->x, pos);
        if (batch_flush(c, b) < 0)
            return -1;
    }
    return call_fail(c, ENAMETOOLONG, "%s: entry too large", name);
}

int batch_init(struct call *c, struct batch *b)
{
    b->cap = d.chunk_size;
    b->count = 0;
    if (!(b->buf = malloc(b->cap)))
        return call_fail(c, ENOMEM, "out of memory");
    xdrmem_create(&b->x, (char *) b->buf, b->cap, XDR_ENCODE);
    xdr_setpos(&b->x, 4);
    return 0;
}

void batch_free(struct batch *b)
{
    xdr_destroy(&b->x);
    free(b->buf);
}

static int add(struct call *c, struct batch *b, const char *name, const struct ferry_stat *st,
               const char *link)
{
    ferry_dirent e = { .name = (char *) name, .st = *st, .link = (char *) link };

    return batch_add(c, b, (xdrproc_t) xdr_ferry_dirent, &e, name);
}

/* List dirfd's entries as prefix/name; descend when recursive. */
static int walk(struct call *c, struct batch *b, int dirfd, char *path, size_t len, bool recursive)
{
    DIR *dir = fdopendir(dirfd);
    struct dirent *de;
    int r = 0;

    if (!dir) {
        close(dirfd);
        return call_fail_errno(c, errno, "opendir");
    }
    while (r == 0) {
        errno = 0;
        if (!(de = readdir(dir))) {
            if (errno)
                r = call_fail_errno(c, errno, "%s", len ? path : ".");
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t nlen = strlen(de->d_name);
        if (len + nlen + 2 > FERRY_MAX_PATH) {
            r = call_fail(c, ENAMETOOLONG, "%s/%s: path too long", path, de->d_name);
            break;
        }
        size_t at = len;
        if (len)
            path[at++] = '/';
        memcpy(path + at, de->d_name, nlen + 1);

        struct ferry_stat st;
        if (statx_at(dirfd, de->d_name, AT_SYMLINK_NOFOLLOW, &st) < 0) {
            /* vanished since readdir, or unreadable: list the name alone */
            memset(&st, 0, sizeof st);
        }
        char link[FERRY_MAX_PATH + 1] = "";
        if (S_ISLNK(st.mode)) {
            ssize_t n = readlinkat(dirfd, de->d_name, link, sizeof link - 1);
            link[n > 0 ? n : 0] = '\0';
        }
        r = add(c, b, path, &st, link);
        if (r == 0 && recursive && S_ISDIR(st.mode)) {
            int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0)
                r = call_fail_errno(c, errno, "%s", path);
            else
                r = walk(c, b, sub, path, at + nlen, true);
        }
        path[len] = '\0';
    }
    closedir(dir);
    return r;
}

int do_list(struct call *c, ferry_list_args *a, ferry_void *r)
{
    (void) r;
    char path[FERRY_MAX_PATH + 1] = "";
    struct batch b;
    int fd = open_in_root(c, a->path, O_RDONLY | O_DIRECTORY, 0);
    int ret;

    if (fd < 0)
        return -1;
    if (batch_init(c, &b) < 0) {
        close(fd);
        return -1;
    }
    busy_begin(c);
    ret = walk(c, &b, fd, path, 0, a->recursive);
    bool walked = ret == 0;
    if (walked)
        ret = batch_flush(c, &b);
    busy_end(c);
    if (!walked)
        call_prefix(c, a->path);
    batch_free(&b);
    return ret;
}
