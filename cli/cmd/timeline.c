/* timeline.c: a Sleuth Kit body file of a tree (TSK 3 format, what
 * 'mactime -b' reads), or the same as JSON lines with nanosecond times.
 *
 *   MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime
 *
 * One record is one line of eleven fields, so in names a '|', a backslash
 * and control bytes are written as \x7c, \\ and \xNN. Deleted entries the
 * Sleuth Kit finds on each filesystem of the tree follow, their names
 * ending in " (deleted)" (" (deleted-realloc)" when their inode is another
 * file's now: its numbers are then 0), as fls -m writes them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "guest/guest.h"
#include "io/transfer.h"
#include "output/output.h"

struct timeline {
    struct session *s;
    bool json;
    int alg; /* -1: no digests */
    int errors;
    /* each filesystem of the tree: the first directory seen on it */
    int nfs;
    uint64_t dev[MAX_MOUNTS];
    char *top[MAX_MOUNTS];
    const char *at;       /* the one whose deleted entries are being written */
    struct digest digest; /* of the file being read */
};

static void body_name(const char *name)
{
    for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
        if (*p == '|' || *p < 0x20 || *p == 0x7f)
            printf("\\x%02x", *p);
        else if (*p == '\\')
            fputs("\\\\", stdout);
        else
            putchar(*p);
    }
}

/* del: a deleted entry (e is made of it), or NULL; hash: the file's
 * digest, or "" */
static int record(struct timeline *t, const char *path, const ferry_dirent *e,
                  const ferry_deleted *del, const char *hash)
{
    const struct ferry_stat *st = &e->st;
    char mode[11];

    if (t->s->cl.broken)
        return -1;
    if (!del && S_ISDIR(st->mode) && t->nfs < MAX_MOUNTS) {
        int i = 0;
        while (i < t->nfs && t->dev[i] != st->dev)
            i++;
        if (i == t->nfs && (t->top[i] = strdup(path)))
            t->dev[t->nfs++] = st->dev;
    }
    if (t->json) {
        json_entry(stdout, path, st, e->link, t->alg >= 0 ? checksum_algs[t->alg] : NULL, hash,
                   del ? (del->known ? "known" : "reused") : NULL);
        return 0;
    }
    /* TSK's mode: the type letter ('r' for a file), '/', then ls's mode with
     * the same letter: r/rrw-r--r--, d/drwxr-xr-x, l/lrwxrwxrwx; a deleted
     * entry's as the Sleuth Kit wrote it (its name and inode may differ) */
    mode_string(st->mode, mode);
    if (mode[0] == '-')
        mode[0] = 'r';
    printf("%s|", hash[0] ? hash : "0");
    body_name(path);
    if (e->link[0]) {
        fputs(" -> ", stdout);
        body_name(e->link);
    }
    if (del)
        fputs(del->known ? " (deleted)" : " (deleted-realloc)", stdout);
    printf("|%llu|", (unsigned long long) st->ino);
    if (del)
        body_name(del->ls);
    else
        printf("%c/%s", mode[0], mode);
    printf("|%u|%u|%llu|%lld|%lld|%lld|%lld\n", st->uid, st->gid, (unsigned long long) st->size,
           (long long) st->atime.sec, (long long) st->mtime.sec, (long long) st->ctime.sec,
           st->has_btime ? (long long) st->btime.sec : 0LL);
    return 0;
}

static int visit(struct walk *w, const char *path, const char *rel, const ferry_dirent *e,
                 int depth)
{
    struct timeline *t = w->opaque;
    char hash[129] = "";

    (void) rel;
    (void) depth;
    /* a daemon that cannot read a tree whole: a download per file */
    if (t->alg >= 0 && S_ISREG(e->st.mode) &&
        file_digest(t->s, t->alg, path, hash, sizeof hash) < 0)
        t->errors++;
    return record(t, path, e, NULL, hash);
}

