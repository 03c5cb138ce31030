/* tree.c: a tree read whole in one call (read_tree): every entry below a
 * directory, each regular file with its bytes, where a walk and a download
 * per file would pay a round trip through the emulated guest each.
 *
 * The bytes come three ways: inside the entry (small files), as extents
 * the host reads from the image itself (direct.c checks them first), or as
 * the chunks of a download right after the batch the entry ends. All of it
 * is a guest's answer: an entry whose bytes disagree with its size, a
 * stream where none was announced, or one cut short is a broken protocol,
 * never a file. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "guest/guest.h"
#include "io/transfer.h"
#include "output/output.h"

struct reading {
    struct tree_read *t;
    const char *top;
    uint32_t disks;
    /* the file whose chunks are coming */
    bool streaming;
    char *path;
    ferry_dirent e; /* its own copies of name and link */
    struct xfer x;
    uint64_t left;
    bool bad;
    uint64_t bad_at; /* the first byte that could not be read */
    /* its data ranges (the rest holes), checked against what comes */
    ferry_range *data;
    u_int ndata, next;
    /* for extents: the ranges they make */
    ferry_range *made;
    size_t made_cap;
    char why[FERRY_MAX_PATH + 128]; /* what our side stopped the call for */
    int why_err;
};

static int nothing(void *opaque, const void *buf, size_t len)
{
    (void) opaque, (void) buf, (void) len;
    return 0;
}

static int no_zeros(void *opaque, uint64_t len)
{
    (void) opaque, (void) len;
    return 0;
}

/* Where an entry's bytes go when its visitor takes none. */
static void fill(struct xfer *x)
{
    if (!x->data)
        x->data = nothing;
    if (!x->hole)
        x->hole = no_zeros;
}

static int broken(struct reading *r, const char *what)
{
    snprintf(r->why, sizeof r->why, "the appliance's tree is malformed: %s", what);
    errno = r->why_err = EBADMSG;
    return -1;
}

static int finish(struct reading *r)
{
    int err = r->bad ? EIO : 0;
    char msg[FERRY_MAX_ERROR + 64] = "";
    int ret;

    if (err)
        snprintf(msg, sizeof msg, "I/O error at offset %llu", (unsigned long long) r->bad_at);
    ret = r->t->done(r->t, r->path, &r->e, err, msg);
    free(r->path);
    free(r->e.name);
    free(r->e.link);
    free(r->data);
    r->path = r->e.name = r->e.link = NULL;
    r->data = NULL;
    r->streaming = false;
    return ret;
}

/* A stream's data ranges: in order, not touching, inside the file. */
static bool ranges_sound(const ferry_range *v, u_int n, uint64_t size)
{
    uint64_t end = 0;

    for (u_int i = 0; i < n; i++) {
        if (v[i].length == 0 || v[i].offset < end || (i && v[i].offset == end) ||
            v[i].offset > size || v[i].length > size - v[i].offset)
            return false;
        end = v[i].offset + v[i].length;
    }
    return true;
}

/* Data bytes at [pos, pos + len) of the stream: where its ranges say a
 * hole is, they must be zeros (an archive leaves holes out). */
static bool holes_are_zeros(struct reading *r, uint64_t pos, const unsigned char *buf, size_t len)
{
    uint64_t end = pos + len;

    while (pos < end) {
        while (r->next < r->ndata && r->data[r->next].offset + r->data[r->next].length <= pos)
            r->next++;
        uint64_t hole_end = r->next < r->ndata ? r->data[r->next].offset : UINT64_MAX;
        if (pos < hole_end) {
            uint64_t stop = hole_end < end ? hole_end : end;
            for (uint64_t i = pos; i < stop; i++)
                if (buf[i - (end - len)])
                    return false;
            pos = stop;
        } else {
            pos = r->data[r->next].offset + r->data[r->next].length;
        }
    }
    return true;
}

/* The data ranges a file's extents make (unwritten ones are holes). */
static const struct tree_map *extent_map(struct reading *r, const ferry_direct *dv,
                                         struct tree_map *m)
{
    u_int n = 0;

    if (dv->extents.extents_len > r->made_cap) {
        ferry_range *v = realloc(r->made, dv->extents.extents_len * sizeof *v);
        if (!v)
            return NULL;
        r->made = v;
        r->made_cap = dv->extents.extents_len;
    }
    for (u_int k = 0; k < dv->extents.extents_len; k++) {
        const ferry_extent *e = &dv->extents.extents_val[k];
        if (e->zeros)
            continue;
        if (n && r->made[n - 1].offset + r->made[n - 1].length == e->logical)
            r->made[n - 1].length += e->length;
        else
            r->made[n++] = (ferry_range){ e->logical, e->length };
    }
    *m = (struct tree_map){ r->made, n };
    return m;
}

