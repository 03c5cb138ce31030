/* crypt.c: opening encrypted volumes (LUKS1, LUKS2, BitLocker) with
 * cryptsetup (appliance only), and naming them in the device listing.
 *
 * The header cryptsetup parses comes from the image, so it may be hostile:
 * cryptsetup runs with a time limit, nothing of it runs on the host, and
 * what it says reaches the client only as an error message (which the
 * client escapes). The key reaches cryptsetup on a pipe, never in argv,
 * the environment or a file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

/* Long enough for a costly argon2id under TCG (see docs/security.md),
 * short enough that a header asking for days of PBKDF2 is an error. */
#define CRYPT_LIMIT_S 300

static int limit_s(void)
{
    return d.crypt_limit_s > 0 ? d.crypt_limit_s : CRYPT_LIMIT_S;
}

/* cryptsetup's exit statuses (cryptsetup(8), "RETURN CODES") */
#define CRYPTSETUP_NO_PERMISSION 2 /* a wrong passphrase */
#define CRYPTSETUP_NO_MEMORY 3

/* The kinds of volume opened, by their first bytes: cryptsetup's --type,
 * and the prefix of the opened volume's name. */
struct kind {
    const char *type, *what;
};
static const struct kind luks = { "luks", "LUKS volume" }, bitlk = { "bitlk", "BitLocker volume" };

/* LUKS by its magic, at the start or (LUKS2) its second header's at one
 * of the offsets LUKS2 allows; anything else the client asks to open is
 * what blkid called BitLocker (its To Go variant has no magic of its own
 * at the start), and cryptsetup checks it again. */
static const struct kind *kind_of(const char *dev)
{
    static const unsigned kib[] = { 16, 32, 64, 128, 256, 512, 1024, 2048, 4096 };
    unsigned char h[6];
    int fd = open(dev, O_RDONLY | O_CLOEXEC);
    bool is_luks =
        fd >= 0 && pread(fd, h, sizeof h, 0) == (ssize_t) sizeof h && !memcmp(h, "LUKS\xba\xbe", 6);

    for (size_t i = 0; fd >= 0 && !is_luks && i < sizeof kib / sizeof kib[0]; i++)
        is_luks = pread(fd, h, sizeof h, (off_t) kib[i] << 10) == (ssize_t) sizeof h &&
                  !memcmp(h, "SKUL\xba\xbe", 6);
    if (fd >= 0)
        close(fd);
    return is_luks ? &luks : &bitlk;
}

/* Is the device-mapper device at path a volume cryptsetup opened on dev?
 * (An LVM volume of the image could be named luks-vda1 too.) */
static bool opened_on(const char *path, const char *dev)
{
    char sys[96], uuid[160], real[PATH_MAX], slave[PATH_MAX + 16];
    struct stat m, d;

    if (stat(path, &m) < 0 || stat(dev, &d) < 0 || !S_ISBLK(m.st_mode) || !S_ISBLK(d.st_mode))
        return false;
    snprintf(sys, sizeof sys, "/sys/dev/block/%u:%u/dm/uuid", major(m.st_rdev), minor(m.st_rdev));
    sysfs_read(sys, uuid, sizeof uuid);
    snprintf(sys, sizeof sys, "/sys/dev/block/%u:%u", major(d.st_rdev), minor(d.st_rdev));
    if (strncmp(uuid, "CRYPT-", 6) != 0 || !realpath(sys, real))
        return false;
    snprintf(slave, sizeof slave, "/sys/dev/block/%u:%u/slaves/%s", major(m.st_rdev),
             minor(m.st_rdev), strrchr(real, '/') + 1);
    return access(slave, F_OK) == 0;
}

/* /dev/vda1 opens as luks-vda1 (or bitlk-vda1), /dev/mapper/vg-lv as
 * luks-vg-lv. The device is checked before it is read. */
