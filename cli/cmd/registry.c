/* registry.c: the registry command: the values of a key of a hive, as
 * regedit exports them. */
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "guest/guest.h"
#include "output/output.h"

enum { REG_SZ = 1, REG_BINARY = 3, REG_DWORD = 4 };

/* "text" with \ and " escaped, as a .reg file has them */
static void put_reg_string(const char *text, bool tty)
{
    size_t n = strlen(text);
    char *q = malloc(2 * n + 3), *o = q;

    if (!q)
        return;
    *o++ = '"';
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            *o++ = '\\';
        *o++ = *p;
    }
    *o++ = '"';
    *o = '\0';
    put_name(stdout, q, tty); /* control bytes escaped on a terminal */
    free(q);
}

static void put_value(const ferry_reg_value *v, bool tty)
{
    const unsigned char *d = (const unsigned char *) v->data.data_val;

    if (v->name[0])
        put_reg_string(v->name, tty);
    else
        putchar('@'); /* the key's default value */
    putchar('=');
    if (v->type == REG_SZ && !v->truncated) {
        size_t size = v->data.data_len * 3 / 2 + 4;
        char *text = malloc(size);
        if (text) {
            utf16_text(v->data.data_val, v->data.data_len, text, size);
            put_reg_string(text, tty);
            free(text);
        }
    } else if (v->type == REG_DWORD && v->data.data_len == 4) {
        printf("dword:%02x%02x%02x%02x", d[3], d[2], d[1], d[0]);
    } else {
        printf(v->type == REG_BINARY ? "hex:" : "hex(%x):", v->type);
        for (unsigned i = 0; i < v->data.data_len; i++)
            printf("%s%02x", i ? "," : "", d[i]);
    }
    putchar('\n');
    if (v->truncated)
        printf("; the value above is cut at %d bytes\n", FERRY_MAX_REG_DATA);
}

int cmd_registry(struct session *s, struct args *a)
{
    CLEANUP_XDR(ferry_reg_ret) r = { 0 };
    ferry_reg_args args = { a->argv[0], a->argc == 2 ? a->argv[1] : "" };

    if (rpc_reg_values(&s->cl, &args, &r, NULL) < 0)
        return call_failed(s);
    for (unsigned i = 0; i < r.values.values_len; i++)
        put_value(&r.values.values_val[i], stdout_is_tty());
    return EXIT_OK;
}
