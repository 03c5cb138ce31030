/* mounts.c: device names as the user sees them, and mounting before a
 * command: what -m says, or, without -m, the one filesystem there is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ferry.h"

/* /dev/vdb2 of the disk with serial "sda" is /dev/sda2 to the user; an LV
 * /dev/mapper/vg-lv is /dev/vg/lv ("--" in a dm name is one "-"). */
void device_user_name(const ferry_device *d, char *out, size_t size)
{
    const char *n = d->name;

    if (d->serial[0] && !strncmp(n, "/dev/vd", 7)) {
        snprintf(out, size, "/dev/%s%s", d->serial, n + 8);
        return;
    }
    if (d->kind == FERRY_DEV_LV && !strncmp(n, "/dev/mapper/", 12)) {
        const char *p = n + 12;
        size_t o = snprintf(out, size, "/dev/");
        bool split = false;
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

static int by_user_name(const void *a, const void *b)
{
    char x[FERRY_MAX_PATH + 1], y[FERRY_MAX_PATH + 1];

    device_user_name(a, x, sizeof x);
    device_user_name(b, y, sizeof y);
    return strcmp(x, y);
}

void sort_devices(ferry_devices_ret *r)
{
    qsort(r->devices.devices_val, r->devices.devices_len, sizeof(ferry_device), by_user_name);
}

/* Filesystems one can mount, as opposed to containers of other things. */
bool device_mountable(const ferry_device *d)
{
    const char *fstype = d->fstype;
    static const char *const not[] = {
        "", "swap", "LVM2_member", "linux_raid_member", "crypto_LUKS", "BitLocker", NULL,
    };
    for (int i = 0; not[i]; i++)
        if (!strcmp(fstype, not[i]))
            return false;
    return true;
}

static int do_mount(struct session *s, const char *device, const char *mountpoint,
                    const char *options, const char *fstype, const char *shown)
{
    ferry_mount_args a = {
        .device = (char *) device, .mountpoint = (char *) mountpoint,
        .options = (char *) options, .fstype = (char *) fstype, .readonly = !s->rw,
    };
    ferry_void r;

    if (s->verbose)
        warnx_("mount %s on %s%s", shown, mountpoint, s->rw ? "" : " (read-only)");
    if (rpc_mount(&s->cl, &a, &r, NULL) < 0) {
        if (s->cl.broken)
            ferry_exit(call_failed(s));
        fprintf(stderr, "ferry: mount %s on %s: ", shown, mountpoint);
        put_name(stderr, s->cl.msg, true);
        fputc('\n', stderr);
        return -1;
    }
    return 0;
}

int mount_device(struct session *s, const char *label, const char *device,
                 const char *mountpoint, const char *options, const char *fstype)
{
    CLEANUP_XDR(ferry_devices_ret) r = { 0 };
    char name[FERRY_MAX_PATH + 1];

    if (rpc_list_devices(&s->cl, NULL, &r, NULL) < 0)
        return call_failed(s), -1;
    for (u_int i = 0; i < r.devices.devices_len; i++) {
        device_user_name(&r.devices.devices_val[i], name, sizeof name);
        if (!strcmp(name, device))
            return do_mount(s, r.devices.devices_val[i].name, mountpoint, options,
                            fstype[0] ? fstype : r.devices.devices_val[i].fstype, device);
    }
    warnx_("%s: no such device (see 'ferry filesystems')", label);
    return -1;
}

void mount_filesystems(struct session *s)
{
    CLEANUP_XDR(ferry_devices_ret) r = { 0 };
    char name[FERRY_MAX_PATH + 1];
    int found = -1, count = 0;

    if (rpc_list_devices(&s->cl, NULL, &r, NULL) < 0)
        ferry_exit(call_failed(s));
    sort_devices(&r);
    for (int m = 0; m < s->nmounts; m++) {
        const struct mount_req *q = &s->mounts[m];
        char label[FERRY_MAX_PATH + 8];
        snprintf(label, sizeof label, "-m %s", q->device);
        if (mount_device(s, label, q->device, q->mountpoint, q->options, q->fstype) < 0)
            ferry_exit(EXIT_FAILED);
    }
    if (s->nmounts)
        return;
    for (u_int i = 0; i < r.devices.devices_len; i++)
        if (device_mountable(&r.devices.devices_val[i])) {
            found = i;
            count++;
        }
    if (count == 1) {
        ferry_device *d = &r.devices.devices_val[found];
        device_user_name(d, name, sizeof name);
        if (do_mount(s, d->name, "/", "", d->fstype, name) < 0)
            ferry_exit(EXIT_FAILED);
        return;
    }
    if (count == 0)
        die(EXIT_FAILED, "%s: no filesystem found on the image", s->command);
    if (mount_os(s, &r) == 0)
        return;
    fprintf(stderr, "ferry: %s: %d filesystems and no operating system found; say which to "
            "mount with -m:\n", s->command, count);
    for (u_int i = 0; i < r.devices.devices_len; i++) {
        ferry_device *d = &r.devices.devices_val[i];
        if (!device_mountable(d))
            continue;
        device_user_name(d, name, sizeof name);
        fputs("  -m ", stderr);
        put_name(stderr, name, true);
        fputs("   (", stderr);
        put_name(stderr, d->fstype, true);
        if (d->label[0]) {
            fputs(", label ", stderr);
            put_name(stderr, d->label, true);
        }
        fputs(")\n", stderr);
    }
    ferry_exit(EXIT_FAILED);
}