/* With digests, the tree is read in one call, each file's bytes hashed
 * here as they come (from the image itself where they lie plainly). */
static int hash_entry(struct tree_read *tr, const char *path, const ferry_dirent *e,
                      const struct tree_map *map, struct xfer *x)
{
    struct timeline *t = tr->opaque;

    (void) path;
    (void) map;
    if (S_ISREG(e->st.mode)) {
        digest_init(&t->digest, t->alg);
        *x = digest_xfer(&t->digest);
    }
    return 0;
}

static int hash_done(struct tree_read *tr, const char *path, const ferry_dirent *e, int err,
                     const char *msg)
{
    struct timeline *t = tr->opaque;
    char hash[129] = "";

    if (err) {
        report("timeline: %s: %s", path, msg);
        t->errors++;
    } else if (S_ISREG(e->st.mode)) {
        digest_hex(&t->digest, hash, sizeof hash);
    }
    return record(t, path, e, NULL, hash);
}

static int deleted_record(void *opaque, const ferry_deleted *del)
{
    struct timeline *t = opaque;
    ferry_dirent e = { .name = del->name, .st = del->st, .link = "" };
    char *path = join_path(t->at, del->name);
    int r = path ? record(t, path, &e, del, "") : -1;

    free(path);
    return r;
}

/* The deleted entries of every filesystem the walk met. One the Sleuth
 * Kit does not read (xfs, btrfs) has none to give: not an error. */
static void deleted_records(struct timeline *t)
{
    for (int i = 0; i < t->nfs && !t->s->cl.broken; i++) {
        t->at = t->top[i];
        int r = list_deleted(t->s, t->at, true, deleted_record, t);
        if (r == -1 && t->s->cl.err == ENOTSUP) {
            if (t->s->verbose)
                report("timeline: %s: no deleted entries: %s", t->at, t->s->cl.msg);
        } else if (r == -1) {
            report("timeline: %s", t->s->cl.msg);
            t->errors++;
        } else if (r < 0) {
            t->errors++;
        }
    }
}

int cmd_timeline(struct session *s, struct args *a)
{
    const char *alg = opt_val(a, "hash");
    struct timeline t = { .s = s,
                          .json = opt_on(a, "json"),
                          .alg = alg ? choice(checksum_algs, alg) : -1 };
    const char *top = a->argc ? a->argv[0] : "/";
    ferry_path_args pa = { .path = (char *) top };
    CLEANUP_XDR(ferry_stat_ret) st = { 0 };

    if (rpc_lstat(&s->cl, &pa, &st, NULL) < 0)
        return call_failed(s);
    ferry_dirent self = { (char *) top, st.st, "" };
    char hash[129] = "";
    if (t.alg >= 0 && S_ISREG(st.st.mode) && file_digest(s, t.alg, top, hash, sizeof hash) < 0)
        t.errors++;
    if (record(&t, top, &self, NULL, hash) < 0)
        return EXIT_FAILED;
    if (S_ISDIR(st.st.mode) && t.alg >= 0 && (s->cl.capabilities & FERRY_CAP_TREE)) {
        struct tree_read tr = {
            .s = s, .entry = hash_entry, .done = hash_done, .opaque = &t, .contents = true
        };
        if (tree_read(&tr, top) < 0) {
            report("timeline: %s", s->cl.msg);
            t.errors++;
        }
    } else if (S_ISDIR(st.st.mode)) {
        struct walk w = {
            .s = s, .visit = visit, .opaque = &t, .recursive = true, .visitor_calls = t.alg >= 0
        };
        if (walk_tree(&w, top) < 0)
            t.errors++;
        t.errors += w.errors;
    }
    if (S_ISDIR(st.st.mode)) {
        if (deleted_supported(s))
            deleted_records(&t);
    }
    for (int i = 0; i < t.nfs; i++)
        free(t.top[i]);
    return t.errors || s->cl.broken ? EXIT_FAILED : EXIT_OK;
}
