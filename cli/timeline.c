/* timeline.c: a Sleuth Kit body file of a tree (TSK 3 format, what
 * 'mactime -b' reads), or the same as JSON lines with nanosecond times.
 *
 *   MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime
 *
 * One record is one line of eleven fields, so in names a '|', a backslash
 * and control bytes are written as \x7c, \\ and \xNN. */
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "ferry.h"

struct timeline {
    struct session *s;
    bool json;
    int alg;                 /* -1: no hashes */
    int errors;
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

static void record(struct timeline *t, const char *path, const ferry_dirent *e)
{
    const struct ferry_stat *st = &e->st;
    char hash[129] = "";

    if (t->alg >= 0 && S_ISREG(st->mode)) {
        ferry_checksum_args a = { .alg = t->alg, .path = (char *) path };
        CLEANUP_XDR(ferry_checksum_ret) r = { 0 };
        if (rpc_checksum(&t->s->cl, &a, &r, NULL) == 0)
            snprintf(hash, sizeof hash, "%s", r.hex);
        else if (t->s->cl.broken)
            ferry_exit(call_failed(t->s));
        else
            call_error(t->s), t->errors++;
    }
    if (t->json) {
        printf("{\"path\":");
        put_json_string(stdout, path);
        printf(",\"type\":\"%s\",\"inode\":%llu,\"mode\":\"%04o\",\"uid\":%u,\"gid\":%u,"
               "\"size\":%llu", type_name(st->mode), (unsigned long long) st->ino,
               st->mode & 07777, st->uid, st->gid, (unsigned long long) st->size);
        put_json_times(stdout, st);
        if (e->link[0]) {
            printf(",\"link\":");
            put_json_string(stdout, e->link);
        }
        if (hash[0])
            printf(",\"hash\":\"%s\"", hash);
        printf("}\n");
        return;
    }
    /* TSK's mode: the type letter ('r' for a file), '/', then ls's mode with
     * the same letter: r/rrw-r--r--, d/drwxr-xr-x, l/lrwxrwxrwx */
    char mode[11];
    mode_string(st->mode, mode);
    if (mode[0] == '-')
        mode[0] = 'r';
    printf("%s|", hash[0] ? hash : "0");
    body_name(path);
    if (e->link[0]) {
        fputs(" -> ", stdout);
        body_name(e->link);
    }
    printf("|%llu|%c/%s|%u|%u|%llu|%lld|%lld|%lld|%lld\n", (unsigned long long) st->ino,
           mode[0], mode, st->uid, st->gid,
           (unsigned long long) st->size, (long long) st->atime.sec, (long long) st->mtime.sec,
           (long long) st->ctime.sec, st->has_btime ? (long long) st->btime.sec : 0LL);
}

static void walk(struct timeline *t, const char *dir)
{
    struct entries e;

    if (list_dir(t->s, dir, &e) < 0) {
        if (t->s->cl.broken)
            ferry_exit(call_failed(t->s));
        call_error(t->s);
        t->errors++;
        return;
    }
    for (size_t i = 0; i < e.n; i++) {
        char *path = join_path(dir, e.v[i].name);
        record(t, path, &e.v[i]);
        if (S_ISDIR(e.v[i].st.mode))
            walk(t, path);
        free(path);
    }
    free_entries(&e);
}

int cmd_timeline(struct session *s, int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, 0, 'j' },
        { "hash", required_argument, 0, 'H' },
        { 0, 0, 0, 0 },
    };
    static const char *const algs[] = { "md5", "sha1", "sha256", NULL };
    struct timeline t = { .s = s, .alg = -1 };
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': t.json = true; break;
        case 'H':
            for (t.alg = 0; algs[t.alg] && strcmp(algs[t.alg], optarg); t.alg++)
                ;
            if (!algs[t.alg])
                die(EXIT_USAGE, "timeline: --hash takes md5, sha1 or sha256");
            break;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind > 1)
        die(EXIT_USAGE, "usage: ferry timeline [--json] [--hash ALG] [PATH]");
    const char *top = optind < argc ? argv[optind] : "/";
    ferry_path_args a = { .path = (char *) top };
    CLEANUP_XDR(ferry_stat_ret) st = { 0 };
    if (rpc_lstat(&s->cl, &a, &st, NULL) < 0)
        return call_failed(s);
    ferry_dirent self = { (char *) top, st.st, "" };
    record(&t, top, &self);
    if (S_ISDIR(st.st.mode))
        walk(&t, top);
    return t.errors ? EXIT_FAILED : EXIT_OK;
}
