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
    if (helper_start(c, &h, argv, -1, out, -1) < 0 || helper_finish(c, &h, "blkid") < 0) {
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
    extra = a->readonly ? no_replay(type) : NULL;
    snprintf(opts, sizeof opts, "%s%s%s", a->options, a->options[0] && extra ? "," : "",
             extra ? extra : "");
    fd = open_in_root(c, a->mountpoint, O_PATH | O_DIRECTORY, 0);
    if (fd < 0)
        return -1;
    snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
    if (mount(a->device, target, driver, a->readonly ? MS_RDONLY : 0, opts) < 0)
        return call_fail_errno(c, errno, "mount %s (%s) on %s", a->device, type, a->mountpoint);
    /* our descriptor of the root still sees what the mount covered */
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
