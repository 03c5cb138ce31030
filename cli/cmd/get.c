/* get.c: cat, download and recover: files out of the image, in constant
 * memory (recover: what the Sleuth Kit can read of a deleted file).
 * A download is written beside its target and renamed when complete, so
 * a failed or interrupted one never leaves a file that looks complete. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "cmd/cmd.h"
#include "guest/guest.h"
#include "io/transfer.h"
#include "output/output.h"
#include "signals.h"

/* The call that moves the bytes: a download of a path, or a recovery of
 * an inode (see fetch and cmd_recover). */
struct source_call {
    const char *what; /* names it in messages */
    ferry_download_args *download;
    ferry_recover_args *recover;
};

static int receive(struct session *s, const struct source_call *c, int fd, bool bar,
                   bool zeros_for_bad)
{
    struct sink k;
    struct progress_bar p;
    int ret;

    sink_init(&k, fd);
    struct xfer x = sink_xfer(&k, zeros_for_bad);
    progress_begin(&p);
    if (bar && p.on) {
        s->cl.progress = progress_hook;
        s->cl.progress_opaque = &p;
        if (c->download)
            c->download->progress = true;
        else
            c->recover->progress = true;
    }
    if (c->download) {
        ret = file_download(s, c->download, &x);
    } else {
        CLEANUP_XDR(ferry_transfer_ret) r = { 0 };
        ret = rpc_recover(&s->cl, c->recover, &r, &x);
    }
    s->cl.progress = NULL;
    progress_end(&p);
    if (ret == 0 && sink_finish(&k) < 0) {
        report("%s: %s", s->command, strerror(errno));
        ret = -1;
    } else if (ret < 0 && s->cl.err == EPIPE && !s->cl.remote) {
        ret = -2; /* the reader went away: not worth a message */
    } else if (ret < 0) {
        call_failed(s);
    }
    for (size_t i = 0; ret == 0 && i < k.bad.n; i++) {
        const struct bad_range *b = &k.bad.v[i];
        report("%s: %s: unreadable: %llu bytes at offset %llu, written as zeros", s->command,
               c->what, (unsigned long long) b->length, (unsigned long long) b->offset);
        audit_unreadable(c->what, b->offset, b->length);
    }
    if (ret == 0 && k.bad.n)
        ret = 1;
    bad_ranges_free(&k.bad);
    return ret;
}

int fetch(struct session *s, const char *remote, int fd, bool bar, bool zeros_for_bad)
{
    ferry_download_args a = { .path = (char *) remote, .unreadable_as_zeros = zeros_for_bad };

    return receive(s, &(struct source_call){ remote, &a, NULL }, fd, bar, zeros_for_bad);
}

static int status_of(int r)
{
    return r == -2 ? EXIT_PIPE : r < 0 ? EXIT_FAILED : r > 0 ? EXIT_INCOMPLETE : EXIT_OK;
}

/* The worse of two statuses: a failure outweighs an incomplete copy. */
static int worse(int a, int b)
{
    if (a == EXIT_PIPE || b == EXIT_PIPE)
        return EXIT_PIPE;
    if (a == EXIT_FAILED || b == EXIT_FAILED)
        return EXIT_FAILED;
    return a > b ? a : b;
}

int cmd_cat(struct session *s, struct args *a)
{
    int status = EXIT_OK;

    for (int i = 0; i < a->argc && status != EXIT_PIPE && !s->cl.broken; i++)
        status =
            worse(status, status_of(fetch(s, a->argv[i], 1, false, opt_on(a, "zero-unreadable"))));
    return status;
}

int open_aside(const char *path, char **tmp)
{
    size_t n = strlen(path) + 32;
    struct stat st;
    int fd;

    *tmp = NULL;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        /* /dev/null, a fifo, a terminal: written as it is, never replaced
         * (unless it became a regular file meanwhile) */
        if ((fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)) < 0)
            report("%s: %s", path, strerror(errno));
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
            return fd;
        close(fd);
    }
    if (!(*tmp = malloc(n)))
        return report("out of memory"), -1;
    snprintf(*tmp, n, "%s.ferry-partial-XXXXXX", path);
    fd = mkostemp(*tmp, O_CLOEXEC);
    if (fd < 0) {
        report("%s: %s", path, strerror(errno));
        free(*tmp);
        *tmp = NULL;
        return -1;
    }
    partial_file(*tmp);
    return fd;
}

