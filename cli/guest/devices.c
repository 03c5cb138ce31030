/* devices.c: the devices of the appliance as the user names them. The
 * appliance's kernel calls the first disk /dev/vda; ferry gives each disk
 * a serial (sda, sdb...) in the order of -a, and the user's names come
 * from it, so they do not depend on the order the kernel found the disks. */
#include <stdlib.h>
#include <string.h>

#include "guest/guest.h"
#include "output/output.h"

void device_user_name(const ferry_device *d, char *out, size_t size)
{
    const char *n = d->name;

    if (d->serial[0] && !strncmp(n, "/dev/vd", 7) && n[7]) {
        snprintf(out, size, "/dev/%s%s", d->serial, n + 8);
        return;
    }
    /* an opened volume named after the appliance's device */
    static const char *const opened[] = { "/dev/mapper/luks-vd", "/dev/mapper/bitlk-vd" };
    for (size_t i = 0; i < sizeof opened / sizeof opened[0]; i++) {
        size_t len = strlen(opened[i]);
        if (d->kind == FERRY_DEV_CRYPT && d->serial[0] && !strncmp(n, opened[i], len) && n[len]) {
            snprintf(out, size, "%.*s%s%s", (int) len - 2, n, d->serial, n + len + 1);
            return;
        }
    }
    if (d->kind == FERRY_DEV_LV && !strncmp(n, "/dev/mapper/", 12)) {
        const char *p = n + 12;
        size_t o = snprintf(out, size, "/dev/");
        bool split = false;
        /* "--" in a device-mapper name is one "-"; the first lone "-"
         * separates the volume group from the volume */
        for (; *p && o + 2 < size; p++) {
            if (*p == '-' && p[1] == '-') {
                out[o++] = '-';
                p++;
            } else if (*p == '-' && !split) {
                out[o++] = '/';
                split = true;
            } else {
                out[o++] = *p;
            }
        }
        out[o] = '\0';
        return;
    }
    snprintf(out, size, "%s", n);
}

/* The names learnt from the last listing, for messages. */
static struct {
    char from[64], to[64];
} names[FERRY_MAX_DEVICES];
static int nnames;

/* In a message, an appliance device name becomes the user's. */
static void rewrite(const char *in, char *out, size_t size)
{
    size_t o = 0;

    while (*in && o + 1 < size) {
        int best = -1;
        size_t blen = 0;
        if (!strncmp(in, "/dev/", 5))
            for (int i = 0; i < nnames; i++) {
                size_t l = strlen(names[i].from);
                if (l > blen && !strncmp(in, names[i].from, l) && !(in[l] >= 'a' && in[l] <= 'z') &&
                    !(in[l] >= '0' && in[l] <= '9')) {
                    best = i;
                    blen = l;
                }
            }
        if (best >= 0) {
            o += snprintf(out + o, size - o, "%s", names[best].to);
            in += blen;
        } else {
            out[o++] = *in++;
        }
    }
    out[o < size ? o : size - 1] = '\0';
}

static void learn(const ferry_devices_ret *r)
{
    nnames = 0;
    for (u_int i = 0; i < r->devices.devices_len && nnames < FERRY_MAX_DEVICES; i++) {
        const ferry_device *d = &r->devices.devices_val[i];
        char user[FERRY_MAX_PATH + 1];
        device_user_name(d, user, sizeof user);
        if (strlen(d->name) >= sizeof names[0].from || strlen(user) >= sizeof names[0].to ||
            !strcmp(d->name, user))
            continue;
        strcpy(names[nnames].from, d->name);
        strcpy(names[nnames].to, user);
        nnames++;
    }
    report_set_rewrite(rewrite);
}

static int by_user_name(const void *a, const void *b)
{
    char x[FERRY_MAX_PATH + 1], y[FERRY_MAX_PATH + 1];

    device_user_name(a, x, sizeof x);
    device_user_name(b, y, sizeof y);
    return strcmp(x, y);
}

/* A LUKS volume may hold another (or an LVM group of them): a few rounds. */
#define CRYPT_DEPTH 4

int list_devices(struct session *s, ferry_devices_ret *r)
{
    for (int round = 0;; round++) {
        if (rpc_list_devices(&s->cl, NULL, r, NULL) < 0)
            return -1;
        qsort(r->devices.devices_val, r->devices.devices_len, sizeof(ferry_device), by_user_name);
        learn(r); /* the names, for what opening them may say */
        int opened = round < CRYPT_DEPTH ? crypt_open_all(s, r) : 0;
        if (opened == 0)
            return 0;
        xdr_free((xdrproc_t) xdr_ferry_devices_ret, (char *) r);
        memset(r, 0, sizeof *r);
        if (opened < 0)
            return -1;
    }
}

bool device_mountable(const ferry_device *d)
{
    static const char *const not [] = {
        "", "swap", "LVM2_member", "linux_raid_member", "crypto_LUKS", "BitLocker", NULL,
    };
    for (int i = 0; not [i]; i++)
        if (!strcmp(d->fstype, not [i]))
            return false;
    return true;
}
