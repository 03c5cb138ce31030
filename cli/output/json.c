/* json.c: the one JSON writer: an object per line, keys in the order
 * given. A string that is not UTF-8 is written with U+FFFD in place of the
 * bad bytes, and exactly once more as hex under KEY_hex. */
#include "output/output.h"

void json_begin(struct json *j, FILE *f)
{
    j->f = f;
    j->first = true;
    fputc('{', f);
}

static void key(struct json *j, const char *k)
{
    fprintf(j->f, "%s\"%s\":", j->first ? "" : ",", k);
    j->first = false;
}

void json_str(struct json *j, const char *k, const char *val)
{
    key(j, k);
    json_string(j->f, val);
    if (is_utf8(val))
        return;
    fprintf(j->f, ",\"%s_hex\":\"", k);
    for (const unsigned char *p = (const unsigned char *) val; *p; p++)
        fprintf(j->f, "%02x", *p);
    fputc('"', j->f);
}

void json_uint(struct json *j, const char *k, unsigned long long v)
{
    key(j, k);
    fprintf(j->f, "%llu", v);
}

void json_int(struct json *j, const char *k, long long v)
{
    key(j, k);
    fprintf(j->f, "%lld", v);
}

void json_bool(struct json *j, const char *k, bool v)
{
    key(j, k);
    fputs(v ? "true" : "false", j->f);
}

void json_time(struct json *j, const char *k, const struct ferry_time *t)
{
    key(j, k);
    if (!t) {
        fputs("null", j->f);
        return;
    }
    fputc('"', j->f);
    put_time(j->f, t);
    fputc('"', j->f);
}

void json_end(struct json *j)
{
    fputs("}\n", j->f);
}

/* The one record shape of a file, for ls --json and timeline --json. */
void json_entry(FILE *f, const char *path, const struct ferry_stat *st, const char *link,
                const char *alg, const char *digest, const char *deleted)
{
    struct json j;
    char mode[8];

    snprintf(mode, sizeof mode, "%04o", st->mode & 07777);
    json_begin(&j, f);
    json_str(&j, "path", path);
    json_str(&j, "type", type_name(st->mode));
    json_str(&j, "mode", mode);
    json_uint(&j, "nlink", st->nlink);
    json_uint(&j, "uid", st->uid);
    json_uint(&j, "gid", st->gid);
    json_uint(&j, "size", st->size);
    json_uint(&j, "inode", st->ino);
    json_uint(&j, "blocks", st->blocks);
    json_time(&j, "atime", &st->atime);
    json_time(&j, "mtime", &st->mtime);
    json_time(&j, "ctime", &st->ctime);
    json_time(&j, "btime", st->has_btime ? &st->btime : NULL);
    if (link && link[0])
        json_str(&j, "link", link);
    if (alg && digest && digest[0])
        json_str(&j, alg, digest);
    if (deleted) {
        json_bool(&j, "deleted", true);
        json_str(&j, "metadata", deleted);
    }
    json_end(&j);
}
