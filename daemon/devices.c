/* devices.c: block devices, partitions and volumes, and what blkid finds
 * on them (appliance only). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon.h"

void sysfs_read(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
}

/* blkid -o export prints KEY=value lines, a blank line between devices. */
static void blkid_fill(char *out, ferry_device *devs, unsigned n)
{
    ferry_device *cur = NULL;

    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *key = line, *val = eq + 1;
        if (!strcmp(key, "DEVNAME")) {
            cur = NULL;
            for (unsigned i = 0; i < n; i++)
                if (!strcmp(devs[i].name, val))
                    cur = &devs[i];
            continue;
        }
        if (!cur)
            continue;
        char **field = !strcmp(key, "TYPE")    ? &cur->fstype
                       : !strcmp(key, "LABEL") ? &cur->label
                       : !strcmp(key, "UUID")  ? &cur->uuid
                                               : NULL;
        if (field) {
            free(*field);
            *field = strdup(val);
        }
    }
}

/* blkid with these arguments, its findings filled into devs. */
static int run_blkid(struct call *c, char *const argv[], ferry_device *devs, unsigned n)
{
    struct helper h;
    int out = memfd_create("blkid", MFD_CLOEXEC);
    char *buf;
    ssize_t len;

    if (out < 0)
        return call_fail_errno(c, errno, "memfd_create");
    /* blkid exits 2 when it finds nothing: not an error for a listing */
    if (helper_start(c, &h, argv, &(struct helper_io){ -1, out, -1, false }) < 0) {
        close(out);
        return -1;
    }
    helper_finish(c, &h, "blkid");
    len = lseek(out, 0, SEEK_END);
    if (len > 1 << 20)
        len = 1 << 20;
    buf = malloc(len + 1);
    if (buf) {
        len = pread(out, buf, len, 0);
        buf[len > 0 ? len : 0] = '\0';
        blkid_fill(buf, devs, n);
        free(buf);
    }
    close(out);
    return 0;
}

/* blkid looks for a filesystem on a disk only when it has no partition
 * table; a hybrid ISO (installer and rescue images) has both, and its
 * filesystem starts at the disk's first byte. So the disks without a
 * filesystem are probed again, at the low level (-p), in one run. */
static int probe_whole_disks(struct call *c, ferry_devices_ret *r)
{
    char *argv[8 + 64] = { "blkid", "-p", "-o", "export", "-s", "TYPE", "-s", "LABEL" };
    int n = 8;

    argv[n++] = "-s";
    argv[n++] = "UUID";
    for (u_int i = 0; i < r->devices.devices_len && n < 8 + 62; i++) {
        ferry_device *d = &r->devices.devices_val[i];
        if (d->kind == FERRY_DEV_DISK && !d->fstype[0])
            argv[n++] = d->name;
    }
    if (n == 10)
        return 0;
    argv[n] = NULL;
    return run_blkid(c, argv, r->devices.devices_val, r->devices.devices_len);
}

static ferry_device *add(ferry_devices_ret *r, const char *name, ferry_device_kind kind,
                         const char *parent, const char *sysdir)
{
    char path[400], val[64];
    ferry_device *dv;

    if (r->devices.devices_len >= FERRY_MAX_DEVICES)
        return NULL;
    dv = &r->devices.devices_val[r->devices.devices_len++];
    dv->name = strdup(name);
    dv->kind = kind;
    dv->parent = strdup(parent);
    dv->fstype = strdup("");
    dv->label = strdup("");
    dv->uuid = strdup("");
    /* a partition's serial is its disk's, one directory up */
    snprintf(path, sizeof path,
             kind == FERRY_DEV_PARTITION ? "%s/../device/serial" : "%s/device/serial", sysdir);
    sysfs_read(path, val, sizeof val);
    if (!val[0]) {
        snprintf(path, sizeof path, kind == FERRY_DEV_PARTITION ? "%s/../serial" : "%s/serial",
                 sysdir);
        sysfs_read(path, val, sizeof val);
    }
    dv->serial = strdup(val);
    snprintf(path, sizeof path, "%s/size", sysdir);
    sysfs_read(path, val, sizeof val);
    dv->size = strtoull(val, NULL, 10) * 512;
    snprintf(path, sizeof path, "%s/partition", sysdir);
    sysfs_read(path, val, sizeof val);
    dv->partnum = strtoul(val, NULL, 10);
    return dv;
}

