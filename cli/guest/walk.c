/* walk.c: the one way through a remote tree (ls -R, timeline, copy-out).
 *
 * A listing is a guest's answer, and a hostile guest could answer for ever:
 * a directory of more than MAX_ENTRIES entries, or a tree deeper than
 * MAX_DEPTH, is refused with a message rather than eating the host's
 * memory or stack. Both are far beyond what filesystems hold in practice. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "guest/guest.h"
#include "output/output.h"

#define MAX_ENTRIES (4u << 20) /* tests lower it: FERRY_TEST_MAX_ENTRIES */
#define MAX_NAME_BYTES (1u << 30)
#define MAX_DEPTH 1024

char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s%s%s", dir, dir[0] && strcmp(dir, "/") ? "/" : "", name);
    return p;
}

/* One directory's entries, kept. */
struct entries {
    ferry_dirent *v;
    size_t n, cap, bytes;
    int err; /* why collecting stopped */
};

static size_t max_entries(void)
{
    const char *t = getenv("FERRY_TEST_MAX_ENTRIES");
    return t && atol(t) > 0 ? (size_t) atol(t) : MAX_ENTRIES;
}

static int keep(struct entries *e, const ferry_dirent *d)
{
    size_t bytes = strlen(d->name) + strlen(d->link) + 2;

    if (e->n >= max_entries() || e->bytes + bytes > MAX_NAME_BYTES) {
        e->err = E2BIG;
        return -1;
    }
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 64;
        ferry_dirent *v = realloc(e->v, cap * sizeof *v);
        if (!v)
            return e->err = ENOMEM, -1;
        e->v = v;
        e->cap = cap;
    }
    ferry_dirent *k = &e->v[e->n];
    *k = (ferry_dirent){ strdup(d->name), d->st, strdup(d->link) };
    if (!k->name || !k->link) {
        free(k->name);
        free(k->link);
        return e->err = ENOMEM, -1;
    }
    e->n++;
    e->bytes += bytes;
    return 0;
}

static void free_entries(struct entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].name);
        free(e->v[i].link);
    }
    free(e->v);
    memset(e, 0, sizeof *e);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const ferry_dirent *) a)->name, ((const ferry_dirent *) b)->name);
}

/* What one LIST call's chunks go to. */
struct listing {
    struct walk *w;
    const char *top;
    struct entries kept; /* when entries are kept */
    bool keep_them;
    bool stopped;
};

static int visit_now(struct listing *l, const ferry_dirent *d)
{
    char *path = join_path(l->top, d->name);
    const char *slash = strrchr(d->name, '/');
    int depth = 0;

    for (const char *p = d->name; slash && *p; p++)
        depth += *p == '/';
    int r = path ? l->w->visit(l->w, path, d->name, d, depth) : -1;
    free(path);
    return r < 0 ? -1 : 0;
}

static int on_batch(void *opaque, const void *buf, size_t len)
{
    struct listing *l = opaque;
    ferry_dirent_batch b = { 0 };
    int r = 0;

    if (xdr_decode_bytes(buf, len, (xdrproc_t) xdr_ferry_dirent_batch, &b) < 0)
        return -1;
    for (u_int i = 0; r == 0 && i < b.entries.entries_len; i++) {
        const ferry_dirent *d = &b.entries.entries_val[i];
        r = l->keep_them ? keep(&l->kept, d) : visit_now(l, d);
        if (r < 0 && !l->keep_them)
            l->stopped = true;
    }
    xdr_free((xdrproc_t) xdr_ferry_dirent_batch, (char *) &b);
    if (r < 0)
        errno = l->keep_them ? l->kept.err : ECANCELED;
    return r;
}

int listing_no_holes(void *opaque, uint64_t len)
{
    (void) opaque;
    (void) len;
    errno = EBADMSG; /* a listing is batches of entries, never a hole */
    return -1;
}

/* One LIST call of dir (recursive: its whole tree). */
static int list(struct walk *w, struct listing *l, const char *dir, bool recursive)
{
    ferry_list_args a = { .path = (char *) dir, .recursive = recursive };
    struct xfer x = { .data = on_batch, .hole = listing_no_holes, .opaque = l };
    ferry_void v;

    if (rpc_list(&w->s->cl, &a, &v, &x) == 0)
        return 0;
    if (l->stopped)
        return -1;
    if (!w->s->cl.remote && w->s->cl.err == E2BIG)
        report("%s: %s: more entries than ferry takes from one listing (%zu); refusing the "
               "rest",
               w->s->command, dir, max_entries());
    else
        report("%s: %s", w->s->command, w->s->cl.msg);
    w->errors++;
    return w->s->cl.broken ? -1 : 0;
}

/* A directory at a time, below dir (whose path below the top is rel). */
static int walk_dir(struct walk *w, const char *dir, const char *rel, int depth)
{
    struct listing l = { .w = w, .top = dir, .keep_them = true };
    int r = 0;

    if (depth >= MAX_DEPTH) {
        report("%s: %s: deeper than %d directories; not going further", w->s->command, dir,
               MAX_DEPTH);
        w->errors++;
        return 0;
    }
    if (list(w, &l, dir, false) < 0) {
        free_entries(&l.kept);
        return -1;
    }
    if (w->sorted)
        qsort(l.kept.v, l.kept.n, sizeof *l.kept.v, by_name);
    for (size_t i = 0; r == 0 && i < l.kept.n; i++) {
        const ferry_dirent *e = &l.kept.v[i];
        char *path = join_path(dir, e->name), *sub = join_path(rel, e->name);
        if (!path || !sub) {
            r = -1;
        } else if ((r = w->visit(w, path, sub, e, depth)) == 0 && w->recursive &&
                   S_ISDIR(e->st.mode)) {
            r = walk_dir(w, path, sub, depth + 1);
            if (w->leave)
                w->leave(w, path, sub, e, depth);
        }
        if (r > 0)
            r = 0; /* not descending is no failure */
        free(path);
        free(sub);
    }
    free_entries(&l.kept);
    return r;
}

int walk_tree(struct walk *w, const char *top)
{
    if (w->visitor_calls)
        return walk_dir(w, top, "", 0);
    struct listing l = { .w = w, .top = top, .keep_them = w->sorted };
    int r = list(w, &l, top, w->recursive);
    if (r == 0 && l.keep_them) {
        qsort(l.kept.v, l.kept.n, sizeof *l.kept.v, by_name);
        for (size_t i = 0; r == 0 && i < l.kept.n; i++)
            r = visit_now(&l, &l.kept.v[i]) < 0 ? -1 : 0;
    }
    free_entries(&l.kept);
    return r;
}