static mode_t current_umask(void)
{
    mode_t m = umask(022);
    umask(m);
    return m;
}

int finish_aside(const char *path, char *tmp, int fd, bool keep)
{
    int r = 0;

    if (!tmp) { /* not a regular file: nothing to rename or remove */
        if (close(fd) < 0 && keep) {
            report("%s: %s", path, strerror(errno));
            r = -1;
        }
        return r;
    }
    if (keep &&
        (fchmod(fd, 0644 & ~current_umask()) < 0 || close(fd) < 0 || rename(tmp, path) < 0)) {
        report("%s: %s", path, strerror(errno));
        r = -1;
    } else if (!keep) {
        close(fd);
    }
    if (!keep || r < 0)
        unlink(tmp);
    partial_file(NULL);
    free(tmp);
    return r;
}

int cmd_download(struct session *s, struct args *a)
{
    const char *remote = a->argv[0];
    char *copy = strdup(remote), *tmp, *target = NULL;
    const char *local;
    struct stat st;
    int fd, r;

    if (!copy)
        return report("out of memory"), EXIT_FAILED;
    local = a->argc == 2 ? a->argv[1] : basename(copy);
    if (!strcmp(local, "-")) {
        r = fetch(s, remote, 1, true, opt_on(a, "zero-unreadable"));
        free(copy);
        return status_of(r);
    }
    if (stat(local, &st) == 0 && S_ISDIR(st.st_mode)) {
        target = join_path(local, basename(copy));
        local = target;
    }
    fd = local ? open_aside(local, &tmp) : -1;
    if (fd < 0) {
        free(target);
        free(copy);
        return EXIT_FAILED;
    }
    r = fetch(s, remote, fd, true, opt_on(a, "zero-unreadable"));
    if (finish_aside(local, tmp, fd, r >= 0) < 0)
        r = -1;
    free(target);
    free(copy);
    return status_of(r == -2 ? -1 : r);
}

/* An inode as the Sleuth Kit names it: N, or NTFS's N-TYPE-ID (one
 * attribute of it: 128 is $DATA, the id tells its streams apart). */
static bool inode_number(const char *text, ferry_recover_args *a)
{
    char *end;

    errno = 0;
    a->inode = strtoull(text, &end, 10);
    if (end == text || errno || text[0] == '-')
        return false;
    if (*end == '-') {
        unsigned long type, id;
        int n = 0;
        if (sscanf(end, "-%lu-%lu%n", &type, &id, &n) != 2 || end[n] || type > UINT32_MAX ||
            id > 0xffff)
            return false;
        a->attr = true;
        a->attr_type = type;
        a->attr_id = id;
        return true;
    }
    return *end == '\0';
}

int cmd_recover(struct session *s, struct args *a)
{
    const char *fs = opt_val(a, "fs");
    char name[48], *tmp;
    ferry_recover_args args = { .path = (char *) (fs ? fs : "/") };
    int fd, r;

    if (!inode_number(a->argv[0], &args)) {
        report("recover: %s: not an inode number (e.g. 12, or NTFS's 64-128-2)", a->argv[0]);
        return EXIT_USAGE;
    }
    snprintf(name, sizeof name, "recovered-%llu", (unsigned long long) args.inode);
    struct source_call c = { name, NULL, &args };
    const char *local = a->argc == 2 ? a->argv[1] : name;
    if (!strcmp(local, "-"))
        return status_of(receive(s, &c, 1, true, false));
    if ((fd = open_aside(local, &tmp)) < 0)
        return EXIT_FAILED;
    r = receive(s, &c, fd, true, false);
    if (finish_aside(local, tmp, fd, r >= 0) < 0)
        r = -1;
    return status_of(r == -2 ? -1 : r);
}