static void add_partitions(ferry_devices_ret *r, const char *disk, const char *sysdir)
{
    DIR *dir = opendir(sysdir);
    struct dirent *de;
    char path[1024], name[300], parent[300];

    if (!dir)
        return;
    while ((de = readdir(dir))) {
        if (strncmp(de->d_name, disk, strlen(disk)) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s/partition", sysdir, de->d_name);
        if (access(path, F_OK) < 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", sysdir, de->d_name);
        snprintf(name, sizeof name, "/dev/%s", de->d_name);
        snprintf(parent, sizeof parent, "/dev/%s", disk);
        add(r, name, FERRY_DEV_PARTITION, parent, path);
    }
    closedir(dir);
}

/* Are the disks read-only (ferry without --rw)? */
static bool disks_readonly(void)
{
    char ro[8];

    sysfs_read("/sys/block/vda/ro", ro, sizeof ro);
    return ro[0] != '0';
}

/* Activate the LVs of the volume groups, once; true when it ran. On read-only disks the
 * LVs are activated read-only (a read-write device-mapper table cannot sit
 * on a read-only disk), and metadata is never written. */
static bool activate_lvm(struct call *c)
{
    static bool done;
    char *rw[] = { "lvm", "vgchange", "-ay", "--sysinit", "--ignoremonitoring", NULL };
    char *ro[] = { "lvm",
                   "vgchange",
                   "-ay",
                   "--sysinit",
                   "--ignoremonitoring",
                   "--config",
                   "activation { read_only_volume_list = [ \"@*\" ] }",
                   NULL };
    struct helper h;
    struct call scratch = *c; /* no volume groups is not a failure */

    if (done)
        return false;
    done = true;
    if (helper_start(&scratch, &h, disks_readonly() ? ro : rw,
                     &(struct helper_io){ -1, -1, -1, false }) == 0)
        helper_finish(&scratch, &h, "lvm");
    return true;
}

/* Block devices as sysfs has them now, with what blkid finds on them. */
static int scan(struct call *c, ferry_devices_ret *r)
{
    DIR *dir;
    struct dirent *de;
    char sysdir[300], name[400], val[256];

    dir = opendir("/sys/block");
    if (!dir)
        return call_fail_errno(c, errno, "/sys/block");
    while ((de = readdir(dir))) {
        const char *n = de->d_name;
        if (n[0] == '.' || !strncmp(n, "loop", 4) || !strncmp(n, "ram", 3))
            continue;
        snprintf(sysdir, sizeof sysdir, "/sys/block/%s", n);
        if (!strncmp(n, "dm-", 3)) {
            snprintf(name, sizeof name, "%s/dm/name", sysdir);
            sysfs_read(name, val, sizeof val);
            snprintf(name, sizeof name, "/dev/mapper/%s", val);
            ferry_device *dv = add(r, name, FERRY_DEV_LV, "", sysdir);
            if (dv)
                crypt_describe(dv, sysdir);
        } else {
            snprintf(name, sizeof name, "/dev/%s", n);
            add(r, name, !strncmp(n, "md", 2) ? FERRY_DEV_MD : FERRY_DEV_DISK, "", sysdir);
            add_partitions(r, n, sysdir);
        }
    }
    closedir(dir);
    char *argv[] = { "blkid", "-c", "/dev/null", "-o", "export", NULL };
    if (run_blkid(c, argv, r->devices.devices_val, r->devices.devices_len) < 0)
        return -1;
    return probe_whole_disks(c, r);
}

static bool has_lvm(const ferry_devices_ret *r)
{
    for (u_int i = 0; i < r->devices.devices_len; i++)
        if (!strcmp(r->devices.devices_val[i].fstype, "LVM2_member"))
            return true;
    return false;
}

int do_list_devices(struct call *c, ferry_void *a, ferry_devices_ret *r)
{
    (void) a;

    if (!d.appliance)
        return call_fail(c, ENOTSUP, "list-devices: only inside the appliance");
    r->devices.devices_val = calloc(FERRY_MAX_DEVICES, sizeof(ferry_device));
    if (!r->devices.devices_val)
        return call_fail(c, ENOMEM, "out of memory");
    if (scan(c, r) < 0)
        return -1;
    /* lvm costs a second under TCG: only when there is a volume group */
    if (!has_lvm(r) || !activate_lvm(c))
        return 0;
    /* xdr_free leaves the count: start the list again from nothing */
    xdr_free((xdrproc_t) xdr_ferry_devices_ret, (char *) r);
    memset(r, 0, sizeof *r);
    r->devices.devices_val = calloc(FERRY_MAX_DEVICES, sizeof(ferry_device));
    if (!r->devices.devices_val)
        return call_fail(c, ENOMEM, "out of memory");
    return scan(c, r);
}
