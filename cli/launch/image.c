/* image.c: what an image file is, and which other files it names.
 *
 * ferry, not qemu, decides the format, from the first bytes (qemu's probing
 * is never used: a raw image that starts with another format's header must
 * stay raw), and reads the headers that can name other files: a qcow2's
 * backing file and external data file, a qcow's or qed's backing file, a
 * VMDK's descriptor (its extents and its parent), a differencing VDI or
 * VHD. Such an image is refused unless --external; then ferry opens the
 * files it names too, and says which. Every value from a header is bounded
 * before it is used: the image is not trusted. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch/ewf.h"
#include "launch/image.h"
#include "output/output.h"

const char *const image_formats[] = {
    "raw",
    "qcow2",
    "qcow",
    "vmdk",
    "vdi",
    "vhdx",
    "vpc",
    "ewf", /* EnCase E01: read by ferry (libewf), served to qemu (ewf.c) */
    /* rare: qemu's drivers for these see little use; opened only when named */
    "qed",
    "parallels",
    "dmg",
    "bochs",
    "cloop",
    NULL,
};
#define FIRST_RARE 8

bool image_format_rare(const char *format)
{
    for (int i = FIRST_RARE; image_formats[i]; i++)
        if (!strcmp(format, image_formats[i]))
            return true;
    return false;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t) be32(p) << 32 | be32(p + 4);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 | (uint32_t) p[1] << 8 | p[0];
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t) le32(p + 4) << 32 | le32(p);
}

/* Exactly len bytes at off, or -1. */
static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
    ssize_t n = off > INT64_MAX ? -1 : pread(fd, buf, len, off);
    return n == (ssize_t) len ? 0 : -1;
}

/* What one file names. */
struct refs {
    const char *why;    /* refused outright: the reason */
    char backing[1024]; /* "" none */
    char backing_fmt[32];
    char data[1024];  /* a qcow2's external data file */
    bool data_needed; /* the qcow2 needs one, named or not */
    bool descriptor;  /* a VMDK descriptor: its extents by path */
    int nextents;
    char extents[IMAGE_MAX_EXTENTS][1024];
};

static const char *detect(int fd, const struct stat *st, const unsigned char *h)
{
    unsigned char tail[512];
    /* a fixed-size VHD is raw data with a footer at the end */
    bool vhd_footer = S_ISREG(st->st_mode) && st->st_size >= 1024 &&
                      read_at(fd, tail, sizeof tail, st->st_size - 512) == 0 &&
                      !memcmp(tail, "conectix", 8);

    if (!memcmp(h, EWF_MAGIC, EWF_MAGIC_SIZE))
        return "ewf";
    if (!memcmp(h, "QFI\xfb", 4))
        return be32(h + 4) >= 2 ? "qcow2" : "qcow";
    if (!memcmp(h, "KDMV", 4) || !memcmp(h, "COWD", 4) || !memcmp(h, "# Disk DescriptorFile", 21))
        return "vmdk";
    if (!memcmp(h + 0x40, "\x7f\x10\xda\xbe", 4))
        return "vdi";
    if (!memcmp(h, "vhdxfile", 8))
        return "vhdx";
    if (!memcmp(h, "conectix", 8) || vhd_footer)
        return "vpc";
    if (!memcmp(h, "QED\0", 4))
        return "qed";
    if (!memcmp(h, "WithoutFreeSpace", 16) || !memcmp(h, "WithouFreSpacExt", 16))
        return "parallels";
    if (!memcmp(h, "Bochs Virtual HD Image", 22))
        return "bochs";
    if (!memcmp(h, "#!/bin/sh\n#V2.0 Format\n", 23))
        return "cloop";
    return "raw";
}

/* A name of at most size-1 bytes at off, into out. */
static int read_name(int fd, uint64_t off, uint32_t len, char *out, size_t size)
{
    if (len == 0 || len >= size || read_at(fd, out, len, off) < 0)
        return -1;
    out[len] = '\0';
    return strlen(out) == len ? 0 : -1; /* no NUL inside */
}

