/* ls.c: ls, stat and readlink: looking at metadata. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "guest/guest.h"
#include "output/output.h"

struct ls {
    struct session *s;
    bool longfmt, all, times, json, inode, deleted;
    int alg; /* --checksum: a ferry_checksum_alg, or -1 */
    int errors;
};

/* Hidden: a name starting with a dot, or anything below one. */
static bool hidden(const char *rel)
{
    return rel[0] == '.' || strstr(rel, "/.") != NULL;
}

static const int digest_width[] = { 32, 40, 64, 128 };

/* One line (or JSON record) of an entry; del: a deleted one, found by the
 * Sleuth Kit, whose metadata may be gone (another file has its inode). */
static int show(struct ls *o, const char *path, const char *rel, const ferry_dirent *e,
                const ferry_deleted *del)
{
    const struct ferry_stat *st = &e->st;
    bool tty = stdout_is_tty(), known = !del || del->known;
    char mode[11], sum[129] = "";

    if (!del && o->alg >= 0 && S_ISREG(st->mode) &&
        file_digest(o->s, o->alg, path, sum, sizeof sum) < 0)
        o->errors++;
    if (o->s->cl.broken)
        return -1;
    if (o->json) {
        json_entry(stdout, path, st, e->link, o->alg >= 0 ? checksum_algs[o->alg] : NULL, sum,
                   del ? (del->known ? "known" : "reused") : NULL);
        return ferror(stdout) ? -1 : 0;
    }
    if (o->inode) /* first, as ls -i: what icat and the Sleuth Kit take */
        printf("%8llu ", (unsigned long long) st->ino);
    if (o->alg >= 0)
        printf("%-*s  ", digest_width[o->alg], sum[0] ? sum : "-");
    if (o->longfmt && known) {
        mode_string(st->mode, mode);
        printf("%s %3u %5u %5u %10llu ", mode, st->nlink, st->uid, st->gid,
               (unsigned long long) st->size);
        put_minute(stdout, &st->mtime);
        putchar(' ');
    } else if (o->longfmt) {
        printf("%c????????? %3s %5s %5s %10s %-16s ", type_char(st->mode), "?", "?", "?", "?", "?");
    }
    if (o->times) {
        const struct ferry_time *t[] = { &st->atime, &st->mtime, &st->ctime };
        for (int i = 0; i < 3; i++) {
            if (known)
                put_time(stdout, t[i]);
            else
                fputs("-", stdout);
            putchar(' ');
        }
        if (known && st->has_btime)
            put_time(stdout, &st->btime);
        else
            fputs("-", stdout);
        putchar(' ');
    }
    put_name(stdout, rel, tty);
    if (o->longfmt && e->link[0]) {
        fputs(" -> ", stdout);
        put_name(stdout, e->link, tty);
    }
    if (del)
        fputs(known ? "  (deleted)" : "  (deleted; its inode is reused)", stdout);
    putchar('\n');
    return ferror(stdout) ? -1 : 0;
}

static int put_entry(struct walk *w, const char *path, const char *rel, const ferry_dirent *e,
                     int depth)
{
    struct ls *o = w->opaque;

    (void) depth;
    if (!o->all && hidden(rel))
        return 1; /* nor what is below it */
    return show(o, path, rel, e, NULL);
}

struct deleted_in {
    struct ls *o;
    const char *top;
};

static int put_deleted(void *opaque, const ferry_deleted *del)
{
    struct deleted_in *in = opaque;
    ferry_dirent e = { .name = del->name, .st = del->st, .link = "" };
    char *path = join_path(in->top, del->name);

    if (!path)
        return -1;
    int r = in->o->all || !hidden(del->name) ? show(in->o, path, del->name, &e, del) : 0;
    free(path);
    return r;
}

/* The deleted entries of top's filesystem in top (or below it). */
static int deleted_entries(struct ls *o, const char *top, bool recursive)
{
    struct deleted_in in = { o, top };
    int r = list_deleted(o->s, top, recursive, put_deleted, &in);

    if (r == -1)
        report("ls: %s", o->s->cl.msg);
    return r;
}

