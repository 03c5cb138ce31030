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