static void refs_qcow2(int fd, const unsigned char *h, struct refs *r)
{
    uint32_t version = be32(h + 4), cluster_bits = be32(h + 20);
    uint64_t boff = be64(h + 8);

    if (version < 2 || version > 3 || cluster_bits < 9 || cluster_bits > 21)
        return; /* qemu refuses these itself */
    uint64_t cluster = 1ull << cluster_bits;
    if (boff &&
        (boff > cluster || read_name(fd, boff, be32(h + 16), r->backing, sizeof r->backing) < 0)) {
        r->why = "a backing file name that cannot be read";
        return;
    }
    uint64_t incompat = version == 3 ? be64(h + 72) : 0;
    uint64_t at = version == 3 ? be32(h + 100) : 72;
    r->data_needed = incompat & (1u << 2); /* QCOW2_INCOMPAT_DATA_FILE */
    /* header extensions, up to the end of the first cluster */
    unsigned char e[8];
    while (at + 8 <= cluster && read_at(fd, e, 8, at) == 0) {
        uint32_t type = be32(e), len = be32(e + 4);
        if (type == 0 || at + 8 + len > cluster)
            break;
        if (type == 0xe2792aca && len < sizeof r->backing_fmt)
            read_name(fd, at + 8, len, r->backing_fmt, sizeof r->backing_fmt);
        if (type == 0x44415441 && read_name(fd, at + 8, len, r->data, sizeof r->data) < 0)
            snprintf(r->data, sizeof r->data, "(a name that cannot be read)");
        at += 8 + ((uint64_t) len + 7) / 8 * 8;
    }
}

/* VMDK descriptor text: extents and the parent. */
static void parse_descriptor(char *text, struct refs *r, bool extents_count)
{
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char access[16], type[16], name[1024];
        unsigned long long sectors;
        line += strspn(line, " \t");
        if (!strncmp(line, "parentFileNameHint=\"", 20)) {
            snprintf(r->backing, sizeof r->backing, "%.*s", (int) strcspn(line + 20, "\""),
                     line + 20);
        } else if (extents_count &&
                   sscanf(line, "%15s %llu %15s \"%1023[^\"]\"", access, &sectors, type, name) ==
                       4 &&
                   (!strcmp(access, "RW") || !strcmp(access, "RDONLY") ||
                    !strcmp(access, "NOACCESS"))) {
            if (r->nextents == IMAGE_MAX_EXTENTS) {
                r->why = "more extents than ferry opens";
                return;
            }
            snprintf(r->extents[r->nextents++], sizeof r->extents[0], "%s", name);
        }
    }
}

static void refs_vmdk(int fd, const unsigned char *h, struct refs *r)
{
    static char text[65536];
    uint64_t off = 0, size = 0;
    bool follows_descriptor = true;

    if (!memcmp(h, "KDMV", 4)) {
        off = le64(h + 28) * 512;
        size = le64(h + 36) * 512;
        /* with a capacity, the sparse file is its own extent; without one,
         * qemu follows the embedded descriptor's extents */
        follows_descriptor = le64(h + 12) == 0;
        if (!off || !size)
            return;
    } else if (memcmp(h, "# Disk DescriptorFile", 21)) {
        return; /* COWD: one file */
    }
    if (size == 0 || size > sizeof text - 1)
        size = sizeof text - 1;
    ssize_t n = pread(fd, text, size, off);
    if (n <= 0)
        return;
    text[n] = '\0';
    r->descriptor = follows_descriptor;
    parse_descriptor(text, r, follows_descriptor);
    if (r->descriptor && r->nextents == 0 && !r->why)
        r->why = "a descriptor without extents";
}