int cmd_ls(struct session *s, struct args *a)
{
    const char *alg = opt_val(a, "checksum");
    struct ls o = {
        .s = s,
        .longfmt = opt_on(a, "long"),
        .all = opt_on(a, "all"),
        .times = opt_on(a, "time"),
        .json = opt_on(a, "json"),
        .inode = opt_on(a, "inode"),
        .deleted = opt_on(a, "deleted"),
        .alg = !alg     ? -1
               : alg[0] ? choice(checksum_algs, alg)
                        : FERRY_SHA256,
    };
    char *root[] = { "/" };
    char **paths = a->argc ? a->argv : root;
    int n = a->argc ? a->argc : 1, status = EXIT_OK;

    for (int i = 0; i < n && !s->cl.broken; i++) {
        struct walk w = {
            .s = s,
            .visit = put_entry,
            .opaque = &o,
            .recursive = opt_on(a, "recursive"),
            /* a recursive listing streams in the daemon's order, in
             * constant memory; digests need calls of their own */
            .sorted = !opt_on(a, "recursive") || o.alg >= 0,
            .visitor_calls = o.alg >= 0,
        };
        if (n > 1 && !o.json) {
            printf("%s", i ? "\n" : "");
            put_name(stdout, paths[i], stdout_is_tty());
            printf(":\n");
        }
        bool listed = walk_tree(&w, paths[i]) == 0 && !w.errors;
        if (!listed)
            status = EXIT_FAILED; /* and said: no second word on the same path */
        else if (o.deleted && !s->cl.broken && deleted_entries(&o, paths[i], w.recursive) < 0)
            status = EXIT_FAILED;
    }
    if (o.errors)
        status = EXIT_FAILED;
    return s->cl.broken ? EXIT_FAILED : status;
}

int cmd_stat(struct session *s, struct args *a)
{
    int status = EXIT_OK;
    bool tty = stdout_is_tty();

    for (int i = 0; i < a->argc && !s->cl.broken; i++) {
        ferry_path_args args = { .path = a->argv[i] };
        CLEANUP_XDR(ferry_stat_ret) r = { 0 };
        char mode[11];

        if (rpc_lstat(&s->cl, &args, &r, NULL) < 0) {
            status = call_failed(s);
            continue;
        }
        const struct ferry_stat *st = &r.st;
        mode_string(st->mode, mode);
        printf("  File: ");
        put_name(stdout, a->argv[i], tty);
        printf("\n  Type: %s\n  Mode: %04o (%s)\n  Size: %llu\tBlocks: %llu\tIO Block: %u\n"
               "Device: %llu:%llu\tInode: %llu\tLinks: %u\n   Uid: %u\tGid: %u\n",
               type_name(st->mode), st->mode & 07777, mode, (unsigned long long) st->size,
               (unsigned long long) st->blocks, st->blksize, (unsigned long long) (st->dev >> 32),
               (unsigned long long) (st->dev & 0xffffffff), (unsigned long long) st->ino, st->nlink,
               st->uid, st->gid);
        if (S_ISCHR(st->mode) || S_ISBLK(st->mode))
            printf("  Rdev: %llu:%llu\n", (unsigned long long) (st->rdev >> 32),
                   (unsigned long long) (st->rdev & 0xffffffff));
        const char *label[] = { "Access", "Modify", "Change", " Birth" };
        const struct ferry_time *t[] = { &st->atime, &st->mtime, &st->ctime,
                                         st->has_btime ? &st->btime : NULL };
        for (int k = 0; k < 4; k++) {
            printf("%s: ", label[k]);
            if (t[k])
                put_time(stdout, t[k]);
            else
                printf("-");
            printf("\n");
        }
    }
    return status;
}

int cmd_readlink(struct session *s, struct args *a)
{
    int status = EXIT_OK;

    for (int i = 0; i < a->argc && !s->cl.broken; i++) {
        ferry_path_args args = { .path = a->argv[i] };
        CLEANUP_XDR(ferry_readlink_ret) r = { 0 };

        if (rpc_readlink(&s->cl, &args, &r, NULL) < 0) {
            status = call_failed(s);
            continue;
        }
        put_name(stdout, r.target, stdout_is_tty());
        putchar('\n');
    }
    return status;
}
