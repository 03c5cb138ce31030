/* tar.c: tar-out and tar-in: whole directories as tar archives. The
 * archive is made and unpacked by GNU tar inside the appliance; here it is
 * only carried. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transfer.h"

static int tar_sink_data(void *opaque, const void *buf, size_t len)
{
    if (ferry_interrupted) {
        errno = EINTR;
        return -1;
    }
    return compressor_write(opaque, buf, len);
}

static int tar_sink_hole(void *opaque, uint64_t len)
{
    (void) opaque;
    (void) len;
    errno = EBADMSG;   /* tar's output is a stream: it has no holes */
    return -1;
}

int cmd_tar_out(struct session *s, int argc, char **argv)
{
    static const struct option opts[] = { { "compress", required_argument, 0, 'z' }, { 0, 0, 0, 0 } };
    static struct compressor z;
    const char *out, *kind = NULL;
    char *tmp = NULL;
    int fd = 1, r, c;
    ferry_tar_args a;
    ferry_void v;
    struct xfer x = { .data = tar_sink_data, .hole = tar_sink_hole, .opaque = &z };
    struct progress_bar bar;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'z')
            return EXIT_USAGE;
        kind = optarg;
    }
    argc -= optind - 1;
    argv += optind - 1;
    if (argc < 2 || argc > 3)
        die(EXIT_USAGE, "usage: ferry tar-out REMOTEDIR [FILE|-] [--compress zstd|gzip|xz]");
    a.path = argv[1];
    out = argc > 2 ? argv[2] : "-";
    if (!kind)
        kind = compression_for(out);   /* from .tar.zst, .tgz, .tar.xz... */
    if (strcmp(out, "-") != 0 && (fd = open_aside(out, &tmp)) < 0)
        return EXIT_FAILED;
    if (compressor_init(&z, kind, fd) < 0)
        die(EXIT_USAGE, "tar-out: --compress takes zstd, gzip or xz");
    progress_begin(s, &bar);
    r = rpc_tar_out(&s->cl, &a, &v, &x);
    progress_end(s, &bar);
    if (r == 0 && compressor_finish(&z) < 0) {
        warnx_("tar-out: %s: %s", out, strerror(errno));
        r = -1;
    }
    compressor_free(&z);
    if (r == 0 && tmp && (fchmod(fd, 0644 & ~current_umask()) < 0 || close(fd) < 0 ||
                          rename(tmp, out) < 0)) {
        warnx_("tar-out: %s: %s", out, strerror(errno));
        r = -1;
    }
    if (tmp) {
        if (r == 0)
            cleanup_keep();
        else
            cleanup_done();
        free(tmp);
    }
    if (r < 0 && s->cl.err == EPIPE && !s->cl.remote)
        return EXIT_PIPE;
    if (r < 0 && (s->cl.remote || s->cl.broken))
        return call_failed(s);
    if (r < 0)
        warnx_("tar-out: %s", s->cl.msg);
    return r < 0 ? EXIT_FAILED : EXIT_OK;
}

int cmd_tar_in(struct session *s, int argc, char **argv)
{
    struct source src;
    ferry_tar_args a;
    ferry_void v;
    struct xfer x = { .read = source_read, .opaque = &src };
    struct progress_bar bar;
    int fd = 0, r;

    if (argc != 3)
        die(EXIT_USAGE, "usage: ferry tar-in FILE|- REMOTEDIR");
    if (strcmp(argv[1], "-") != 0 && (fd = open(argv[1], O_RDONLY | O_CLOEXEC)) < 0) {
        warnx_("tar-in: %s: %s", argv[1], strerror(errno));
        return EXIT_FAILED;
    }
    source_init(&src, fd);
    src.seekable = false;   /* holes in an archive file are plain zeros to tar */
    x.total = src.size;
    a.path = argv[2];
    progress_begin(s, &bar);
    r = rpc_tar_in(&s->cl, &a, &v, &x);
    progress_end(s, &bar);
    if (fd != 0)
        close(fd);
    if (r < 0 && (s->cl.remote || s->cl.broken))
        return call_failed(s);
    if (r < 0)
        warnx_("tar-in: %s: %s", argv[1], s->cl.msg);
    return r < 0 ? EXIT_FAILED : EXIT_OK;
}