/* A STREAM entry: its chunks follow. */
static int stream_from(struct reading *r, char *path, const ferry_dirent *e, const struct xfer *x,
                       const ferry_range *data, u_int ndata)
{
    r->data = ndata ? malloc(ndata * sizeof *data) : NULL;
    if (ndata && !r->data) {
        free(path);
        return errno = ENOMEM, -1;
    }
    if (ndata)
        memcpy(r->data, data, ndata * sizeof *data);
    r->ndata = ndata;
    r->next = 0;
    r->path = path;
    r->e = *e;
    r->e.name = strdup(e->name);
    r->e.link = strdup(e->link);
    r->x = *x;
    r->left = e->st.size;
    r->bad = false;
    r->streaming = true;
    if (!r->e.name || !r->e.link)
        return errno = ENOMEM, -1;
    return r->left ? 0 : finish(r);
}

/* A path below the top as a walk makes them: names joined by single
 * slashes, none empty, "." or "..". Anything else would name a place
 * outside the tree (in an archive, say). */
static bool name_sound(const char *name)
{
    const char *p = name;

    if (!*name)
        return false;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t) (slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!slash)
            return true;
        p = slash + 1;
    }
}

static int entry(struct reading *r, const ferry_tree_entry *te, bool last)
{
    struct tree_read *t = r->t;
    const ferry_dirent *e = &te->ent;
    const ferry_content *c = &te->content;
    bool file = S_ISREG(e->st.mode);
    char *path = join_path(r->top, e->name);
    struct xfer x = { 0 };
    struct tree_map made;
    const struct tree_map *map = NULL;
    int ret;

    if (!path)
        return errno = ENOMEM, -1;
    if (!name_sound(e->name)) {
        free(path);
        return broken(r, "a name that leaves the tree");
    }
    if ((c->kind == FERRY_CONTENT_INLINE || c->kind == FERRY_CONTENT_EXTENTS ||
         c->kind == FERRY_CONTENT_STREAM) &&
        (!file || !t->contents)) {
        free(path);
        return broken(r, "bytes for what is not a file");
    }
    if (file && t->contents && (c->kind == FERRY_CONTENT_NONE || e->st.size > INT64_MAX)) {
        /* every file's bytes were asked for, and no file is that large */
        free(path);
        return broken(r, "a file without its bytes");
    }
    if (c->kind == FERRY_CONTENT_STREAM &&
        !ranges_sound(c->ferry_content_u.data.data_val, c->ferry_content_u.data.data_len,
                      e->st.size)) {
        free(path);
        return broken(r, "a file's data ranges out of order or outside it");
    }
    if (c->kind == FERRY_CONTENT_ERROR && !S_ISDIR(e->st.mode)) {
        /* a file that could not be opened: nothing of it to take */
        ret = t->done(t, path, e, c->ferry_content_u.error.err ? c->ferry_content_u.error.err : EIO,
                      c->ferry_content_u.error.msg);
        free(path);
        return ret;
    }
    if (c->kind == FERRY_CONTENT_EXTENTS &&
        !(map = extent_map(r, &c->ferry_content_u.direct, &made))) {
        free(path);
        return errno = ENOMEM, -1;
    }
    if (c->kind == FERRY_CONTENT_STREAM) {
        made =
            (struct tree_map){ c->ferry_content_u.data.data_val, c->ferry_content_u.data.data_len };
        map = &made;
    }
    if ((ret = t->entry(t, path, e, map, &x)) < 0) {
        free(path);
        return -1;
    }
    bool wanted = x.data != NULL;
    uint64_t bad_at;
    int dr;
    fill(&x);
    switch (c->kind) {
    case FERRY_CONTENT_NONE:
        ret = t->done(t, path, e, 0, "");
        break;
    case FERRY_CONTENT_INLINE:
        if (c->ferry_content_u.bytes.bytes_len != e->st.size)
            ret = broken(r, "inline bytes of another size");
        else
            ret = x.data(x.opaque, c->ferry_content_u.bytes.bytes_val,
                         c->ferry_content_u.bytes.bytes_len) < 0
                      ? -1
                      : t->done(t, path, e, 0, "");
        break;
    case FERRY_CONTENT_EXTENTS:
        dr = wanted ? direct_read(t->s, path, &c->ferry_content_u.direct, e->st.size, r->disks, &x,
                                  &bad_at)
                    : 0;
        if (dr == -1 && errno == EPROTO) {
            snprintf(r->why, sizeof r->why,
                     "%s: the appliance placed the file's bytes outside its image", path);
            r->why_err = EPROTO;
            ret = -1;
        } else if (dr == -2 || (dr < 0 && bad_at != UINT64_MAX)) {
            /* as the guest path says it: this file failed, the walk goes on */
            int err = errno;
            char msg[128];
            if (dr == -2)
                snprintf(msg, sizeof msg, "qemu's export of the disk was given up");
            else
                snprintf(msg, sizeof msg, "%s at offset %llu", strerror(err),
                         (unsigned long long) bad_at);
            ret = t->done(t, path, e, err, msg);
        } else {
            ret = dr < 0 ? -1 : t->done(t, path, e, 0, "");
        }
        break;
    case FERRY_CONTENT_STREAM:
        if (!last)
            ret = broken(r, "a file's chunks announced in the middle of a batch");
        else
            return stream_from(r, path, e, &x, c->ferry_content_u.data.data_val,
                               c->ferry_content_u.data.data_len); /* path is kept */
        break;
    case FERRY_CONTENT_ERROR: /* a directory that could not be listed */
        ret = t->done(t, path, e, c->ferry_content_u.error.err ? c->ferry_content_u.error.err : EIO,
                      c->ferry_content_u.error.msg);
        break;
    default:
        ret = broken(r, "an unknown kind of content");
    }
    free(path);
    return ret;
}

