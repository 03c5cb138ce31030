/* mount.c: what is mounted before a command: what -m says; without -m,
 * the one filesystem there is; with several, the operating system (its
 * root, then its fstab: os.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "guest/guest.h"
#include "output/output.h"

static int mount_as(struct session *s, const char *device, const char *mountpoint,
                    const char *options, const char *fstype, const char *shown)
{
    ferry_mount_args a = {
        .device = (char *) device,
        .mountpoint = (char *) mountpoint,
        .options = (char *) options,
        .fstype = (char *) fstype,
        .readonly = !s->rw,
    };
    ferry_void r;

    if (s->verbose)
        report("mount %s on %s%s", shown, mountpoint, s->rw ? "" : " (read-only)");
    if (rpc_mount(&s->cl, &a, &r, NULL) < 0) {
        report("mount %s on %s: %s", shown, mountpoint, s->cl.msg);
        return -1;
    }
    return 0;
}

int mount_device(struct session *s, const char *label, const char *device, const char *mountpoint,
                 const char *options, const char *fstype)
{
    CLEANUP_XDR(ferry_devices_ret) r = { 0 };
    char name[FERRY_MAX_PATH + 1];

    if (list_devices(s, &r) < 0)
        return call_failed(s), -1;
    for (u_int i = 0; i < r.devices.devices_len; i++) {
        device_user_name(&r.devices.devices_val[i], name, sizeof name);
        if (!strcmp(name, device))
            return mount_as(s, r.devices.devices_val[i].name, mountpoint, options,
                            fstype[0] ? fstype : r.devices.devices_val[i].fstype, device);
    }
    report("%s: no such device (see 'ferry filesystems')", label);
    return -1;
}

/* Say which filesystems there are, as -m options to choose from. */
static void list_candidates(struct session *s, const ferry_devices_ret *r, int count)
{
    char name[FERRY_MAX_PATH + 1];

    report("%s: %d filesystems and no operating system found; say which to mount with -m:",
           s->command, count);
    for (u_int i = 0; i < r->devices.devices_len; i++) {
        const ferry_device *d = &r->devices.devices_val[i];
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
}

/* A hybrid ISO's filesystem shows on the disk and again on its partition
 * (the same UUID): one filesystem, mounted from the disk. */
static bool seen_on_its_disk(const ferry_devices_ret *r, const ferry_device *d)
{
    if (d->kind != FERRY_DEV_PARTITION || !d->uuid[0])
        return false;
    for (u_int i = 0; i < r->devices.devices_len; i++) {
        const ferry_device *p = &r->devices.devices_val[i];
        if (!strcmp(p->name, d->parent) && !strcmp(p->fstype, d->fstype) &&
            !strcmp(p->uuid, d->uuid))
            return true;
    }
    return false;
}

int mount_filesystems(struct session *s)
{
    CLEANUP_XDR(ferry_devices_ret) r = { 0 };
    char name[FERRY_MAX_PATH + 1];
    int found = -1, count = 0;

    if (list_devices(s, &r) < 0)
        return call_failed(s);
    for (int m = 0; m < s->nmounts; m++) {
        const struct mount_req *q = &s->mounts[m];
        char label[FERRY_MAX_PATH + 8];
        snprintf(label, sizeof label, "-m %s", q->device);
        if (mount_device(s, label, q->device, q->mountpoint, q->options, q->fstype) < 0)
            return EXIT_FAILED;
    }
    if (s->nmounts)
        return EXIT_OK;
    for (u_int i = 0; i < r.devices.devices_len; i++)
        if (device_mountable(&r.devices.devices_val[i]) &&
            !seen_on_its_disk(&r, &r.devices.devices_val[i])) {
            found = i;
            count++;
        }
    /* one btrfs may hold the system in subvolumes (Fedora, openSUSE): its
     * root subvolume, then its fstab's; else the whole filesystem */
    if (count == 1 && !strcmp(r.devices.devices_val[found].fstype, "btrfs")) {
        int os = mount_os(s, &r);
        if (os <= 0)
            return os == 0 ? EXIT_OK : EXIT_FAILED;
    }
    if (count == 1) {
        ferry_device *d = &r.devices.devices_val[found];
        device_user_name(d, name, sizeof name);
        return mount_as(s, d->name, "/", "", d->fstype, name) < 0 ? EXIT_FAILED : EXIT_OK;
    }
    if (count == 0) {
        report("%s: no filesystem found on the image", s->command);
        return EXIT_FAILED;
    }
    int os = mount_os(s, &r);
    if (os == 0)
        return EXIT_OK;
    if (os > 0)
        list_candidates(s, &r, count);
    return EXIT_FAILED;
}
