/* tree.c: mkdir, rm, chmod, chown, ln, mv, touch: changing the tree. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferry.h"

static unsigned parse_mode(const char *cmd, const char *s)
{
    char *end;
    unsigned long m = strtoul(s, &end, 8);

    if (!*s || *end || m > 07777)
        die(EXIT_USAGE, "%s: '%s' is not an octal mode", cmd, s);
    return m;
}

int cmd_mkdir(struct session *s, int argc, char **argv)
{
    ferry_mkdir_args a = { .mode = 0755 };
    int c, status = EXIT_OK;

    while ((c = getopt(argc, argv, "pm:")) != -1) {
        switch (c) {
        case 'p': a.parents = true; break;
        case 'm': a.mode = parse_mode("mkdir", optarg); break;
        default: return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        die(EXIT_USAGE, "mkdir: which path?");
    for (int i = optind; i < argc; i++) {
        ferry_void r;
        a.path = argv[i];
        if (rpc_mkdir(&s->cl, &a, &r, NULL) < 0)
            status = call_failed(s);
    }
    return status;
}

int cmd_rm(struct session *s, int argc, char **argv)
{
    ferry_rm_args a = { 0 };
    int c, status = EXIT_OK;

    while ((c = getopt(argc, argv, "rRf")) != -1) {
        switch (c) {
        case 'r': case 'R': a.recursive = true; break;
        case 'f': a.force = true; break;
        default: return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        die(EXIT_USAGE, "rm: which path?");
    for (int i = optind; i < argc; i++) {
        ferry_void r;
        a.path = argv[i];
        if (strcmp(a.path, "/") == 0)
            die(EXIT_USAGE, "rm: refusing to remove /");
        if (rpc_rm(&s->cl, &a, &r, NULL) < 0)
            status = call_failed(s);
    }
    return status;
}

int cmd_chmod(struct session *s, int argc, char **argv)
{
    int status = EXIT_OK;

    if (argc < 3)
        die(EXIT_USAGE, "usage: ferry chmod MODE PATH...");
    ferry_chmod_args a = { .mode = parse_mode("chmod", argv[1]) };
    for (int i = 2; i < argc; i++) {
        ferry_void r;
        a.path = argv[i];
        if (rpc_chmod(&s->cl, &a, &r, NULL) < 0)
            status = call_failed(s);
    }
    return status;
}

static int parse_id(const char *s, char **end)
{
    long v = strtol(s, end, 10);
    if (*end == s || v < 0 || v > 0x7fffffff)
        die(EXIT_USAGE, "chown: '%s' is not a numeric id", s);
    return v;
}

int cmd_chown(struct session *s, int argc, char **argv)
{
    ferry_chown_args a = { .uid = -1, .gid = -1 };
    int c, status = EXIT_OK;
    char *end;

    while ((c = getopt(argc, argv, "h")) != -1) {
        if (c != 'h')
            return EXIT_USAGE;
        a.nofollow = true;
    }
    if (argc - optind < 2)
        die(EXIT_USAGE, "usage: ferry chown [-h] UID[:GID] PATH...");
    const char *spec = argv[optind];
    if (*spec != ':')
        a.uid = parse_id(spec, &end);
    else
        end = (char *) spec;
    if (*end == ':') {
        a.gid = parse_id(end + 1, &end);
    }
    if (*end)
        die(EXIT_USAGE, "chown: '%s' is not UID[:GID]", spec);
    for (int i = optind + 1; i < argc; i++) {
        ferry_void r;
        a.path = argv[i];
        if (rpc_chown(&s->cl, &a, &r, NULL) < 0)
            status = call_failed(s);
    }
    return status;
}

int cmd_ln(struct session *s, int argc, char **argv)
{
    int c;
    bool symbolic = false;
    ferry_void r;

    while ((c = getopt(argc, argv, "s")) != -1) {
        if (c != 's')
            return EXIT_USAGE;
        symbolic = true;
    }
    if (!symbolic || argc - optind != 2)
        die(EXIT_USAGE, "usage: ferry ln -s TARGET LINK");
    ferry_symlink_args a = { .target = argv[optind], .path = argv[optind + 1] };
    if (rpc_symlink(&s->cl, &a, &r, NULL) < 0)
        return call_failed(s);
    return EXIT_OK;
}

int cmd_mv(struct session *s, int argc, char **argv)
{
    ferry_void r;

    if (argc != 3)
        die(EXIT_USAGE, "usage: ferry mv FROM TO");
    ferry_rename_args a = { .from = argv[1], .to = argv[2] };
    if (rpc_rename(&s->cl, &a, &r, NULL) < 0)
        return call_failed(s);
    return EXIT_OK;
}

/* 2026-11-21T19:40:09[.nnnnnnnnn]Z or @SECONDS[.nnnnnnnnn] */
static void parse_time(const char *s, struct ferry_time *t)
{
    struct tm tm = { 0 };
    const char *p;
    char *end;

    if (s[0] == '@') {
        t->sec = strtoll(s + 1, &end, 10);
        p = end;
    } else {
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
            die(EXIT_USAGE, "touch: '%s' is not a time (2026-11-21T19:40:09Z or @SECONDS)", s);
        t->sec = timegm(&tm);
    }
    t->nsec = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9)
                t->nsec = t->nsec * 10 + (*p - '0');
        for (; digits < 9; digits++)
            t->nsec *= 10;
    }
    if (s[0] != '@' && *p == 'Z')
        p++;
    if (*p)
        die(EXIT_USAGE, "touch: '%s' is not a time (2026-11-21T19:40:09Z or @SECONDS)", s);
}

int cmd_touch(struct session *s, int argc, char **argv)
{
    ferry_touch_args a = { .create = true, .now = true };
    int c, status = EXIT_OK;
    ferry_void r;

    while ((c = getopt(argc, argv, "chd:")) != -1) {
        switch (c) {
        case 'c': a.create = false; break;
        case 'h': a.nofollow = true; a.create = false; break;
        case 'd':
            parse_time(optarg, &a.mtime);
            a.atime = a.mtime;
            a.now = false;
            break;
        default: return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        die(EXIT_USAGE, "touch: which path?");
    for (int i = optind; i < argc; i++) {
        a.path = argv[i];
        /* like touch -c: a missing file is no error when not creating */
        if (rpc_touch(&s->cl, &a, &r, NULL) < 0 &&
            !(!a.create && s->cl.err == ENOENT && s->cl.remote))
            status = call_failed(s);
    }
    return status;
}