static void refs_of(int fd, const struct stat *st, const unsigned char *h, const char *format,
                    struct refs *r)
{
    memset(r, 0, sizeof *r);
    if (!strcmp(format, "qcow2")) {
        refs_qcow2(fd, h, r);
    } else if (!strcmp(format, "qcow")) {
        if (be64(h + 8) && read_name(fd, be64(h + 8), be32(h + 16), r->backing, sizeof r->backing))
            r->why = "a backing file name that cannot be read";
    } else if (!strcmp(format, "qed")) {
        if ((le64(h + 16) & 1) &&
            read_name(fd, le32(h + 56), le32(h + 60), r->backing, sizeof r->backing))
            r->why = "a backing file name that cannot be read";
    } else if (!strcmp(format, "vmdk")) {
        refs_vmdk(fd, h, r);
    } else if (!strcmp(format, "vdi")) {
        uint32_t type = le32(h + 0x4c);
        if (type == 3 || type == 4)
            r->why = "a differencing VDI, whose parent is another image";
    } else if (!strcmp(format, "vpc")) {
        unsigned char f[512];
        bool at_end = memcmp(h, "conectix", 8) != 0;
        if ((!at_end ? read_at(fd, f, 512, 0) : read_at(fd, f, 512, st->st_size - 512)) == 0 &&
            be32(f + 0x3c) == 4)
            r->why = "a differencing VHD, whose parent is another image";
    }
}

/* Open a file named by the user or an image: a regular file or a block
 * device, checked on an O_PATH descriptor before it is opened (a fifo
 * would block, a symlink to a device is fine when it is one). */
static int open_checked(const char *path, bool rw, struct stat *st)
{
    char self[64];
    int p = open(path, O_PATH | O_CLOEXEC), fd;

    if (p < 0)
        return -1;
    if (fstat(p, st) < 0 || (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))) {
        close(p);
        errno = EINVAL;
        return -2;
    }
    snprintf(self, sizeof self, "/proc/self/fd/%d", p);
    fd = open(self, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ENOENT) /* no /proc (an empty root): by name */
        fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
    close(p);
    return fd;
}

/* A name an image gives, as a path: relative to the image's directory, as
 * qemu resolves it. Names qemu would read as something else ("json:{...}",
 * "nbd://...") are no file. */
static char *resolve(const char *image, const char *name)
{
    size_t colon = strcspn(name, ":/");
    if (name[colon] == ':')
        return NULL;
    if (name[0] == '/')
        return strdup(name);
    char *copy = strdup(image), *out = NULL;
    if (copy && asprintf(&out, "%s/%s", dirname(copy), name) < 0)
        out = NULL;
    free(copy);
    return out;
}

struct chain {
    int depth;
    dev_t dev[IMAGE_MAX_CHAIN + 1];
    ino_t ino[IMAGE_MAX_CHAIN + 1];
};

static struct image_file *open_file(const char *path, const char *format, bool rw, bool external,
                                    bool verbose, struct chain *ch, const char *named_by);

/* A file an image names, opened after saying so. */
static struct image_file *named(const char *image, const char *what, const char *name,
                                const char *format, bool rw, bool verbose, struct chain *ch)
{
    char *path = resolve(image, name);
    struct image_file *f = NULL;

    if (!path) {
        report("%s: its %s '%s' is no file; not opening it", image, what, name);
        return NULL;
    }
    report("%s: opening its %s %s", image, what, path);
    f = open_file(path, format, rw, true, verbose, ch, image);
    free(path);
    return f;
}

