/* ls.c: ls, stat and readlink: looking at metadata. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ferry.h"

char type_char(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR: return 'd';
    case S_IFLNK: return 'l';
    case S_IFCHR: return 'c';
    case S_IFBLK: return 'b';
    case S_IFIFO: return 'p';
    case S_IFSOCK: return 's';
    default: return '-';
    }
}

const char *type_name(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR: return "directory";
    case S_IFLNK: return "symlink";
    case S_IFCHR: return "char-device";
    case S_IFBLK: return "block-device";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    case S_IFREG: return "file";
    default: return "unknown";
    }
}

void mode_string(unsigned mode, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";

    out[0] = type_char(mode);
    for (int i = 0; i < 9; i++)
        out[1 + i] = mode & (0400 >> i) ? rwx[i] : '-';
    if (mode & S_ISUID)
        out[3] = mode & S_IXUSR ? 's' : 'S';
    if (mode & S_ISGID)
        out[6] = mode & S_IXGRP ? 's' : 'S';
    if (mode & S_ISVTX)
        out[9] = mode & S_IXOTH ? 't' : 'T';
    out[10] = '\0';
}

/* 2026-11-21T19:40:09.123456789Z */
void put_time(FILE *f, const struct ferry_time *t)
{
    struct tm tm;
    time_t sec = t->sec;
    char buf[40];

    gmtime_r(&sec, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "%s.%09uZ", buf, t->nsec);
}

