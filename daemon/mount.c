/* mount.c: mounting filesystems inside the served root (appliance only).
 *
 * A read-only mount is a forensic one: on top of MS_RDONLY, journals and
 * logs are not replayed (ext3/4 noload, xfs norecovery, btrfs nologreplay),
 * so what is read is what is on the disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include "daemon.h"

static int need_appliance(struct call *c, const char *what)
{
    if (!d.appliance)
        return call_fail(c, ENOTSUP, "%s: only inside the appliance", what);
    return 0;
}

/* What blkid says the filesystem on dev is, into type. */
static int probe_type(struct call *c, const char *dev, char *type, size_t size)
{
    char *argv[] = { "blkid", "-p", "-o", "value", "-s", "TYPE", (char *) dev, NULL };
    struct helper h;
    int out = memfd_create("blkid", MFD_CLOEXEC);
    ssize_t n;

    if (out < 0)
        return call_fail_errno(c, errno, "memfd_create");
    if (helper_start(c, &h, argv, &(struct helper_io){ -1, out, -1, false }) < 0 ||
        helper_finish(c, &h, "blkid") < 0) {
        close(out);
        return call_fail(c, ENODEV, "%s: no filesystem found", dev);
    }
    n = pread(out, type, size - 1, 0);
    close(out);
    type[n > 0 ? n : 0] = '\0';
    type[strcspn(type, "\n")] = '\0';
    if (!type[0])
        return call_fail(c, ENODEV, "%s: no filesystem found", dev);
    return 0;
}

/* mount(8)'s generic options are flags, not text for the filesystem (isofs
 * refuses "ro" as data). Those that only mean something to fstab or to
 * mount(8) are dropped; dev, suid and exec are dropped too: what comes
 * from an image never gets device nodes, setuid bits or execution. */
static const struct {
    const char *name;
    unsigned long set, clear;
} generic[] = {
    { "ro", MS_RDONLY, 0 },
    { "rw", 0, 0 }, /* the session decides */
    { "noatime", MS_NOATIME, 0 },
    { "atime", 0, MS_NOATIME },
    { "nodiratime", MS_NODIRATIME, 0 },
    { "diratime", 0, MS_NODIRATIME },
    { "relatime", MS_RELATIME, 0 },
    { "norelatime", 0, MS_RELATIME },
    { "strictatime", MS_STRICTATIME, 0 },
    { "lazytime", MS_LAZYTIME, 0 },
    { "sync", MS_SYNCHRONOUS, 0 },
    { "async", 0, MS_SYNCHRONOUS },
    { "dirsync", MS_DIRSYNC, 0 },
    { "defaults", 0, 0 },
    { "nodev", 0, 0 },
    { "dev", 0, 0 },
    { "nosuid", 0, 0 },
    { "suid", 0, 0 },
    { "noexec", 0, 0 },
    { "exec", 0, 0 },
    { "auto", 0, 0 },
    { "noauto", 0, 0 },
    { "user", 0, 0 },
    { "nouser", 0, 0 },
    { "users", 0, 0 },
    { "owner", 0, 0 },
    { "nofail", 0, 0 },
    { "_netdev", 0, 0 },
    { "loud", 0, 0 },
    { "silent", MS_SILENT, 0 },
};

/* Split options into flags and the filesystem's own text (into data). */
static unsigned long parse_options(const char *options, char *data, size_t size)
{
    unsigned long flags = 0;
    size_t o = 0;

    data[0] = '\0';
    for (const char *p = options; *p;) {
        size_t n = strcspn(p, ",");
        size_t i, known = sizeof generic / sizeof generic[0];
        for (i = 0; i < known; i++)
            if (strlen(generic[i].name) == n && !strncmp(p, generic[i].name, n))
                break;
        if (i < known)
            flags = (flags | generic[i].set) & ~generic[i].clear;
        else if (n && strncmp(p, "x-", 2) && strncmp(p, "comment=", 8) && o + n + 2 < size)
            o += snprintf(data + o, size - o, "%s%.*s", o ? "," : "", (int) n, p);
        p += n + (p[n] == ',');
    }
    return flags;
}

