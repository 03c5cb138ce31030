/* appliance.c: being PID 1 in the appliance: mount the kernel's
 * filesystems, find the channel, and power off at the end. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

/* linux/fs.h's, which musl's headers do not carry */
#define FIFREEZE _IOWR('X', 119, int)
#define FITHAW _IOWR('X', 120, int)

static void say(const char *msg)
{
    write(2, msg, strlen(msg));
}

void appliance_init(void)
{
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, NULL);
    /* The initramfs has no /dev/console node: take the console from devtmpfs. */
    int con = open("/dev/console", O_RDWR | O_NOCTTY);
    if (con >= 0) {
        dup2(con, 0);
        dup2(con, 1);
        dup2(con, 2);
        if (con > 2)
            close(con);
    }
    setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
    setenv("LVM_SUPPRESS_FD_WARNINGS", "1", 1);
    mkdir("/sysroot", 0755);
}

/* Large sequential reads are what ferry does: read ahead far on each disk
 * (the default 128 KiB means many small requests, each a trip through
 * qemu). FERRY_READAHEAD_KB tunes it for measurements. */
static void set_readahead(const char *kb)
{
    DIR *dir = opendir("/sys/block");
    struct dirent *de;
    char path[300];

    while (dir && (de = readdir(dir))) {
        if (strncmp(de->d_name, "vd", 2) != 0)
            continue;
        snprintf(path, sizeof path, "/sys/block/%s/queue/read_ahead_kb", de->d_name);
        int fd = open(path, O_WRONLY);
        if (fd >= 0) {
            write(fd, kb, strlen(kb));
            close(fd);
        }
    }
    if (dir)
        closedir(dir);
}

/* Settings ferry passes on the kernel command line: ferry.chunk_size=N. */
void appliance_settings(void)
{
    char line[4096];
    int fd = open("/proc/cmdline", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, line, sizeof line - 1);
    char *p;

    if (fd >= 0)
        close(fd);
    line[n > 0 ? n : 0] = '\0';
    char ra[16] = "4096";
    if ((p = strstr(line, "ferry.readahead_kb=")))
        snprintf(ra, sizeof ra, "%.*s", (int) strcspn(p + 19, " \n"), p + 19);
    set_readahead(ra);
    d.no_direct = strstr(line, "ferry.no_direct") != NULL;
    d.test_lie = strstr(line, "ferry.test_lie_extents") != NULL;
    if ((p = strstr(line, "ferry.crypt_limit_s=")))
        d.crypt_limit_s = atoi(p + 20);
    if ((p = strstr(line, "ferry.chunk_size="))) {
        unsigned long v = strtoul(p + 17, NULL, 10);
        if (v > 0 && v <= FERRY_MAX_CHUNK)
            d.chunk_size = v;
    }
}

/* The virtio-serial port named FERRY_CHANNEL_NAME: /dev/vportNpM. Its device node
 * may appear a moment after we start, so look for a while. */
int appliance_channel(void)
{
    char path[300], name[128];

    for (int tries = 0; tries < 500; tries++) {
        DIR *dir = opendir("/sys/class/virtio-ports");
        struct dirent *de;
        while (dir && (de = readdir(dir))) {
            if (de->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", de->d_name);
            int fd = open(path, O_RDONLY);
            ssize_t n = fd < 0 ? -1 : read(fd, name, sizeof name - 1);
            if (fd >= 0)
                close(fd);
            name[n > 0 ? n : 0] = '\0';
            name[strcspn(name, "\n")] = '\0';
            if (strcmp(name, FERRY_CHANNEL_NAME) != 0)
                continue;
            snprintf(path, sizeof path, "/dev/%s", de->d_name);
            fd = open(path, O_RDWR | O_CLOEXEC);
            if (fd >= 0) {
                closedir(dir);
                return fd;
            }
        }
        if (dir)
            closedir(dir);
        nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
    }
    say("ferryd: no virtio-serial port named " FERRY_CHANNEL_NAME "\n");
    return -1;
}

/* /proc/mounts and mountinfo escape space, tab, newline and backslash in
 * paths as \ooo. */
void mount_unescape(char *s)
{
    char *o = s;

    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *o++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
            s += 3;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* The mount points at or below /sysroot, in the order they were mounted,
 * as one NUL-separated block; *count of them. NULL if none. */
static char *sysroot_mounts(int *count)
{
    FILE *f = fopen("/proc/mounts", "re");
    char *line = NULL, *all = NULL;
    size_t cap = 0, len = 0;

    *count = 0;
    while (f && getline(&line, &cap, f) > 0) {
        char *dir = strchr(line, ' ');
        if (!dir)
            continue;
        dir++;
        dir[strcspn(dir, " ")] = '\0';
        mount_unescape(dir);
        if (strncmp(dir, "/sysroot", 8) || (dir[8] && dir[8] != '/'))
            continue;
        size_t n = strlen(dir) + 1;
        char *grown = realloc(all, len + n);
        if (!grown)
            break;
        all = grown;
        memcpy(all + len, dir, n);
        len += n;
        (*count)++;
    }
    free(line);
    if (f)
        fclose(f);
    return all;
}

/* Unmount everything below /sysroot, the last mounted first (a mount is
 * always above what it was mounted on), so that every filesystem written
 * with --rw is clean before the power goes. */
void appliance_unmount_all(void)
{
    int n;
    char *all = sysroot_mounts(&n);
    char **dirs = calloc(n ? n : 1, sizeof *dirs);

    for (int i = 0, off = 0; dirs && i < n; i++) {
        dirs[i] = all + off;
        off += strlen(dirs[i]) + 1;
    }
    while (dirs && n-- > 0) {
        if (umount2(dirs[n], 0) == 0)
            continue;
        fprintf(stderr, "ferryd: umount %s: %s; detaching it\n", dirs[n], strerror(errno));
        umount2(dirs[n], MNT_DETACH);
    }
    free(dirs);
    free(all);
}

void appliance_settle_all(void)
{
    int n;
    char *all = sysroot_mounts(&n);

    sync();
    /* a freeze writes the journal back to its place and leaves the
     * filesystem as clean as an unmount would; filesystems without
     * freeze (vfat) have had the sync */
    for (int i = 0, off = 0; all && i < n; i++) {
        const char *dir = all + off;
        off += strlen(dir) + 1;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (ioctl(fd, FIFREEZE, 0) == 0)
            ioctl(fd, FITHAW, 0);
        close(fd);
    }
    free(all);
}

void appliance_poweroff(void)
{
    /* our descriptor of the root would keep it busy, and a busy filesystem
     * is only detached: its log (xfs) would not be clean */
    if (d.rootfd >= 0)
        close(d.rootfd);
    d.rootfd = -1;
    sync();
    appliance_unmount_all();
    sync();
    reboot(RB_POWER_OFF);
    for (;;)
        pause();
}