static void put_short_time(FILE *f, const struct ferry_time *t)
{
    struct tm tm;
    time_t sec = t->sec;
    char buf[40];

    gmtime_r(&sec, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    fputs(buf, f);
}

/* ,"atime":"...","mtime":"...","ctime":"...","btime":"..." or null */
void put_json_times(FILE *f, const struct ferry_stat *st)
{
    const struct { const char *k; const struct ferry_time *t; } times[] = {
        { "atime", &st->atime }, { "mtime", &st->mtime }, { "ctime", &st->ctime },
        { "btime", st->has_btime ? &st->btime : NULL },
    };

    for (size_t i = 0; i < 4; i++) {
        fprintf(f, ",\"%s\":", times[i].k);
        if (!times[i].t) {
            fputs("null", f);
            continue;
        }
        fputc('"', f);
        put_time(f, times[i].t);
        fputc('"', f);
    }
}

struct ls_opts {
    bool longfmt, all, recursive, times, json;
    int checksum;            /* -1 none, else a ferry_checksum_alg */
    struct session *s;
    const char *dir;         /* the listed directory, for --checksum */
};

/* --checksum: the digest of a regular file in the listing, or "" */
static void entry_checksum(const struct ls_opts *o, const char *name, const struct ferry_stat *st,
                           char *out, size_t size)
{
    out[0] = '\0';
    if (o->checksum < 0 || !S_ISREG(st->mode))
        return;
    char *path = join_path(o->dir, name);
    ferry_checksum_args a = { .alg = o->checksum, .path = path };
    CLEANUP_XDR(ferry_checksum_ret) r = { 0 };
    if (rpc_checksum(&o->s->cl, &a, &r, NULL) == 0)
        snprintf(out, size, "%s", r.hex);
    else
        call_failed(o->s);
    free(path);
}

static void put_json_entry(const char *name, const struct ferry_stat *st, const char *link,
                           const char *sum)
{
    printf("{\"name\":");
    put_json_string(stdout, name);
    if (!is_utf8(name)) {
        printf(",\"name_hex\":\"");
        for (const unsigned char *p = (const unsigned char *) name; *p; p++)
            printf("%02x", *p);
        printf("\"");
    }
    printf(",\"type\":\"%s\",\"mode\":\"%04o\",\"nlink\":%u,\"uid\":%u,\"gid\":%u,"
           "\"size\":%llu,\"ino\":%llu,\"blocks\":%llu",
           type_name(st->mode), st->mode & 07777, st->nlink, st->uid, st->gid,
           (unsigned long long) st->size, (unsigned long long) st->ino,
           (unsigned long long) st->blocks);
    put_json_times(stdout, st);
    if (link[0]) {
        printf(",\"link\":");
        put_json_string(stdout, link);
    }
    if (sum[0])
        printf(",\"checksum\":\"%s\"", sum);
    printf("}\n");
}

static void put_entry(const struct ls_opts *o, const char *name, const struct ferry_stat *st,
                      const char *link)
{
    char mode[11], sum[129];

    entry_checksum(o, name, st, sum, sizeof sum);
    if (o->json) {
        put_json_entry(name, st, link, sum);
        return;
    }
    if (o->checksum >= 0)
        printf("%-*s  ", o->checksum == FERRY_MD5 ? 32 : o->checksum == FERRY_SHA1 ? 40
                         : o->checksum == FERRY_SHA256 ? 64 : 128, sum[0] ? sum : "-");
    if (o->longfmt) {
        mode_string(st->mode, mode);
        printf("%s %3u %5u %5u %10llu ", mode, st->nlink, st->uid, st->gid,
               (unsigned long long) st->size);
        put_short_time(stdout, &st->mtime);
        putchar(' ');
    }
    if (o->times) {
        const struct ferry_time *t[] = { &st->atime, &st->mtime, &st->ctime };
        for (int i = 0; i < 3; i++) {
            put_time(stdout, t[i]);
            putchar(' ');
        }
        if (st->has_btime)
            put_time(stdout, &st->btime);
        else
            fputs("-", stdout);
        putchar(' ');
    }
    put_name(stdout, name, stdout_is_tty());
    if (o->longfmt && link[0]) {
        fputs(" -> ", stdout);
        put_name(stdout, link, stdout_is_tty());
    }
    putchar('\n');
}

/* Entries arrive in batches; a plain listing is sorted like ls does, a
 * recursive one streams in walk order (constant memory). */
struct listing {
    const struct ls_opts *o;
    struct entries saved;
};

static bool hidden(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (base[0] == '.')
        return true;
    /* in a recursive listing, whatever is below a hidden directory too */
    return strstr(path, "/.") != NULL || path[0] == '.';
}

static int on_batch(void *opaque, const void *buf, size_t len)
{
    struct listing *l = opaque;
    ferry_dirent_batch b = { 0 };

    if (xdr_decode_bytes(buf, len, (xdrproc_t) xdr_ferry_dirent_batch, &b) < 0)
        return -1;
    for (u_int i = 0; i < b.entries.entries_len; i++) {
        ferry_dirent *e = &b.entries.entries_val[i];
        if (!l->o->all && hidden(e->name))
            continue;
        if (l->o->recursive && l->o->checksum < 0) {
            put_entry(l->o, e->name, &e->st, e->link);
            continue;
        }
        entries_add(&l->saved, e);
    }
    xdr_free((xdrproc_t) xdr_ferry_dirent_batch, (char *) &b);
    return ferror(stdout) ? -1 : 0;
}

static int no_holes(void *opaque, uint64_t len)
{
    (void) opaque;
    (void) len;
    errno = EBADMSG;
    return -1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const ferry_dirent *) a)->name, ((const ferry_dirent *) b)->name);
}

/* List one directory. */
static int list_one(struct session *s, struct ls_opts *o, const char *path)
{
    ferry_list_args a = { .path = (char *) path, .recursive = o->recursive };
    struct listing l = { .o = o };

    o->s = s;
    o->dir = path;
    struct xfer x = { .data = on_batch, .hole = no_holes, .opaque = &l };
    ferry_void r;
    int status = EXIT_OK;

    if (rpc_list(&s->cl, &a, &r, &x) < 0)
        status = call_failed(s);
    qsort(l.saved.v, l.saved.n, sizeof *l.saved.v, by_name);
    for (size_t i = 0; status == EXIT_OK && i < l.saved.n; i++)
        put_entry(o, l.saved.v[i].name, &l.saved.v[i].st, l.saved.v[i].link);
    free_entries(&l.saved);
    return status;
}

