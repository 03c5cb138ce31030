/* image.c: what container format a disk image is, from its magic bytes.
 * ferry tells qemu the format explicitly: qemu's own probing is never used
 * (a raw image that starts with another format's header must stay raw). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    /* rare: qemu's drivers for these see little use; opened only when named */
    "qed",
    "parallels",
    "dmg",
    "bochs",
    "cloop",
    NULL,
};
#define FIRST_RARE 7

bool image_format_rare(const char *format)
{
    for (int i = FIRST_RARE; image_formats[i]; i++)
        if (!strcmp(format, image_formats[i]))
            return true;
    return false;
}

const char *image_detect(const char *path)
{
    unsigned char h[512], tail[512];
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        report("%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
        report("%s: not a regular file or block device", path);
        close(fd);
        return NULL;
    }
    n = pread(fd, h, sizeof h, 0);
    if (n < 0) {
        report("%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    memset(h + (n > 0 ? n : 0), 0, sizeof h - (n > 0 ? n : 0));
    /* a fixed-size VHD is raw data with a footer at the end */
    bool vhd_footer = S_ISREG(st.st_mode) && st.st_size >= 1024 &&
                      pread(fd, tail, sizeof tail, st.st_size - 512) == 512 &&
                      !memcmp(tail, "conectix", 8);
    close(fd);

    if (!memcmp(h, "QFI\xfb", 4))
        return h[7] >= 2 ? "qcow2" : "qcow";
    if (!memcmp(h, "KDMV", 4) || !memcmp(h, "# Disk DescriptorFile", 21))
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
    return "raw";
}
