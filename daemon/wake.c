/* wake.c: the saved appliance (see proto/wake.h).
 *
 * Every run of ferry resumes the same saved machine, so all that differs
 * between runs must come from the wake record: the time, the random state
 * and the disks. The clock: the saved kernel counts time in jiffies (its
 * command line says clocksource=jiffies), because the TSC it would
 * otherwise read runs at the rate of whatever host resumes it, and the
 * kernel calibrated it on the build machine; the local APIC timer that
 * drives jiffies ticks at qemu's fixed rate on every host. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "wake.h"

/* <linux/random.h>, which musl's headers lack */
#define RNDADDENTROPY _IOW('R', 0x03, int[2])
#define RNDRESEEDCRNG _IO('R', 0x07)

static void put_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);

    if (fd >= 0) {
        if (write(fd, s, strlen(s)) < 0)
            (void) 0; /* a device that is not there: nothing to bind */
        close(fd);
    }
}

static long meminfo_kb(const char *key)
{
    char line[128];
    long v = -1;
    FILE *f = fopen("/proc/meminfo", "re");

    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key)))
            sscanf(line + strlen(key), " %ld", &v);
    if (f)
        fclose(f);
    return v;
}

/* Every free page zeroed: the kernel zeroes the pages it hands out, and
 * they go back zero. qemu saves zero pages as a few bytes each, so the
 * saved state holds only what is in use (the initramfs it unpacked left
 * its pages full of old bytes). */
static void zero_free_memory(void)
{
    put_file("/proc/sys/vm/drop_caches", "3");
    long kb = meminfo_kb("MemFree:") - 24 * 1024; /* what the kernel keeps in reserve */
    if (kb <= 0)
        return;
    size_t len = (size_t) kb * 1024;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return;
    for (size_t off = 0; off < len; off += 4096)
        p[off] = 0;
    munmap(p, len);
}

static void seed_random(const unsigned char *seed)
{
    struct {
        int entropy_count, buf_size;
        unsigned char buf[FERRY_WAKE_SEED];
    } pool = { FERRY_WAKE_SEED * 8, FERRY_WAKE_SEED, { 0 } };
    int fd = open("/dev/random", O_WRONLY | O_CLOEXEC);

    memcpy(pool.buf, seed, FERRY_WAKE_SEED);
    if (fd < 0 || ioctl(fd, RNDADDENTROPY, &pool) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
        fprintf(stderr, "ferryd: seeding the random generator: %s\n", strerror(errno));
    if (fd >= 0)
        close(fd);
}

static int count_disks(void)
{
    DIR *dir = opendir("/sys/block");
    struct dirent *de;
    int n = 0;

    while (dir && (de = readdir(dir)))
        n += !strncmp(de->d_name, "vd", 2);
    if (dir)
        closedir(dir);
    return n;
}

/* The saved kernel booted with empty disks in every slot; this run's qemu
 * put the images into the first slots. Each slot's device answers with
 * its own serial already (an empty one with FERRY_WAKE_EMPTY): unbind
 * every slot, and probe again those that hold an image, so that the
 * kernel reads their size and features afresh. */
static void attach_disks(unsigned want)
{
    DIR *dir = opendir("/sys/block");
    struct dirent *de;
    char path[512], dev[PATH_MAX], serial[64], slots[SAVED_DISKS_MAX][64];
    bool full[SAVED_DISKS_MAX];
    int n = 0;

    while (dir && (de = readdir(dir)) && n < SAVED_DISKS_MAX) {
        if (strncmp(de->d_name, "vd", 2))
            continue;
        /* /sys/block/vda/device -> .../LNRO0005:01/virtio1: the slot is its parent */
        snprintf(path, sizeof path, "/sys/block/%s/device/..", de->d_name);
        if (!realpath(path, dev))
            continue;
        snprintf(path, sizeof path, "/sys/block/%s/serial", de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t len = fd < 0 ? -1 : read(fd, serial, sizeof serial - 1);
        if (fd >= 0)
            close(fd);
        serial[len > 0 ? len : 0] = '\0';
        snprintf(slots[n], sizeof slots[n], "%s", strrchr(dev, '/') + 1);
        full[n++] = len > 0 && strncmp(serial, FERRY_WAKE_EMPTY, strlen(FERRY_WAKE_EMPTY));
    }
    if (dir)
        closedir(dir);
    for (int i = 0; i < n; i++)
        put_file("/sys/bus/platform/drivers/virtio-mmio/unbind", slots[i]);
    for (int i = 0; i < n; i++)
        if (full[i])
            put_file("/sys/bus/platform/drivers/virtio-mmio/bind", slots[i]);
    for (int tries = 0; tries < 500 && count_disks() < (int) want; tries++)
        nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
    if (count_disks() != (int) want)
        fprintf(stderr, "ferryd: %u disks given, %d found\n", want, count_disks());
}

bool appliance_saved(void)
{
    char line[4096];
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, line, sizeof line - 1);

    if (fd >= 0)
        close(fd);
    line[n > 0 ? n : 0] = '\0';
    return strstr(line, " ferry.wake") != NULL;
}

int appliance_wake(int fd)
{
    unsigned char rec[FERRY_WAKE_SIZE];
    struct ferry_wake w;

    zero_free_memory();
    if (write(fd, FERRY_WAKE_READY, strlen(FERRY_WAKE_READY)) < 0)
        return -1;
    /* here the build saves the machine; every run goes on from here */
    if (read_all(fd, rec, sizeof rec) < 0 || !wake_decode(rec, &w)) {
        fprintf(stderr, "ferryd: no wake record on the channel\n");
        return -1;
    }
    struct timespec now = { w.sec, w.nsec };
    if (clock_settime(CLOCK_REALTIME, &now) < 0)
        fprintf(stderr, "ferryd: setting the clock: %s\n", strerror(errno));
    seed_random(w.seed);
    if (w.flags & FERRY_WAKE_VERBOSE) {
        put_file("/proc/sys/kernel/printk", "7");
        unsigned char sample[8];
        if (getrandom(sample, sizeof sample, GRND_NONBLOCK) == sizeof sample)
            fprintf(
                stderr,
                "ferryd: woken at %lld, %u disks, random sample %02x%02x%02x%02x%02x%02x%02x%02x\n",
                (long long) w.sec, w.disks, sample[0], sample[1], sample[2], sample[3], sample[4],
                sample[5], sample[6], sample[7]);
    }
    attach_disks(w.disks);
    return 0;
}