int cmd_ls(struct session *s, int argc, char **argv)
{
    static const struct option opts[] = {
        { "time", no_argument, 0, 't' },
        { "json", no_argument, 0, 'j' },
        { "checksum", optional_argument, 0, 'c' },
        { 0, 0, 0, 0 },
    };
    static const char *const algs[] = { "md5", "sha1", "sha256", "sha512", NULL };
    struct ls_opts o = { .checksum = -1 };
    int c;

    while ((c = getopt_long(argc, argv, "laR", opts, NULL)) != -1) {
        switch (c) {
        case 'l': o.longfmt = true; break;
        case 'a': o.all = true; break;
        case 'R': o.recursive = true; break;
        case 't': o.times = true; break;
        case 'j': o.json = true; break;
        case 'c':
            for (o.checksum = 0; algs[o.checksum] && optarg && strcmp(algs[o.checksum], optarg);
                 o.checksum++)
                ;
            if (!optarg)
                o.checksum = FERRY_SHA256;
            else if (!algs[o.checksum])
                die(EXIT_USAGE, "ls: --checksum takes md5, sha1, sha256 or sha512");
            break;
        default: return EXIT_USAGE;
        }
    }
    int status = EXIT_OK, npaths = argc - optind;
    char *root[] = { "/" };
    char **paths = npaths ? argv + optind : root;

    for (int i = 0; i < (npaths ? npaths : 1); i++) {
        if (npaths > 1 && !o.json) {
            printf("%s", i ? "\n" : "");
            put_name(stdout, paths[i], stdout_is_tty());
            printf(":\n");
        }
        if (list_one(s, &o, paths[i]) != EXIT_OK)
            status = EXIT_FAILED;
    }
    return status;
}

int cmd_stat(struct session *s, int argc, char **argv)
{
    int status = EXIT_OK;

    if (argc < 2)
        die(EXIT_USAGE, "stat: which path?");
    for (int i = 1; i < argc; i++) {
        ferry_path_args a = { .path = argv[i] };
        CLEANUP_XDR(ferry_stat_ret) r = { 0 };
        char mode[11];

        if (rpc_lstat(&s->cl, &a, &r, NULL) < 0) {
            status = call_failed(s);
            continue;
        }
        const struct ferry_stat *st = &r.st;
        mode_string(st->mode, mode);
        printf("  File: ");
        put_name(stdout, argv[i], stdout_is_tty());
        printf("\n  Type: %s\n  Mode: %04o (%s)\n  Size: %llu\tBlocks: %llu\tIO Block: %u\n"
               "Device: %llu:%llu\tInode: %llu\tLinks: %u\n   Uid: %u\tGid: %u\n",
               type_name(st->mode), st->mode & 07777, mode, (unsigned long long) st->size,
               (unsigned long long) st->blocks, st->blksize,
               (unsigned long long) (st->dev >> 32), (unsigned long long) (st->dev & 0xffffffff),
               (unsigned long long) st->ino, st->nlink, st->uid, st->gid);
        if (S_ISCHR(st->mode) || S_ISBLK(st->mode))
            printf("  Rdev: %llu:%llu\n", (unsigned long long) (st->rdev >> 32),
                   (unsigned long long) (st->rdev & 0xffffffff));
        printf("Access: ");
        put_time(stdout, &st->atime);
        printf("\nModify: ");
        put_time(stdout, &st->mtime);
        printf("\nChange: ");
        put_time(stdout, &st->ctime);
        printf("\n Birth: ");
        if (st->has_btime)
            put_time(stdout, &st->btime);
        else
            printf("-");
        printf("\n");
    }
    return status;
}

int cmd_readlink(struct session *s, int argc, char **argv)
{
    int status = EXIT_OK;

    if (argc < 2)
        die(EXIT_USAGE, "readlink: which path?");
    for (int i = 1; i < argc; i++) {
        ferry_path_args a = { .path = argv[i] };
        CLEANUP_XDR(ferry_readlink_ret) r = { 0 };

        if (rpc_readlink(&s->cl, &a, &r, NULL) < 0) {
            status = call_failed(s);
            continue;
        }
        put_name(stdout, r.target, stdout_is_tty());
        putchar('\n');
    }
    return status;
}
