/* walk.c: listing one remote directory into memory, for the commands that
 * walk a tree and make calls as they go (copy-out, timeline): a listing
 * streams inside one call, so its entries are kept until it ends. Memory
 * is bounded by the largest directory times the depth. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ferry.h"

void entries_add(struct entries *e, const ferry_dirent *d)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 64;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        if (!e->v)
            die(EXIT_FAILED, "out of memory");
    }
    e->v[e->n++] = (ferry_dirent){ xstrdup(d->name), d->st, xstrdup(d->link) };
}

static int collect(void *opaque, const void *buf, size_t len)
{
    ferry_dirent_batch b = { 0 };

    if (xdr_decode_bytes(buf, len, (xdrproc_t) xdr_ferry_dirent_batch, &b) < 0)
        return -1;
    for (u_int i = 0; i < b.entries.entries_len; i++)
        entries_add(opaque, &b.entries.entries_val[i]);
    xdr_free((xdrproc_t) xdr_ferry_dirent_batch, (char *) &b);
    return 0;
}

static int no_holes(void *opaque, uint64_t len)
{
    (void) opaque;
    (void) len;
    errno = EBADMSG;
    return -1;
}

int list_dir(struct session *s, const char *path, struct entries *e)
{
    struct xfer x = { .data = collect, .hole = no_holes, .opaque = e };
    ferry_list_args a = { .path = (char *) path, .recursive = false };
    ferry_void v;

    memset(e, 0, sizeof *e);
    if (rpc_list(&s->cl, &a, &v, &x) < 0) {
        free_entries(e);
        return -1;
    }
    return 0;
}

void free_entries(struct entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].name);
        free(e->v[i].link);
    }
    free(e->v);
    memset(e, 0, sizeof *e);
}

char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);

    snprintf(p, n, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
    return p;
}
