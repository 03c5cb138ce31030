/* appliance.c: getting the embedded appliance and qemu out at run time,
 * into sealed memfds: qemu is run from its own, and opens the others by
 * /proc/self/fd path. Nothing is written to
 * disk and nothing is cached: each run unpacks afresh (about 20 ms). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "appliance.h"

extern const unsigned char ferry_kernel_zst[], ferry_kernel_zst_end[];
extern const unsigned char ferry_initrd_zst[], ferry_initrd_zst_end[];
extern const char ferry_kernel_version[];
extern const unsigned char ferry_qemu_zst[], ferry_qemu_zst_end[];
extern const unsigned char ferry_bios_zst[], ferry_bios_zst_end[];
extern const unsigned char ferry_state_zst[], ferry_state_zst_end[];
extern const char ferry_state_sig[];
extern const char ferry_qemu_version[];

/* The largest appliance part we accept to unpack: a bound on a damaged size field. */
#define MAX_PART (256u << 20)

const char *appliance_kernel_version(void)
{
    static char v[128];

    /* the file it was made from ends with a newline */
    if (!v[0])
        snprintf(v, sizeof v, "%.*s", (int) strcspn(ferry_kernel_version, "\n"),
                 ferry_kernel_version);
    return v;
}

/* memfd_create's flag for a file that may be run (Linux 6.3); older
 * kernels refuse the flag and run any memfd. */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* Decompress z into fd through a small buffer, and let go of the
 * compressed pages as they are used: ferry's own memory stays small (the
 * memory file's pages are not mapped here). The frame's checksum catches a
 * damaged blob. Returns the bytes written, or -1 with a message in err. */
static long long inflate_into(int fd, const unsigned char *z, size_t zlen, const char *name,
                              char *err, size_t errsz)
{
    enum { OUT = 256 << 10 };
    unsigned char *out = malloc(OUT); /* a thread of its own may stream the state */
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    ZSTD_inBuffer in = { z, zlen, 0 };
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t dropped = ((uintptr_t) z + page - 1) & ~(uintptr_t) (page - 1);
    long long total = 0;
    size_t r = 1;

    if (!dc || !out) {
        snprintf(err, errsz, "%s: out of memory", name);
        ZSTD_freeDCtx(dc);
        free(out);
        return -1;
    }
    while (r != 0 && in.pos < in.size) {
        ZSTD_outBuffer o = { out, OUT, 0 };
        r = ZSTD_decompressStream(dc, &o, &in);
        if (ZSTD_isError(r)) {
            snprintf(err, errsz, "the appliance inside this ferry is damaged (%s: %s)", name,
                     ZSTD_getErrorName(r));
            total = -1;
            break;
        }
        for (size_t at = 0; at < o.pos;) {
            ssize_t n = write(fd, out + at, o.pos - at);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                snprintf(err, errsz, "%s: %s", name, n < 0 ? strerror(errno) : "short write");
                ZSTD_freeDCtx(dc);
                free(out);
                return -1;
            }
            at += n;
        }
        total += o.pos;
        uintptr_t used = ((uintptr_t) z + in.pos) & ~(uintptr_t) (page - 1);
        if (used > dropped) {
            madvise((void *) dropped, used - dropped, MADV_DONTNEED);
            dropped = used;
        }
    }
    if (total >= 0 && r != 0) {
        snprintf(err, errsz, "the appliance inside this ferry is damaged (%s: short)", name);
        total = -1;
    }
    ZSTD_freeDCtx(dc);
    free(out);
    return total;
}

static int unpack(const char *name, const unsigned char *z, const unsigned char *end, bool exec,
                  char *err, size_t errsz)
{
    size_t zlen = end - z;
    unsigned long long size = ZSTD_getFrameContentSize(z, zlen);
    long long got;
    int fd;

    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size == 0 ||
        size > MAX_PART) {
        snprintf(err, errsz, "the appliance inside this ferry is damaged (%s: bad header)", name);
        return -1;
    }
    fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | (exec ? MFD_EXEC : 0));
    if (fd < 0 && exec && errno == EINVAL) /* before 6.3 */
        fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 && exec && errno == EACCES) {
        snprintf(err, errsz,
                 "this system forbids running programs from memory "
                 "(vm.memfd_noexec = 2), so ferry cannot run the qemu it carries; "
                 "name one with --qemu");
        return -1;
    }
    if (fd < 0) {
        snprintf(err, errsz, "memfd_create: %s", strerror(errno));
        return -1;
    }
    got = inflate_into(fd, z, zlen, name, err, errsz);
    if (got >= 0 && (unsigned long long) got != size)
        snprintf(err, errsz, "the appliance inside this ferry is damaged (%s: %s)", name,
                 "wrong size");
    if (got < 0 || (unsigned long long) got != size) {
        close(fd);
        return -1;
    }
    /* qemu gets a file nobody can change under it */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        snprintf(err, errsz, "%s: sealing: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int appliance_unpack(int *kernel_fd, int *initrd_fd, char *err, size_t errsz)
{
    *kernel_fd = unpack("ferry-kernel", ferry_kernel_zst, ferry_kernel_zst_end, false, err, errsz);
    if (*kernel_fd < 0)
        return -1;
    *initrd_fd = unpack("ferry-initrd", ferry_initrd_zst, ferry_initrd_zst_end, false, err, errsz);
    if (*initrd_fd < 0) {
        close(*kernel_fd);
        return -1;
    }
    return 0;
}

const char *appliance_qemu_version(void)
{
    static char v[128];

    if (!v[0])
        snprintf(v, sizeof v, "%.*s", (int) strcspn(ferry_qemu_version, "\n"), ferry_qemu_version);
    return v;
}

const char *appliance_state_signature(void)
{
    return ferry_state_zst_end - ferry_state_zst > 0 ? ferry_state_sig : NULL;
}

int appliance_stream_state(int fd, char *err, size_t errsz)
{
    size_t zlen = ferry_state_zst_end - ferry_state_zst;
    unsigned long long size = ZSTD_getFrameContentSize(ferry_state_zst, zlen);
    long long got = inflate_into(fd, ferry_state_zst, zlen, "ferry-state", err, errsz);

    if (got >= 0 && (unsigned long long) got != size) {
        snprintf(err, errsz, "the appliance inside this ferry is damaged (%s: %s)", "ferry-state",
                 "wrong size");
        return -1;
    }
    return got < 0 ? -1 : 0;
}

int appliance_unpack_qemu(int *qemu_fd, int *bios_fd, char *err, size_t errsz)
{
    *qemu_fd = unpack("ferry-qemu", ferry_qemu_zst, ferry_qemu_zst_end, true, err, errsz);
    if (*qemu_fd < 0)
        return -1;
    *bios_fd = unpack("ferry-bios", ferry_bios_zst, ferry_bios_zst_end, false, err, errsz);
    if (*bios_fd < 0) {
        close(*qemu_fd);
        return -1;
    }
    return 0;
}