static struct image_file *open_file(const char *path, const char *format, bool rw, bool external,
                                    bool verbose, struct chain *ch, const char *named_by)
{
    unsigned char h[512] = { 0 };
    struct stat st;
    struct refs r;
    struct image_file *f;
    int fd = open_checked(path, rw, &st);

    if (fd < 0) {
        report("%s%s%s: %s", named_by ? named_by : "", named_by ? ": " : "", path,
               fd == -2 ? "not a regular file or block device" : strerror(errno));
        return NULL;
    }
    for (int i = 0; i < ch->depth; i++)
        if (ch->dev[i] == st.st_dev && ch->ino[i] == st.st_ino) {
            report("%s: names itself, through its chain of backing files", path);
            close(fd);
            return NULL;
        }
    if (ch->depth > IMAGE_MAX_CHAIN) {
        report("%s: a chain of more than %d backing files", path, IMAGE_MAX_CHAIN);
        close(fd);
        return NULL;
    }
    ch->dev[ch->depth] = st.st_dev;
    ch->ino[ch->depth++] = st.st_ino;
    if (pread(fd, h, sizeof h, 0) < 0) {
        report("%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!format) {
        format = detect(fd, &st, h);
        if (image_format_rare(format)) {
            report("%s looks like a %s image; ferry opens %s images only when asked: --format %s",
                   path, format, format, format);
            close(fd);
            return NULL;
        }
    }
    if (!strcmp(format, "ewf") && (rw || named_by)) {
        report("%s: an E01 image %s", path,
               rw ? "is evidence: ferry opens it read-only (no --rw)"
                  : "cannot be another image's backing file");
        close(fd);
        return NULL;
    }
    refs_of(fd, &st, h, format, &r);
    /* tests only: let qemu meet the image's names, to show that the other
     * two walls (descriptors, Landlock) hold on their own */
    if (getenv("FERRY_TEST_UNCHECKED_IMAGES"))
        memset(&r, 0, sizeof r);
    bool names = r.why || r.backing[0] || r.data[0] || r.data_needed || r.nextents;
    if (names && !external) {
        const char *what = r.why                        ? r.why
                           : r.backing[0]               ? "a backing file"
                           : r.data[0] || r.data_needed ? "an external data file"
                                                        : "extent files";
        const char *name = r.backing[0] ? r.backing : r.data[0] ? r.data : r.extents[0];
        report("%s names another file: %s%s%s%s; ferry opens only the files it is given "
               "(--external opens the files an image names)",
               path, what, name[0] ? " '" : "", name, name[0] ? "'" : "");
        close(fd);
        return NULL;
    }
    if (r.why) {
        report("%s: %s; ferry cannot open it", path, r.why);
        close(fd);
        return NULL;
    }
    if (r.data_needed && !r.data[0]) {
        report("%s needs an external data file and does not name it", path);
        close(fd);
        return NULL;
    }
    if (!(f = calloc(1, sizeof *f)) || !(f->path = strdup(path))) {
        free(f);
        close(fd);
        report("out of memory");
        return NULL;
    }
    f->format = format;
    f->fd = fd;
    if (!strcmp(format, "ewf") && !(f->ewf = ewf_start(path))) {
        image_free(f);
        return NULL;
    }
    f->block = S_ISBLK(st.st_mode);
    for (int i = 0; i < r.nextents; i++) {
        char *e = resolve(path, r.extents[i]);
        struct stat es;
        int efd = e ? open_checked(e, rw, &es) : -1;
        if (efd < 0) {
            report("%s: its extent '%s': %s", path, r.extents[i],
                   !e          ? "is no file"
                   : efd == -2 ? "not a regular file or block device"
                               : strerror(errno));
            free(e);
            image_free(f);
            return NULL;
        }
        close(efd);
        report("%s: qemu may open its extent %s", path, e);
        f->extents[f->nextents++] = e;
    }
    const char *bfmt = NULL;
    for (int i = 0; r.backing_fmt[0] && image_formats[i]; i++)
        if (!strcmp(r.backing_fmt, image_formats[i]))
            bfmt = image_formats[i];
    if (r.backing[0] &&
        !(f->backing = named(path, "backing file", r.backing, bfmt, false, verbose, ch))) {
        image_free(f);
        return NULL;
    }
    if (r.data[0] && !(f->data = named(path, "data file", r.data, "raw", rw, verbose, ch))) {
        image_free(f);
        return NULL;
    }
    return f;
}

struct image_file *image_open(const char *path, const char *format, bool rw, bool external,
                              bool verbose)
{
    struct chain ch = { 0 };
    return open_file(path, format, rw, external, verbose, &ch, NULL);
}

void image_free(struct image_file *f)
{
    if (!f)
        return;
    image_free(f->backing);
    image_free(f->data);
    for (int i = 0; i < f->nextents; i++)
        free(f->extents[i]);
    if (f->fd >= 0)
        close(f->fd);
    ewf_stop(f->ewf);
    free(f->path);
    free(f);
}
