/* registry.c: Windows registry values, read in the appliance by hivex
 * (FERRY_REG_VALUES), for inspect and the registry command. */
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "ferry.h"

enum { REG_SZ = 1, REG_EXPAND_SZ = 2, REG_DWORD = 4 };

void reg_key(struct session *s, const char *hive, const char *key, ferry_reg_ret *r)
{
    ferry_reg_args a = { (char *) hive, (char *) key };

    if (rpc_reg_values(&s->cl, &a, r, NULL) < 0) {
        if (s->cl.broken)
            ferry_exit(call_failed(s));
        memset(r, 0, sizeof *r);
    }
}

static const ferry_reg_value *reg_find(const ferry_reg_ret *r, const char *name)
{
    for (unsigned i = 0; i < r->values.values_len; i++)
        if (!strcasecmp(r->values.values_val[i].name, name))
            return &r->values.values_val[i];
    return NULL;
}

/* UTF-16LE as UTF-8, up to the first NUL or what fits. */
static void utf16_text(const ferry_reg_value *v, char *out, size_t size)
{
    char *in = v->data.data_val, *o = out;
    size_t inlen = v->data.data_len & ~1u, outlen = size - 1;
    iconv_t cd = iconv_open("UTF-8", "UTF-16LE");

    if (cd != (iconv_t) -1) {
        iconv(cd, &in, &inlen, &o, &outlen);   /* stops at bad input or a full out */
        iconv_close(cd);
    }
    *o = '\0';
}

void reg_text(const ferry_reg_ret *r, const char *name, char *out, size_t size)
{
    const ferry_reg_value *v = reg_find(r, name);

    out[0] = '\0';
    if (v && (v->type == REG_SZ || v->type == REG_EXPAND_SZ))
        utf16_text(v, out, size);
}

static long long dword(const ferry_reg_value *v)
{
    const unsigned char *p = (const unsigned char *) v->data.data_val;

    if (v->type != REG_DWORD || v->data.data_len != 4)
        return -1;
    return (long long) p[0] | p[1] << 8 | p[2] << 16 | (long long) p[3] << 24;
}

long long reg_dword(const ferry_reg_ret *r, const char *name)
{
    const ferry_reg_value *v = reg_find(r, name);
    return v ? dword(v) : -1;
}

/* ---- the command: values as regedit exports them ---- */

/* "text" with \ and " escaped, as a .reg file has them */
static void put_reg_string(const char *text, bool tty)
{
    size_t n = strlen(text);
    char *q = xmalloc(2 * n + 3), *o = q;

    *o++ = '"';
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            *o++ = '\\';
        *o++ = *p;
    }
    *o++ = '"';
    *o = '\0';
    put_name(stdout, q, tty);   /* control bytes escaped on a terminal */
    free(q);
}

static void put_value(const ferry_reg_value *v, bool tty)
{
    if (v->name[0])
        put_reg_string(v->name, tty);
    else
        putchar('@');           /* the key's default value */
    putchar('=');
    if (v->type == REG_SZ && !v->truncated) {
        char *text = xmalloc(v->data.data_len * 3 / 2 + 4);
        utf16_text(v, text, v->data.data_len * 3 / 2 + 4);
        put_reg_string(text, tty);
        free(text);
    } else if (dword(v) >= 0) {
        printf("dword:%08llx", dword(v));
    } else {
        printf(v->type == 3 ? "hex:" : "hex(%x):", v->type);
        for (unsigned i = 0; i < v->data.data_len; i++)
            printf("%s%02x", i ? "," : "", (unsigned char) v->data.data_val[i]);
    }
    putchar('\n');
    if (v->truncated)
        printf("; the value above is cut at %d bytes\n", FERRY_MAX_REG_DATA);
}

int cmd_registry(struct session *s, int argc, char **argv)
{
    CLEANUP_XDR(ferry_reg_ret) r = { 0 };
    bool tty = stdout_is_tty();

    if (argc < 2 || argc > 3)
        die(EXIT_USAGE, "usage: ferry registry HIVE [KEY]");
    ferry_reg_args a = { argv[1], argc == 3 ? argv[2] : "" };
    if (rpc_reg_values(&s->cl, &a, &r, NULL) < 0)
        return call_failed(s);
    for (unsigned i = 0; i < r.values.values_len; i++)
        put_value(&r.values.values_val[i], tty);
    return EXIT_OK;
}
