/* deleted.c: deleted files the appliance finds with The Sleuth Kit, on the
 * filesystem a directory is on: each entry is handed to a visitor as its
 * batch arrives (names checked like a listing's), and recovered content
 * comes as a download does. */
#include <errno.h>
#include <string.h>

#include "guest/guest.h"
#include "output/output.h"

struct deleted_listing {
    deleted_visit visit;
    void *opaque;
    bool stopped; /* the visitor said stop: not the appliance's error */
};

/* A path below the listed directory: components neither empty, "." nor
 * "..", so that no name can stand for another place. */
static bool below(const char *name)
{
    for (const char *p = name;; p++) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
        if (!*p)
            return true;
    }
}

static int on_batch(void *opaque, const void *buf, size_t len)
{
    struct deleted_listing *l = opaque;
    ferry_deleted_batch b = { 0 };
    int r = 0;

    if (xdr_decode_bytes(buf, len, (xdrproc_t) xdr_ferry_deleted_batch, &b) < 0)
        return -1;
    for (u_int i = 0; r == 0 && i < b.entries.entries_len; i++) {
        const ferry_deleted *e = &b.entries.entries_val[i];
        if (!below(e->name))
            continue; /* ferryd's helper writes none: a lying daemon does */
        if ((r = l->visit(l->opaque, e)) < 0)
            l->stopped = true;
    }
    xdr_free((xdrproc_t) xdr_ferry_deleted_batch, (char *) &b);
    if (r < 0)
        errno = ECANCELED;
    return r;
}

bool deleted_supported(struct session *s)
{
    return s->cl.capabilities & FERRY_CAP_DELETED;
}

int list_deleted(struct session *s, const char *dir, bool recursive, deleted_visit visit,
                 void *opaque)
{
    struct deleted_listing l = { visit, opaque, false };
    ferry_list_args a = { .path = (char *) dir, .recursive = recursive };
    struct xfer x = { .data = on_batch, .hole = listing_no_holes, .opaque = &l };
    ferry_void v;

    if (!deleted_supported(s)) {
        s->cl.err = ENOTSUP;
        s->cl.remote = false;
        snprintf(s->cl.msg, sizeof s->cl.msg, "%s: deleted files are found only in the appliance",
                 dir);
        return -1;
    }
    if (rpc_list_deleted(&s->cl, &a, &v, &x) == 0)
        return 0;
    return l.stopped ? -2 : -1;
}
