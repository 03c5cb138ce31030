/* registry.c: the values of a key in a Windows registry hive, read by hivex.
 *
 * The hive is a file in the image, opened inside the served root like any
 * other path and handed to hivex through /proc/self/fd. Read-only: hivex is
 * opened without HIVEX_OPEN_WRITE. Data go back as stored; the client
 * decodes what it needs. */
#include <errno.h>
#include <fcntl.h>
#include <hivex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#ifndef __GLIBC__
/* Debian's libhivex.a is built against glibc with _FORTIFY_SOURCE; its
 * one fortified call is this (for its debug messages). musl has none. */
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
    va_list ap;
    int n;

    (void) flag;
    va_start(ap, fmt);
    n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}
#endif

static void close_hive(hive_h **h)
{
    if (*h)
        hivex_close(*h);
}

/* Walk "A\B\C" from the root; hivex compares names without case, as
 * Windows does. 0 with the call failed if there is no such key. */
static hive_node_h find_key(struct call *c, hive_h *h, const char *hive, const char *key)
{
    hive_node_h node = hivex_root(h);
    char *copy, *save = NULL;

    if (!node) {
        call_fail(c, EINVAL, "%s: a hive without a root key", hive);
        return 0;
    }
    if (!(copy = strdup(key))) {
        call_fail(c, ENOMEM, "out of memory");
        return 0;
    }
    for (char *part = strtok_r(copy, "\\", &save); node && part;
         part = strtok_r(NULL, "\\", &save)) {
        errno = 0;
        node = hivex_node_get_child(h, node, part);
        if (!node)
            call_fail(c, errno ? errno : ENOENT, "%s: key %s: %s", hive, key,
                      errno ? strerror(errno) : "not found");
    }
    free(copy);
    return node;
}

static int put_value(struct call *c, hive_h *h, hive_value_h v, ferry_reg_value *out)
{
    hive_type type;
    size_t len;
    char *name = hivex_value_key(h, v);
    char *data = hivex_value_value(h, v, &type, &len);

    if (!name || !data) {
        free(name);
        free(data);
        return call_fail_errno(c, errno ? errno : EINVAL, "value");
    }
    out->name = name;
    out->type = type;
    out->truncated = len > FERRY_MAX_REG_DATA;
    out->data.data_len = out->truncated ? FERRY_MAX_REG_DATA : len;
    out->data.data_val = data;
    return 0;
}

int do_reg_values(struct call *c, ferry_reg_args *a, ferry_reg_ret *r)
{
    /* a regular file only: hivex opens it again by name, and a fifo
     * would block the daemon for ever */
    CLEANUP_CLOSE int fd = open_regular(c, a->hive);
    __attribute__((cleanup(close_hive))) hive_h *h = NULL;
    char self[64];

    if (fd < 0)
        return -1;
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    if (!(h = hivex_open(self, 0))) {
        if (errno == ENOTSUP || errno == EINVAL || errno == 0) /* what hivex says of a bad file */
            return call_fail(c, EINVAL, "%s: not a registry hive", a->hive);
        return call_fail_errno(c, errno, "%s", a->hive);
    }
    hive_node_h node = find_key(c, h, a->hive, a->key);
    if (!node)
        return -1;
    hive_value_h *values = hivex_node_values(h, node);
    if (!values)
        return call_fail_errno(c, errno ? errno : EINVAL, "%s: key %s", a->hive, a->key);
    size_t n = 0;
    while (values[n])
        n++;
    if (n > FERRY_MAX_REG_VALUES) {
        free(values);
        return call_fail(c, E2BIG, "%s: key %s has %zu values, more than %d", a->hive, a->key, n,
                         FERRY_MAX_REG_VALUES);
    }
    r->values.values_val = calloc(n ? n : 1, sizeof *r->values.values_val);
    if (!r->values.values_val) {
        free(values);
        return call_fail(c, ENOMEM, "out of memory");
    }
    /* values_len counts what is filled, so xdr_free frees just that */
    for (size_t i = 0; i < n; i++, r->values.values_len++) {
        if (put_value(c, h, values[i], &r->values.values_val[i]) < 0) {
            free(values);
            return call_prefix(c, a->hive);
        }
    }
    free(values);
    return 0;
}
