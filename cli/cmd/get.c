/* get.c: cat and download: files out of the image, in constant memory.
 * A download is written beside its target and renamed when complete, so
 * a failed or interrupted one never leaves a file that looks complete. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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

int fetch(struct session *s, const char *remote, int fd, bool bar, bool zeros_for_bad)
{
    struct sink k;
    struct progress_bar p;
    ferry_download_args a = { .path = (char *) remote, .unreadable_as_zeros = zeros_for_bad };
    int ret;

    sink_init(&k, fd);
    struct xfer x = sink_xfer(&k, zeros_for_bad);
    progress_begin(&p);
    if (bar && p.on) {
        s->cl.progress = progress_hook;
        s->cl.progress_opaque = &p;
        a.progress = true;
    }
    ret = file_download(s, &a, &x);
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
               remote, (unsigned long long) b->length, (unsigned long long) b->offset);
        audit_unreadable(remote, b->offset, b->length);
    }
    if (ret == 0 && k.bad.n)
        ret = 1;
    bad_ranges_free(&k.bad);
    return ret;
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
    int fd;

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
