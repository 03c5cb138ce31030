/* crypt.c: encrypted volumes (LUKS1, LUKS2, BitLocker) found in a device listing are
 * opened in the appliance with the run's key, so that what is inside them
 * is listed and mounted like any other filesystem. */
#include <errno.h>
#include <string.h>

#include "guest/guest.h"
#include "io/key.h"
#include "output/output.h"

#define KEY_TRIES 3 /* typed passphrases, as cryptsetup allows */

static bool is_open(const ferry_devices_ret *r, const ferry_device *d)
{
    for (u_int i = 0; i < r->devices.devices_len; i++) {
        const ferry_device *e = &r->devices.devices_val[i];
        if (e->kind == FERRY_DEV_CRYPT && !strcmp(e->parent, d->name))
            return true;
    }
    return false;
}

/* The failure is the client's last error, so that the caller's
 * call_failed() says it as it says any other. */
static int fail(struct session *s, int err, const char *msg)
{
    s->cl.err = err;
    s->cl.remote = false;
    snprintf(s->cl.msg, sizeof s->cl.msg, "%s", msg);
    return -1;
}

/* A volume without a key stays closed, said once a run. */
static void say_closed(const char *shown)
{
    static bool said;

    if (said)
        return;
    said = true;
    report("%s: an encrypted volume, left closed: give its passphrase with --key-file FILE "
           "(or run ferry on a terminal to be asked for it)",
           shown);
}

/* 1 when opened, 0 when left closed (no key), -1 failed. */
static int open_one(struct session *s, const ferry_device *d)
{
    char shown[FERRY_MAX_PATH + 1], msg[256];
    ferry_crypt_open_args a = { .device = d->name, .readonly = !s->rw };
    CLEANUP_XDR(ferry_crypt_open_ret) r = { 0 };

    report_rewrite(d->name, shown, sizeof shown);
    for (int tries = 1;; tries++) {
        int asked = key_get() ? 0 : key_ask(shown, msg, sizeof msg);
        if (asked > 0) {
            say_closed(shown);
            return 0;
        }
        if (asked < 0)
            return fail(s, ECANCELED, msg);
        const struct key *k = key_get();
        a.key.key_val = (char *) k->bytes;
        a.key.key_len = k->len;
        if (s->verbose)
            report("opening the encrypted volume %s", shown);
        int ret = rpc_crypt_open(&s->cl, &a, &r, NULL);
        /* the encoded call held the key */
        wire_wipe(&s->cl.w);
        if (ret == 0)
            return 1;
        if (s->cl.err != EACCES)
            return -1;
        if (k->from_tty && tries < KEY_TRIES) {
            report("%s", s->cl.msg);
            key_forget();
            continue;
        }
        if (k->ends_in_nl) {
            size_t n = strlen(s->cl.msg);
            snprintf(s->cl.msg + n, sizeof s->cl.msg - n,
                     " (the key file ends with a newline, which is part of the key, as "
                     "with cryptsetup --key-file)");
        }
        return -1;
    }
}

int crypt_open_all(struct session *s, const ferry_devices_ret *r)
{
    int opened = 0;

    if (!(s->cl.capabilities & FERRY_CAP_CRYPT))
        return 0;
    for (u_int i = 0; i < r->devices.devices_len; i++) {
        const ferry_device *d = &r->devices.devices_val[i];
        if ((strcmp(d->fstype, "crypto_LUKS") && strcmp(d->fstype, "BitLocker")) || is_open(r, d))
            continue;
        int o = open_one(s, d);
        if (o < 0)
            return -1;
        opened += o;
    }
    return opened;
}
