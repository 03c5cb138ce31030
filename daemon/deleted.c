/* deleted.c: deleted files, as The Sleuth Kit finds them.
 *
 * The helper (appliance-builder/tsk.c, static, in the appliance) reads the
 * block device under a mounted filesystem; ferryd tells it which device
 * and which directory of that filesystem a path is. The path is resolved
 * in the served root like any other, and the directory it reaches names
 * its mount (mnt_id in fdinfo) and its place (the descriptor's link): no
 * name from the image is taken as a path of the appliance. The helper's
 * output is parsed here with every field and length bounded. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

/* The helper, in the initramfs (build-appliance.sh). */
#define TSK_HELPER "/usr/libexec/ferry/tsk"
/* One record's numbers, before its name. */
#define RECORD_HEAD 512

static int mount_id(int fd)
{
    char path[64], line[128];
    int id = -1;

    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "mnt_id: %d", &id) == 1)
            break;
    fclose(f);
    return id;
}

/* The device a directory's filesystem is on, and the directory's path from
 * that filesystem's root. mountinfo: ID PARENT MAJ:MIN ROOT POINT OPTS
 * [TAGS] - TYPE SOURCE SUPEROPTS */
static int locate(struct call *c, const char *path, char *dev, size_t devsz, char *rel,
                  size_t relsz, unsigned long long *ino)
{
    CLEANUP_CLOSE int fd = open_in_root(c, path, O_PATH | O_DIRECTORY, 0);
    char self[64], real[FERRY_MAX_PATH + 1];
    int id = fd >= 0 ? mount_id(fd) : -1;
    struct stat st;
    bool found = false;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        return call_fail_errno(c, errno, "%s", path);
    *ino = st.st_ino;
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(self, real, sizeof real - 1);
    if (id < 0 || n <= 0)
        return call_fail_errno(c, errno ? errno : EIO, "%s: where is it mounted", path);
    real[n] = '\0';
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char *line = NULL;
    size_t cap = 0;
    while (f && !found && getline(&line, &cap, f) > 0) {
        int mid;
        char root[FERRY_MAX_PATH + 1], point[FERRY_MAX_PATH + 1], source[FERRY_MAX_PATH + 1];
        const char *rest = strstr(line, " - ");
        if (sscanf(line, "%d %*d %*s %4096s %4096s", &mid, root, point) != 3 || mid != id ||
            !rest || sscanf(rest, " - %*s %4096s", source) != 1)
            continue;
        mount_unescape(root);
        mount_unescape(point);
        mount_unescape(source);
        size_t plen = strcmp(point, "/") ? strlen(point) : 0;
        if (strncmp(real, point, plen) || (real[plen] && real[plen] != '/'))
            continue;
        const char *below = real[plen] ? real + plen : "";
        found = snprintf(rel, relsz, "%s%s", strcmp(root, "/") ? root : "",
                         *below || strcmp(root, "/") ? below : "/") < (int) relsz &&
                snprintf(dev, devsz, "%s", source) < (int) devsz;
    }
    free(line);
    if (f)
        fclose(f);
    if (!found)
        return call_fail(c, ENOENT, "%s: its mount is not known", path);
    if (strncmp(dev, "/dev/", 5) != 0)
        return call_fail(c, ENOTSUP, "%s: on %s, not a disk the Sleuth Kit can read", path, dev);
    return 0;
}

static int need_tsk(struct call *c, const char *what)
{
    if (!d.appliance || access(TSK_HELPER, X_OK) != 0)
        return call_fail(c, ENOTSUP, "%s: only inside the appliance (the Sleuth Kit)", what);
    return 0;
}

/* One record of the helper's into e (its name points into rec). */
static bool parse(char *rec, ferry_deleted *e)
{
    char *tab = strchr(rec, '\t');
    unsigned long long inode, mode, uid, gid, size, nsec[4];
    long long sec[4];
    int known, ls = 0;

    if (!tab || tab - rec >= RECORD_HEAD || !tab[1] || strlen(tab + 1) > FERRY_MAX_PATH)
        return false;
    *tab = '\0';
    if (sscanf(rec, "%llu %d %llu %llu %llu %llu %lld %llu %lld %llu %lld %llu %lld %llu %n",
               &inode, &known, &mode, &uid, &gid, &size, &sec[0], &nsec[0], &sec[1], &nsec[1],
               &sec[2], &nsec[2], &sec[3], &nsec[3], &ls) != 14 ||
        !ls || strlen(rec + ls) > 15 || strchr(rec + ls, ' '))
        return false;
    memset(e, 0, sizeof *e);
    e->name = tab + 1;
    e->ls = rec + ls;
    e->inode = e->st.ino = inode;
    e->known = known == 1;
    e->st.mode = (unsigned) mode;
    e->st.uid = (unsigned) uid;
    e->st.gid = (unsigned) gid;
    e->st.size = size;
    ferry_time *t[] = { &e->st.atime, &e->st.mtime, &e->st.ctime, &e->st.btime };
    for (int i = 0; i < 4; i++) {
        t[i]->sec = sec[i];
        t[i]->nsec = nsec[i] < 1000000000 ? (unsigned) nsec[i] : 0;
    }
    e->st.has_btime = e->known && (sec[3] || nsec[3]);
    return true;
}