static int on_data(void *opaque, const void *buf, size_t len)
{
    struct reading *r = opaque;
    ferry_tree_batch b = { 0 };
    int ret = 0;

    if (r->streaming) {
        if (len > r->left)
            return broken(r, "more bytes than the file holds");
        if (!holes_are_zeros(r, r->e.st.size - r->left, buf, len))
            return broken(r, "bytes where it said a hole is");
        r->left -= len;
        if (r->x.data(r->x.opaque, buf, len) < 0)
            return -1;
        return r->left ? 0 : finish(r);
    }
    if (xdr_decode_bytes(buf, len, (xdrproc_t) xdr_ferry_tree_batch, &b) < 0)
        return -1;
    for (u_int i = 0; ret == 0 && i < b.entries.entries_len; i++)
        ret = entry(r, &b.entries.entries_val[i], i + 1 == b.entries.entries_len);
    xdr_free((xdrproc_t) xdr_ferry_tree_batch, (char *) &b);
    return ret;
}

/* zeros: a hole; or bytes that could not be read, zeros in their place */
static int zeros(struct reading *r, uint64_t len, bool bad)
{
    if (!r->streaming || len > r->left)
        return broken(r, "zeros outside a file");
    if (bad && !r->bad)
        r->bad_at = r->e.st.size - r->left;
    r->left -= len;
    r->bad = r->bad || bad;
    if (r->x.hole(r->x.opaque, len) < 0)
        return -1;
    return r->left ? 0 : finish(r);
}

static int on_hole(void *opaque, uint64_t len)
{
    return zeros(opaque, len, false);
}

static int on_bad(void *opaque, uint64_t len)
{
    return zeros(opaque, len, true);
}

int tree_read(struct tree_read *t, const char *top)
{
    struct session *s = t->s;
    struct reading r = { .t = t, .top = top, .disks = t->contents ? direct_disks(s) : 0 };
    ferry_read_tree_args a = {
        .path = (char *) top,
        .contents = t->contents,
        .inline_max = FERRY_MAX_INLINE,
        .direct_disks = r.disks,
        /* the guest maps a small file faster than it reads one (under TCG
         * each read of a cold file waits for the disk) */
        .direct_min = 1,
    };
    struct xfer x = { .data = on_data, .hole = on_hole, .bad = on_bad, .opaque = &r };
    ferry_void v;
    int ret = rpc_read_tree(&s->cl, &a, &v, &x);

    if (ret == 0 && r.streaming) {
        snprintf(r.why, sizeof r.why, "%s: the appliance ended the file early", r.path);
        r.why_err = EBADMSG;
    }
    if (r.why[0]) {
        /* ours to say: the client only knows the callback's errno */
        snprintf(s->cl.msg, sizeof s->cl.msg, "%s", r.why);
        s->cl.err = r.why_err;
        s->cl.remote = false;
        ret = -1;
    }
    free(r.path);
    free(r.e.name);
    free(r.e.link);
    free(r.data);
    free(r.made);
    return ret;
}
