/* tree.c: mkdir, rm, chmod, chown, ln, mv, touch: changing the tree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "output/output.h"

static int parse_mode(const char *label, const char *s, unsigned *mode)
{
    char *end;
    unsigned long m = strtoul(s, &end, 8);

    if (!*s || *end || m > 07777)
        return usage_error(label, "'%s' is not an octal mode", s);
    *mode = m;
    return 0;
}

/* Run one call per path operand, from the first-th on. */
#define EACH_PATH(first, call)                                                                     \
    int status = EXIT_OK;                                                                          \
    for (int i = (first); i < a->argc && !s->cl.broken; i++) {                                     \
        ferry_void v;                                                                              \
        args.path = a->argv[i];                                                                    \
        if (rpc_##call(&s->cl, &args, &v, NULL) < 0)                                               \
            status = call_failed(s);                                                               \
    }                                                                                              \
    return status

int cmd_mkdir(struct session *s, struct args *a)
{
    ferry_mkdir_args args = { .mode = 0755, .parents = opt_on(a, "parents") };

    if (opt_on(a, "mode") && parse_mode(a->label, opt_val(a, "mode"), &args.mode))
        return EXIT_USAGE;
    EACH_PATH(0, mkdir);
}

int cmd_rm(struct session *s, struct args *a)
{
    ferry_rm_args args = { .recursive = opt_on(a, "recursive"), .force = opt_on(a, "force") };

    for (int i = 0; i < a->argc; i++)
        if (!strcmp(a->argv[i], "/"))
            return usage_error(a->label, "refusing to remove /");
    EACH_PATH(0, rm);
}

int cmd_chmod(struct session *s, struct args *a)
{
    ferry_chmod_args args = { 0 };

    if (parse_mode(a->label, a->argv[0], &args.mode))
        return EXIT_USAGE;
    EACH_PATH(1, chmod);
}

static int parse_id(const char *s, char **end, int *id)
{
    long v = strtol(s, end, 10);
    if (*end == s || v < 0 || v > 0x7fffffff)
        return -1;
    *id = v;
    return 0;
}

int cmd_chown(struct session *s, struct args *a)
{
    ferry_chown_args args = { .uid = -1, .gid = -1, .nofollow = opt_on(a, "no-dereference") };
    const char *spec = a->argv[0];
    char *end = (char *) spec;

    if ((*spec != ':' && parse_id(spec, &end, &args.uid) < 0) ||
        (*end == ':' && parse_id(end + 1, &end, &args.gid) < 0) || *end)
        return usage_error(a->label, "'%s' is not UID[:GID] (numeric)", spec);
    EACH_PATH(1, chown);
}

int cmd_ln(struct session *s, struct args *a)
{
    ferry_void v;

    if (!opt_on(a, "symbolic"))
        return usage_error(a->label, "only symbolic links: ln -s TARGET LINK");
    ferry_symlink_args args = { .target = a->argv[0], .path = a->argv[1] };
    if (rpc_symlink(&s->cl, &args, &v, NULL) < 0)
        return call_failed(s);
    return EXIT_OK;
}

int cmd_mv(struct session *s, struct args *a)
{
    ferry_void v;
    ferry_rename_args args = { .from = a->argv[0], .to = a->argv[1] };

    if (rpc_rename(&s->cl, &args, &v, NULL) < 0)
        return call_failed(s);
    return EXIT_OK;
}

/* 2026-11-21T19:40:09[.nnnnnnnnn]Z or @SECONDS[.nnnnnnnnn] */
static int parse_time(const char *s, struct ferry_time *t)
{
    struct tm tm = { 0 };
    const char *p;
    char *end;

    if (s[0] == '@') {
        t->sec = strtoll(s + 1, &end, 10);
        p = end;
        if (p == s + 1)
            return -1;
    } else {
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
            return -1;
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
    return *p ? -1 : 0;
}

int cmd_touch(struct session *s, struct args *a)
{
    ferry_touch_args args = { .create = !opt_on(a, "no-create"),
                              .now = true,
                              .nofollow = opt_on(a, "no-dereference") };
    const char *date = opt_val(a, "date");
    int status = EXIT_OK;
    ferry_void v;

    if (args.nofollow)
        args.create = false;
    if (date) {
        if (parse_time(date, &args.mtime) < 0)
            return usage_error(a->label, "'%s' is not a time (2026-11-21T19:40:09Z or @SECONDS)",
                               date);
        args.atime = args.mtime;
        args.now = false;
    }
    for (int i = 0; i < a->argc && !s->cl.broken; i++) {
        args.path = a->argv[i];
        /* like touch -c: a missing file is no error when not creating */
        if (rpc_touch(&s->cl, &args, &v, NULL) < 0 &&
            !(!args.create && s->cl.err == ENOENT && s->cl.remote))
            status = call_failed(s);
    }
    return status;
}
