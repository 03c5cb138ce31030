/* tar.c: tar-out and tar-in: whole directories as tar archives.
 *
 * tar-out reads the tree in one call (read_tree: most files' bytes straight
 * from the image) and writes the archive here with libarchive, compressed
 * on the host: under emulation GNU tar in the guest made it at 30 MB/s.
 * tar-in sends the archive to GNU tar in the appliance, which unpacks it
 * into the mounted filesystem. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "guest/guest.h"
#include "io/transfer.h"
#include "output/output.h"

/* Files with more than one link, by (device, inode): the first name each
 * was archived under; later ones become links to it, as GNU tar makes
 * them. The numbers come from the guest: the table's hash is keyed with a
 * random seed (no chosen collisions), and past MAX_LINKED files or
 * MAX_LINK_BYTES of names the rest go as copies. */
#define MAX_LINKED (1u << 20)
#define MAX_LINK_BYTES (64u << 20)
struct linked {
    uint64_t dev, ino;
    char *name;
};
struct links {
    struct linked *v;
    size_t n, cap; /* cap: a power of two, or 0 */
    size_t bytes;
    uint64_t seed;
};

static size_t slot(const struct links *l, uint64_t dev, uint64_t ino)
{
    uint64_t h = (ino ^ l->seed) * 0x9e3779b97f4a7c15ull;

    h ^= (dev + l->seed) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 29;
    size_t i = (size_t) h & (l->cap - 1);
    while (l->v[i].name && (l->v[i].dev != dev || l->v[i].ino != ino))
        i = (i + 1) & (l->cap - 1);
    return i;
}

static bool grow(struct links *l)
{
    size_t cap = l->cap ? 2 * l->cap : 1024;
    struct links g = { calloc(cap, sizeof *g.v), l->n, cap, l->bytes, l->seed };

    if (!g.v)
        return false;
    if (!l->cap && getrandom(&g.seed, sizeof g.seed, GRND_NONBLOCK) != sizeof g.seed)
        g.seed = (uint64_t) (uintptr_t) &g ^ (uint64_t) time(NULL) * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < l->cap; i++)
        if (l->v[i].name)
            g.v[slot(&g, l->v[i].dev, l->v[i].ino)] = l->v[i];
    free(l->v);
    *l = g;
    return true;
}

/* The name st's file was archived under, or NULL (then it is now). */
static const char *linked_to(struct links *l, const struct ferry_stat *st, const char *name)
{
    if (!l->cap && !grow(l))
        return NULL;
    struct linked *k = &l->v[slot(l, st->dev, st->ino)];
    if (k->name)
        return k->name;
    if (l->n >= MAX_LINKED || l->bytes + strlen(name) + 1 > MAX_LINK_BYTES ||
        (2 * (l->n + 1) > l->cap && !grow(l)))
        return NULL;
    k = &l->v[slot(l, st->dev, st->ino)];
    if ((k->name = strdup(name))) {
        k->dev = st->dev;
        k->ino = st->ino;
        l->n++;
        l->bytes += strlen(name) + 1;
    }
    return NULL;
}

static void links_free(struct links *l)
{
    for (size_t i = 0; i < l->cap; i++)
        free(l->v[i].name);
    free(l->v);
}

struct tar_out {
    struct session *s;
    struct tar_writer w;
    struct links links;
    struct compressor *z;
    struct progress_bar bar;
    bool in_entry;   /* a header went out, its entry is not complete */
    bool failed;     /* a file could not be read: said, and the archive cut */
    bool out_failed; /* the output itself (a reader gone, a full disk) */
};

/* The archive's bytes, on their way to the compressor. */
static int archive_out(void *opaque, const void *buf, size_t len)
{
    struct tar_out *t = opaque;

    if (compressor_write(t->z, buf, len) < 0) {
        t->out_failed = true;
        return -1;
    }
    progress_hook(&t->bar, t->w.written + len, 0);
    return 0;
}

static int archive_entry(struct tree_read *tr, const char *path, const ferry_dirent *e,
                         const struct tree_map *map, struct xfer *x)
{
    struct tar_out *t = tr->opaque;
    const char *hardlink = NULL;
    char *name;

    if (S_ISSOCK(e->st.mode)) {
        report("tar-out: %s: a socket: left out", path); /* as GNU tar does */
        return 0;
    }
    if (asprintf(&name, "./%s", e->name) < 0)
        return errno = ENOMEM, -1;
    if (S_ISREG(e->st.mode) && e->st.nlink > 1)
        hardlink = linked_to(&t->links, &e->st, name);
    int r = tar_header(&t->w, name, &e->st, e->link, hardlink, map ? map->v : NULL,
                       map ? (int) map->n : -1);
    free(name);
    if (r < 0)
        return -1;
    t->in_entry = true;
    if (S_ISREG(e->st.mode) && !hardlink)
        *x = tar_data_xfer(&t->w);
    return 0;
}