static const struct kind *mapped_name(struct call *c, const char *dev, char *name, size_t size)
{
    const char *base = strrchr(dev, '/');
    const struct kind *k;

    if (strncmp(dev, "/dev/", 5) != 0 || strstr(dev, "/..") || !base[1] ||
        strspn(base + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+") !=
            strlen(base + 1) ||
        strlen(base + 1) > 100) {
        call_fail(c, EINVAL, "%s: not a device", dev);
        return NULL;
    }
    k = kind_of(dev);
    snprintf(name, size, "%s-%s", k->type, base + 1);
    return k;
}

/* What went wrong, from cryptsetup's exit status and the message kept. */
static int explain(struct call *c, const struct helper *h, const char *dev, const struct kind *k)
{
    int st = h->status;

    if (c->err == ETIMEDOUT)
        return call_fail(c, ETIMEDOUT,
                         "%s: cryptsetup gave up after %d s opening the %s "
                         "(its key derivation costs that much, or its header is hostile)",
                         dev, limit_s(), k->what);
    if (WIFEXITED(st) && WEXITSTATUS(st) == CRYPTSETUP_NO_PERMISSION)
        return call_fail(c, EACCES, "%s: wrong passphrase for the %s", dev, k->what);
    /* argon2 asks for its memory at once: a refusal, or the kernel's OOM
     * killer when overcommit let it through */
    if ((WIFEXITED(st) && WEXITSTATUS(st) == CRYPTSETUP_NO_MEMORY) ||
        (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) || strstr(c->msg, "memory"))
        return call_fail(c, ENOMEM,
                         "%s: the %s's key derivation needs more memory than the "
                         "appliance has: raise --memsize (e.g. --memsize 1024; then the "
                         "appliance boots instead of resuming, about a second more)",
                         dev, k->what);
    return call_prefix(c, dev);
}

/* Give the key to cryptsetup on a pipe: it fits in the pipe's buffer (64
 * KiB >= FERRY_MAX_KEY), so it is written whole before cryptsetup starts. */
static int key_pipe(struct call *c, const ferry_crypt_open_args *a)
{
    int p[2];

    if (pipe2(p, O_CLOEXEC) < 0)
        return call_fail_errno(c, errno, "pipe");
    if (write_all(p[1], a->key.key_val, a->key.key_len, -1) < 0) {
        close(p[0]);
        close(p[1]);
        return call_fail_errno(c, errno, "pipe");
    }
    close(p[1]);
    return p[0];
}

static int open_volume(struct call *c, ferry_crypt_open_args *a, const struct kind *k,
                       const char *name)
{
    char *argv[] = { "cryptsetup",
                     "open",
                     "--type",
                     (char *) k->type,
                     "--key-file=-",
                     "--disable-locks",
                     "--disable-keyring",
                     "--disable-external-tokens",
                     a->device,
                     (char *) name,
                     a->readonly ? "--readonly" : NULL,
                     NULL };
    struct helper h;
    int in = key_pipe(c, a);

    if (in < 0)
        return -1;
    /* no udev here: libdevmapper makes /dev/mapper/NAME itself */
    setenv("DM_DISABLE_UDEV", "1", 1);
    if (helper_start(c, &h, argv, &(struct helper_io){ in, -1, -1, false }) < 0) {
        close(in);
        return -1;
    }
    close(in);
    if (helper_finish_within(c, &h, "cryptsetup", limit_s()) < 0)
        return explain(c, &h, a->device, k);
    return 0;
}

int do_crypt_open(struct call *c, ferry_crypt_open_args *a, ferry_crypt_open_ret *r)
{
    char name[128] = "", path[160];
    struct stat st;
    const struct kind *k = NULL;
    int ret = 0;

    if (!d.appliance)
        ret = call_fail(c, ENOTSUP, "crypt-open: only inside the appliance");
    else if (!(k = mapped_name(c, a->device, name, sizeof name)))
        ret = -1;
    snprintf(path, sizeof path, "/dev/mapper/%s", name);
    /* opened before (an earlier command of a session): nothing to do; a
     * device of that name that is something else is no volume of ours */
    if (ret == 0 && stat(path, &st) < 0)
        ret = open_volume(c, a, k, name);
    else if (ret == 0 && !opened_on(path, a->device))
        ret = call_fail(c, EEXIST, "%s: %s is taken by a device that is not this volume opened",
                        a->device, path);
    explicit_bzero(a->key.key_val, a->key.key_len);
    /* the frame the key came in is still in the receive buffer */
    wire_wipe(&d.w);
    if (ret < 0)
        return -1;
    r->device = strdup(path);
    return r->device ? 0 : call_fail(c, ENOMEM, "out of memory");
}

/* The device an opened volume sits on: its one "slave" in sysfs. */
static void crypt_parent(const char *sysdir, char *parent, size_t psize, char *serial, size_t ssize)
{
    static const char *const serials[] = { "serial", "device/serial", "../serial",
                                           "../device/serial" };
    char path[600], val[256];
    DIR *dir;
    struct dirent *de;

    snprintf(path, sizeof path, "%s/slaves", sysdir);
    parent[0] = serial[0] = '\0';
    if (!(dir = opendir(path)))
        return;
    while ((de = readdir(dir)) && de->d_name[0] == '.')
        ;
    if (de && !strncmp(de->d_name, "dm-", 3)) {
        snprintf(path, sizeof path, "%s/slaves/%s/dm/name", sysdir, de->d_name);
        sysfs_read(path, val, sizeof val);
        snprintf(parent, psize, "/dev/mapper/%s", val);
    } else if (de) {
        snprintf(parent, psize, "/dev/%s", de->d_name);
        for (int i = 0; i < 4 && !serial[0]; i++) {
            snprintf(path, sizeof path, "%s/slaves/%s/%s", sysdir, de->d_name, serials[i]);
            sysfs_read(path, serial, ssize);
        }
    }
    closedir(dir);
}

void crypt_describe(ferry_device *dv, const char *sysdir)
{
    char path[400], uuid[160], parent[300], serial[64];

    snprintf(path, sizeof path, "%s/dm/uuid", sysdir);
    sysfs_read(path, uuid, sizeof uuid);
    if (strncmp(uuid, "CRYPT-", 6) != 0)
        return;
    crypt_parent(sysdir, parent, sizeof parent, serial, sizeof serial);
    char *p = strdup(parent), *s = strdup(serial);
    if (!p || !s) {
        free(p);
        free(s);
        return;
    }
    dv->kind = FERRY_DEV_CRYPT;
    free(dv->parent);
    free(dv->serial);
    dv->parent = p;
    dv->serial = s;
}
