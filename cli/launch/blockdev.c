/* blockdev.c: how qemu is given the images: each file ferry opened goes in
 * as a descriptor (-add-fd, then /dev/fdset/N in -blockdev), so qemu needs
 * no path at all; the backing files and data files an image names (only
 * with --external) are spelt out the same way, so qemu never follows a
 * name it read from an image. A VMDK descriptor is the exception: qemu
 * opens its extents by path, relative to it, so it gets the descriptor by
 * path, and Landlock lets it open exactly those files. An E01 is served by
 * ferry (ewf.c): qemu gets a connected socket and reads it as NBD. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "launch/ewf.h"
#include "launch/launch.h"
#include "output/output.h"

/* A JSON string for qemu's -blockdev, quotes included. */
static void quote(char *out, size_t size, const char *s)
{
    size_t o = 0;

    out[o++] = '"';
    for (; *s && o + 8 < size; s++) {
        if (*s == '"' || *s == '\\')
            o += snprintf(out + o, size - o, "\\%c", *s);
        else if ((unsigned char) *s < 0x20)
            o += snprintf(out + o, size - o, "\\u%04x", *s);
        else
            out[o++] = *s;
    }
    out[o++] = '"';
    out[o] = '\0';
}

static bool has_backing(const char *format)
{
    return !strcmp(format, "qcow2") || !strcmp(format, "qcow") || !strcmp(format, "qed") ||
           !strcmp(format, "vmdk");
}

/* The protocol node of one file: a descriptor in an fdset of its own. */
static int file_node(char *out, size_t size, struct argv *a, struct fdmap *m, int fd, bool block,
                     bool rw)
{
    int set = m->n; /* one set per descriptor */

    m->from[m->n] = fd;
    m->to[m->n++] = FD_FIRST_IMAGE + set;
    arg(a, "-add-fd");
    arg(a, "fd=%d,set=%d", FD_FIRST_IMAGE + set, set);
    /* read-only images are opened without locks, so that many readers
     * (and a running VM) never make a read-only look fail */
    return snprintf(out, size,
                    "{\"driver\":\"%s\",\"filename\":\"/dev/fdset/%d\",\"locking\":\"%s\"}",
                    block ? "host_device" : "file", set, rw ? "auto" : "off");
}

/* An E01: a new connection to its server, which qemu reads as NBD. The
 * descriptor is closed here once qemu has it. */
static int nbd_node(char *out, size_t size, struct fdmap *m, struct ewf_server *srv)
{
    int fd = ewf_connect(srv);

    if (fd < 0)
        return -1;
    m->from[m->n] = fd;
    m->to[m->n] = FD_FIRST_IMAGE + m->n;
    m->close_after[m->nclose++] = fd;
    return snprintf(out, size, "{\"driver\":\"nbd\",\"server\":{\"type\":\"fd\",\"str\":\"%d\"}}",
                    m->to[m->n++]);
}

static int node(char *out, size_t size, struct argv *a, struct fdmap *m, struct confine *c,
                const struct image_file *f, bool rw, const char *name)
{
    char file[4096];
    int n;

    if (f->ewf) {
        if (nbd_node(file, sizeof file, m, f->ewf) < 0)
            return -1;
    } else if (f->nextents) {
        char q[2 * 4096];
        quote(q, sizeof q, f->path);
        snprintf(file, sizeof file, "{\"driver\":\"file\",\"filename\":%s,\"locking\":\"%s\"}", q,
                 rw ? "auto" : "off");
        confine_allow(c, f->path, CONFINE_READ | (rw ? CONFINE_WRITE : 0));
        for (int i = 0; i < f->nextents; i++)
            confine_allow(c, f->extents[i], CONFINE_READ | (rw ? CONFINE_WRITE : 0));
    } else {
        file_node(file, sizeof file, a, m, f->fd, f->block, rw);
    }
    n = snprintf(out, size, "{%s%s%s\"driver\":\"%s\",\"read-only\":%s,\"file\":%s",
                 name ? "\"node-name\":\"" : "", name ? name : "", name ? "\"," : "",
                 f->ewf ? "raw" : f->format, rw ? "false" : "true", file);
    if (f->data) {
        file_node(file, sizeof file, a, m, f->data->fd, f->data->block, rw);
        n += snprintf(out + n, size - n, ",\"data-file\":%s", file);
    }
    if (f->backing) {
        n += snprintf(out + n, size - n, ",\"backing\":");
        int b = node(out + n, size - n, a, m, c, f->backing, false, NULL); /* read, never written */
        if (b < 0)
            return -1;
        n += b;
    } else if (has_backing(f->format)) {
        n += snprintf(out + n, size - n, ",\"backing\":null");
    }
    return n + snprintf(out + n, size - n, "}");
}

void blockdev_empty(struct argv *a, struct fdmap *map, int fd, int index)
{
    char file[256];

    file_node(file, sizeof file, a, map, fd, true, false); /* a character device */
    arg(a, "-blockdev");
    arg(a, "{\"node-name\":\"disk%d\",\"driver\":\"raw\",\"read-only\":true,\"file\":%s}", index,
        file);
}

int blockdev_args(struct argv *a, struct fdmap *map, struct confine *c, const struct image_file *f,
                  int index, bool rw)
{
    static char json[64 * 1024];
    char name[16];

    snprintf(name, sizeof name, "disk%d", index);
    if (node(json, sizeof json, a, map, c, f, rw, name) < 0) {
        report("%s: its reader does not answer: %s", f->path, strerror(errno));
        return -1;
    }
    arg(a, "-blockdev");
    arg(a, "%s", json);
    return 0;
}
