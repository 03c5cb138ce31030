/* list.c: directory listings, streamed as batches of entries, and trees
 * read whole (read_tree): the same walk, each regular file with its bytes.
 *
 * Each DATA chunk holds one whole XDR ferry_dirent_batch (or
 * ferry_tree_batch). Entries are encoded into the batch one by one; the
 * one that does not fit starts the next batch, so a directory of any size
 * lists in bounded memory. A tree's file too large to ride in its entry,
 * and not readable by the host where it lies, follows its batch as the
 * chunks of a download. */
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

/* One walk: a listing, or a tree with its files' bytes. */
struct walker {
    struct call *c;
    struct batch b;
    bool recursive;
    const ferry_read_tree_args *tree; /* NULL: a listing */
    unsigned inline_max;
    unsigned max_extents; /* that fit in a batch with room to spare */
    unsigned max_ranges;
    unsigned char *inline_buf;
    ferry_range *ranges;    /* FERRY_MAX_RANGES */
    struct placement place; /* of the filesystem last read */
};

static int add(struct walker *w, const char *name, const struct ferry_stat *st, const char *link)
{
    ferry_dirent e = { .name = (char *) name, .st = *st, .link = (char *) link };

    return batch_add(w->c, &w->b, (xdrproc_t) xdr_ferry_dirent, &e, name);
}

static int add_tree(struct walker *w, ferry_tree_entry *e)
{
    return batch_add(w->c, &w->b, (xdrproc_t) xdr_ferry_tree_entry, e, e->ent.name);
}

/* The entry of what could not be opened: the host names it. */
static int add_error(struct walker *w, ferry_tree_entry *e, int err, const char *msg)
{
    e->content.kind = FERRY_CONTENT_ERROR;
    e->content.ferry_content_u.error = (ferry_content_error){ err, (char *) msg };
    return add_tree(w, e);
}

/* Where fd's data lies (what is left is holes), as the chunks that follow
 * will show it; more ranges than an entry holds: all of it is data. */
static void data_ranges(int fd, uint64_t size, ferry_range *r, u_int max, u_int *n)
{
    uint64_t pos = 0, data, end;

    *n = 0;
    while (pos < size) {
        file_next_data(fd, pos, size, &data, &end);
        if (data >= size || end <= data)
            break;
        if (*n == max) {
            r[0] = (ferry_range){ 0, size };
            *n = 1;
            return;
        }
        r[(*n)++] = (ferry_range){ data, end - data };
        pos = end;
    }
}

/* A regular file's entry with its bytes: inline when small and readable,
 * its extents when the host can read them where they lie, else as chunks
 * after the entry. Whatever cannot be read goes as BAD chunks, so one
 * damaged file never ends the walk. */