static int archive_done(struct tree_read *tr, const char *path, const ferry_dirent *e, int err,
                        const char *msg)
{
    struct tar_out *t = tr->opaque;

    (void) e;
    if (err) {
        /* no archive without it, nor with zeros in its place (GNU tar
         * would pad and go on): the archive ends here, without its end */
        report("tar-out: %s: %s", path, msg);
        t->failed = true;
        return errno = err, -1;
    }
    if (!t->in_entry)
        return 0;
    t->in_entry = false;
    return tar_end_entry(&t->w);
}

/* The tree below top as a tar archive, into the compressor. */
static int archive_tree(struct tar_out *t, const char *top)
{
    struct session *s = t->s;
    ferry_path_args pa = { .path = (char *) top };
    CLEANUP_XDR(ferry_stat_ret) st = { 0 };
    struct xfer out = { .data = archive_out, .opaque = t };

    if (rpc_lstat(&s->cl, &pa, &st, NULL) < 0)
        return -1;
    if (!S_ISDIR(st.st.mode)) {
        snprintf(s->cl.msg, sizeof s->cl.msg, "%s: not a directory", top);
        s->cl.err = ENOTDIR;
        s->cl.remote = true; /* said as the appliance would */
        return -1;
    }
    struct tree_read tr = {
        .s = s, .entry = archive_entry, .done = archive_done, .opaque = t, .contents = true
    };
    if (tar_open(&t->w, &out) < 0 || tar_header(&t->w, "./", &st.st, "", NULL, NULL, -1) < 0 ||
        tar_end_entry(&t->w) < 0 || tree_read(&tr, top) < 0)
        return -1;
    return tar_close(&t->w);
}

int cmd_tar_out(struct session *s, struct args *a)
{
    static struct compressor z;
    const char *out = a->argc > 1 ? a->argv[1] : "-";
    const char *kind = opt_val(a, "compress");
    char *tmp = NULL;
    int fd = 1;
    struct tar_out t = { .s = s, .z = &z };

    if (!kind)
        kind = compression_for(out); /* from .tar.zst, .tgz, .tar.xz... */
    if (strcmp(out, "-") && (fd = open_aside(out, &tmp)) < 0)
        return EXIT_FAILED;
    if (compressor_init(&z, kind, fd) < 0) {
        report("tar-out: %s: cannot start the compressor", kind);
        if (strcmp(out, "-"))
            finish_aside(out, tmp, fd, false);
        return EXIT_FAILED;
    }
    progress_begin(&t.bar);
    int r = archive_tree(&t, a->argv[0]);
    progress_end(&t.bar);
    int status = EXIT_OK;
    if (r < 0 && t.failed && !s->cl.broken) {
        status = EXIT_FAILED; /* said */
    } else if (r < 0 && t.w.err && !s->cl.broken) {
        /* ours: the output (a reader gone: no message), or the format */
        status = t.w.err == EPIPE ? EXIT_PIPE : EXIT_FAILED;
        if (t.w.err != EPIPE)
            report("tar-out: %s", t.w.msg);
    } else if (r < 0 && !s->cl.remote && !s->cl.broken && s->cl.err == EPIPE) {
        status = EXIT_PIPE;
    } else if (r < 0 && !s->cl.remote && !s->cl.broken) {
        report("tar-out: %s", s->cl.msg);
        status = EXIT_FAILED;
    } else if (r < 0) {
        status = call_failed(s);
    } else if (compressor_finish(&z) < 0) {
        report("tar-out: %s: %s", out, strerror(errno));
        status = EXIT_FAILED;
    }
    /* cut short on its way to a reader: make sure it cannot pass for whole */
    if (r < 0 && !tmp && t.w.a && !t.out_failed && tar_poison(&t.w) == 0)
        compressor_finish(&z);
    tar_free(&t.w);
    links_free(&t.links);
    compressor_free(&z);
    if (strcmp(out, "-") && finish_aside(out, tmp, fd, status == EXIT_OK) < 0)
        status = EXIT_FAILED;
    return status;
}

int cmd_tar_in(struct session *s, struct args *a)
{
    int fd = open_local("tar-in", a->argv[0]);

    if (fd < 0)
        return EXIT_FAILED;
    /* holes in an archive file are plain zeros to tar */
    int r = send_local(s, fd, false, true, a->argv[1], 0);
    if (fd != 0)
        close(fd);
    if (r == 0)
        return EXIT_OK;
    if (s->cl.remote || s->cl.broken)
        return call_failed(s);
    report("tar-in: %s: %s", a->argv[0], s->cl.msg);
    return EXIT_FAILED;
}
