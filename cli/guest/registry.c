/* registry.c: Windows registry values, read in the appliance by hivex
 * (FERRY_REG_VALUES), for inspect and the registry command. */
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guest/guest.h"

enum { REG_SZ = 1, REG_EXPAND_SZ = 2, REG_DWORD = 4 };

void reg_key(struct session *s, const char *hive, const char *key, ferry_reg_ret *r)
{
    ferry_reg_args a = { (char *) hive, (char *) key };

    if (rpc_reg_values(&s->cl, &a, r, NULL) < 0)
        memset(r, 0, sizeof *r);
}

static const ferry_reg_value *reg_find(const ferry_reg_ret *r, const char *name)
{
    for (unsigned i = 0; i < r->values.values_len; i++)
        if (!strcasecmp(r->values.values_val[i].name, name))
            return &r->values.values_val[i];
    return NULL;
}

/* UTF-16LE as UTF-8, up to the first NUL or what fits. */
void utf16_text(const char *data, size_t len, char *out, size_t size)
{
    char *in = (char *) data, *o = out;
    size_t inlen = len & ~(size_t) 1, outlen = size - 1;
    iconv_t cd = iconv_open("UTF-8", "UTF-16LE");

    if (cd != (iconv_t) -1) {
        iconv(cd, &in, &inlen, &o, &outlen); /* stops at bad input or a full out */
        iconv_close(cd);
    }
    *o = '\0';
}

void reg_text(const ferry_reg_ret *r, const char *name, char *out, size_t size)
{
    const ferry_reg_value *v = reg_find(r, name);

    out[0] = '\0';
    if (v && (v->type == REG_SZ || v->type == REG_EXPAND_SZ))
        utf16_text(v->data.data_val, v->data.data_len, out, size);
}

long long reg_dword(const ferry_reg_ret *r, const char *name)
{
    const ferry_reg_value *v = reg_find(r, name);
    const unsigned char *p;

    if (!v || v->type != REG_DWORD || v->data.data_len != 4)
        return -1;
    p = (const unsigned char *) v->data.data_val;
    return (long long) p[0] | p[1] << 8 | p[2] << 16 | (long long) p[3] << 24;
}