/* Read the helper's records from fd and send them as batches. */
static int relay(struct call *c, int fd)
{
    size_t cap = FERRY_MAX_PATH + RECORD_HEAD + 2, len = 0;
    char *buf = malloc(cap);
    struct batch b;
    int r = 0;

    if (!buf || batch_init(c, &b) < 0) {
        free(buf);
        return buf ? -1 : call_fail(c, ENOMEM, "out of memory");
    }
    for (;;) {
        char *end;
        while (r == 0 && (end = memchr(buf, '\0', len))) {
            ferry_deleted e;
            if (!parse(buf, &e)) {
                r = call_fail(c, EPROTO, "the Sleuth Kit's listing is malformed");
                break;
            }
            r = batch_add(c, &b, (xdrproc_t) xdr_ferry_deleted, &e, e.name);
            len -= end + 1 - buf;
            memmove(buf, end + 1, len);
        }
        if (r < 0)
            break;
        if (len == cap) { /* the helper keeps paths shorter: it broke */
            r = call_fail(c, EPROTO, "the Sleuth Kit's listing has a record too long");
            break;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                r = call_fail_errno(c, errno, "reading the Sleuth Kit's listing");
            else if (len)
                r = call_fail(c, EPROTO, "the Sleuth Kit's listing ends mid-record");
            break;
        }
        len += n;
    }
    if (r == 0)
        r = batch_flush(c, &b);
    batch_free(&b);
    free(buf);
    return r;
}

/* Start the helper with its output on a pipe; the read end, or -1. */
static int start(struct call *c, struct helper *h, char *const argv[])
{
    int p[2];

    if (pipe2(p, O_CLOEXEC) < 0)
        return call_fail_errno(c, errno, "pipe");
    int r = helper_start(c, h, argv, &(struct helper_io){ -1, p[1], -1, false });
    close(p[1]);
    if (r < 0) {
        close(p[0]);
        return -1;
    }
    return p[0];
}

/* Its end; a filesystem it does not read (exit 3) is ENOTSUP, so that a
 * client walking many filesystems can tell it from a damaged one. */
static int finish(struct call *c, struct helper *h)
{
    int r = helper_finish(c, h, "the Sleuth Kit");

    if (r < 0 && WIFEXITED(h->status) && WEXITSTATUS(h->status) == 3)
        c->err = ENOTSUP;
    return r;
}

int do_list_deleted(struct call *c, ferry_list_args *a, ferry_void *r)
{
    char dev[FERRY_MAX_PATH + 1], rel[FERRY_MAX_PATH + 1], inode[24];
    unsigned long long ino;
    struct helper h;

    (void) r;
    if (need_tsk(c, "deleted files") < 0 ||
        locate(c, a->path, dev, sizeof dev, rel, sizeof rel, &ino) < 0)
        return -1;
    snprintf(inode, sizeof inode, "%llu", ino);
    char *argv[] = { TSK_HELPER, "list", dev, rel, "--inode", inode, a->recursive ? "-r" : NULL,
                     NULL };
    int fd = start(c, &h, argv);
    if (fd < 0)
        return -1;
    busy_begin(c);
    int ret = relay(c, fd);
    busy_end(c);
    close(fd);
    if (ret < 0)
        helper_kill(&h);
    else
        ret = finish(c, &h);
    return ret < 0 ? call_prefix(c, a->path) : 0;
}

int do_recover(struct call *c, ferry_recover_args *a, ferry_transfer_ret *r)
{
    char dev[FERRY_MAX_PATH + 1], rel[FERRY_MAX_PATH + 1], inode[24], type[12], id[12];
    unsigned long long ino;
    struct helper h;

    if (need_tsk(c, "recover") < 0 ||
        locate(c, a->path, dev, sizeof dev, rel, sizeof rel, &ino) < 0)
        return -1;
    snprintf(inode, sizeof inode, "%llu", (unsigned long long) a->inode);
    snprintf(type, sizeof type, "%u", a->attr_type);
    snprintf(id, sizeof id, "%u", a->attr_id & 0xffff);
    char *argv[] = { TSK_HELPER, "cat", dev, inode, a->attr ? type : NULL, id, NULL };
    int fd = start(c, &h, argv);
    if (fd < 0)
        return -1;
    int ret = send_fd(c, fd, &(struct send_opts){ .progress = a->progress }, &r->size);
    close(fd);
    if (ret < 0)
        helper_kill(&h);
    else
        ret = finish(c, &h);
    if (ret < 0) {
        char what[48];
        snprintf(what, sizeof what, "inode %s", inode);
        return call_prefix(c, what);
    }
    return 0;
}