static const char *no_replay(const char *fstype)
{
    if (!strcmp(fstype, "ext3") || !strcmp(fstype, "ext4") || !strcmp(fstype, "ext2"))
        return "noload";
    if (!strcmp(fstype, "xfs"))
        return "norecovery";
    if (!strcmp(fstype, "btrfs"))
        return "nologreplay";
    return NULL;
}

int do_mount(struct call *c, ferry_mount_args *a, ferry_void *r)
{
    (void) r;
    char type[64], target[64], opts[FERRY_MAX_STRING + 64];
    const char *extra;
    unsigned long flags;
    CLEANUP_CLOSE int fd = -1;

    if (need_appliance(c, "mount") < 0)
        return -1;
    if (strncmp(a->device, "/dev/", 5) != 0 || strstr(a->device, "/.."))
        return call_fail(c, EINVAL, "%s: not a device", a->device);
    if (a->fstype[0])
        snprintf(type, sizeof type, "%s", a->fstype);
    else if (probe_type(c, a->device, type, sizeof type) < 0)
        return -1;
    /* blkid's names, the kernel's drivers: ext2/3 are served by ext4, ntfs
     * by ntfs3 */
    const char *driver = !strncmp(type, "ext", 3) ? "ext4" : !strcmp(type, "ntfs") ? "ntfs3" : type;
    flags = parse_options(a->options, opts, sizeof opts - 32);
    if (a->readonly)
        flags |= MS_RDONLY;
    extra = flags & MS_RDONLY ? no_replay(type) : NULL;
    if (extra)
        snprintf(opts + strlen(opts), 32, "%s%s", opts[0] ? "," : "", extra);
    fd = open_in_root(c, a->mountpoint, O_PATH | O_DIRECTORY, 0);
    if (fd < 0)
        return -1;
    snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
    if (mount(a->device, target, driver, flags | MS_NODEV | MS_NOSUID | MS_NOEXEC, opts) < 0)
        return call_fail_errno(c, errno, "mount %s (%s) on %s", a->device, type, a->mountpoint);
    /* our descriptor of the root still sees what the mount covered */
    if (reopen_root() < 0)
        return call_fail_errno(c, errno, "%s", d.root);
    return 0;
}

/* A session between commands: what the last one wrote reaches the disks,
 * and with unmount the next one starts with nothing mounted. */
int do_release(struct call *c, ferry_release_args *a, ferry_void *r)
{
    (void) r;
    if (!d.appliance) {
        sync(); /* a host ferryd mounts nothing */
        return 0;
    }
    if (!a->unmount) {
        appliance_settle_all();
        return 0;
    }
    close(d.rootfd); /* it would keep a mount on / busy */
    d.rootfd = -1;
    appliance_unmount_all();
    if (reopen_root() < 0)
        return call_fail_errno(c, errno, "%s", d.root);
    return 0;
}

int do_umount(struct call *c, ferry_path_args *a, ferry_void *r)
{
    (void) r;
    char link[64], target[FERRY_MAX_PATH + 1];
    ssize_t n;
    int fd;

    if (need_appliance(c, "umount") < 0)
        return -1;
    fd = open_in_root(c, a->path, O_PATH | O_DIRECTORY, 0);
    if (fd < 0)
        return -1;
    /* The open descriptor would keep the mount busy: unmount by the path
     * it resolved to, after closing it. */
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof target - 1);
    close(fd);
    if (n < 0)
        return call_fail_errno(c, errno, "umount %s", a->path);
    target[n] = '\0';
    /* the root's own descriptor keeps a mount on / busy: let go of it */
    close(d.rootfd);
    d.rootfd = -1;
    int ret = umount2(target, 0);
    int err = errno;
    if (reopen_root() < 0)
        return call_fail_errno(c, errno, "%s", d.root);
    if (ret < 0)
        return call_fail_errno(c, err, "umount %s", a->path);
    return 0;
}