static int add_file(struct walker *w, int dirfd, const char *base, ferry_tree_entry *e)
{
    const ferry_read_tree_args *a = w->tree;
    uint64_t size = e->ent.st.size, sent = 0;
    CLEANUP_CLOSE int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;

    if (fd < 0 || fstat(fd, &st) < 0)
        return add_error(w, e, errno, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return add_error(w, e, ESTALE, "replaced since it was listed");
    if (a->direct_disks && size >= a->direct_min && size > 0) {
        ferry_direct *dv = file_direct(fd, size, a->direct_disks, w->max_extents, &w->place);
        if (dv) {
            e->content.kind = FERRY_CONTENT_EXTENTS;
            e->content.ferry_content_u.direct = *dv;
            int r = add_tree(w, e);
            xdr_free((xdrproc_t) xdr_ferry_direct, (char *) dv);
            free(dv);
            return r;
        }
    }
    if (size <= w->inline_max && read_all(fd, w->inline_buf, size) == 0) {
        e->content.kind = FERRY_CONTENT_INLINE;
        e->content.ferry_content_u.bytes.bytes_len = size;
        e->content.ferry_content_u.bytes.bytes_val = (char *) w->inline_buf;
        return add_tree(w, e);
    }
    e->content.kind = FERRY_CONTENT_STREAM;
    data_ranges(fd, size, w->ranges, w->max_ranges, &e->content.ferry_content_u.data.data_len);
    e->content.ferry_content_u.data.data_val = w->ranges;
    if (add_tree(w, e) < 0 || batch_flush(w->c, &w->b) < 0)
        return -1;
    struct send_opts o = { .seekable = true, .total = size, .zeros_for_bad = true };
    busy_end(w->c);
    int r = w->c->lost ? -1 : send_fd(w->c, fd, &o, &sent);
    /* the file shrank under us: the rest cannot be had */
    if (r == 0 && sent < size)
        r = send_unreadable(w->c, size - sent);
    busy_begin(w->c);
    return r;
}

/* A tree's entry: a directory is opened first (into *sub), so that one
 * that cannot be listed says so in its entry. */
static int add_entry(struct walker *w, int dirfd, const char *base, const char *path,
                     const struct ferry_stat *st, const char *link, int *sub)
{
    ferry_tree_entry e = {
        .ent = { .name = (char *) path, .st = *st, .link = (char *) link },
        .content.kind = FERRY_CONTENT_NONE,
    };

    *sub = -1;
    if (!w->tree)
        return add(w, path, st, link);
    if (S_ISDIR(st->mode) && w->recursive) {
        *sub = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return *sub < 0 ? add_error(w, &e, errno, strerror(errno)) : add_tree(w, &e);
    }
    if (S_ISREG(st->mode) && w->tree->contents)
        return add_file(w, dirfd, base, &e);
    return add_tree(w, &e);
}

/* List dirfd's entries as prefix/name; descend when recursive. */
static int walk(struct walker *w, int dirfd, char *path, size_t len)
{
    struct call *c = w->c;
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
        int sub = -1;
        r = add_entry(w, dirfd, de->d_name, path, &st, link, &sub);
        if (r == 0 && w->recursive && S_ISDIR(st.mode) && !w->tree) {
            sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0)
                r = call_fail_errno(c, errno, "%s", path);
        }
        if (sub >= 0 && r == 0)
            r = walk(w, sub, path, at + nlen);
        else if (sub >= 0)
            close(sub);
        path[len] = '\0';
    }
    closedir(dir);
    return r;
}

static int walk_top(struct walker *w, const char *top)
{
    struct call *c = w->c;
    char path[FERRY_MAX_PATH + 1] = "";
    int fd = open_in_root(c, top, O_RDONLY | O_DIRECTORY, 0);
    int ret;

    if (fd < 0)
        return -1;
    if (batch_init(c, &w->b) < 0) {
        close(fd);
        return -1;
    }
    busy_begin(c);
    ret = walk(w, fd, path, 0);
    bool walked = ret == 0;
    if (walked)
        ret = batch_flush(c, &w->b);
    busy_end(c);
    if (!walked)
        call_prefix(c, top);
    batch_free(&w->b);
    return ret;
}

int do_list(struct call *c, ferry_list_args *a, ferry_void *r)
{
    (void) r;
    struct walker w = { .c = c, .recursive = a->recursive };

    return walk_top(&w, a->path);
}

int do_read_tree(struct call *c, ferry_read_tree_args *a, ferry_void *r)
{
    (void) r;
    static unsigned char buf[FERRY_MAX_INLINE];
    static ferry_range ranges[FERRY_MAX_RANGES];
    struct walker w = {
        .c = c,
        .recursive = true,
        .tree = a,
        .inline_buf = buf,
        .ranges = ranges,
        /* an entry must fit a batch whole: names, a link and the bytes */
        .inline_max = a->inline_max < d.chunk_size / 4 ? a->inline_max : d.chunk_size / 4,
        .max_extents = d.chunk_size / 2 / 28,
        .max_ranges =
            d.chunk_size / 4 / 16 < FERRY_MAX_RANGES ? d.chunk_size / 4 / 16 : FERRY_MAX_RANGES,
    };

    if (w.inline_max > sizeof buf)
        w.inline_max = sizeof buf;
    int ret = walk_top(&w, a->path);
    placement_forget(&w.place);
    return ret;
}
