/* tar.c: tar-out and tar-in: whole directories as tar archives. The
 * archive is made and unpacked by GNU tar inside the appliance; here it is
 * carried, and compressed on the host (many times faster than the
 * emulated guest). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "io/transfer.h"
#include "output/output.h"

int cmd_tar_out(struct session *s, struct args *a)
{
    static struct compressor z;
    const char *out = a->argc > 1 ? a->argv[1] : "-";
    const char *kind = opt_val(a, "compress");
    char *tmp = NULL;
    int fd = 1, r;
    ferry_tar_args args = { .path = a->argv[0] };
    ferry_void v;
    struct progress_bar bar;

    if (!kind)
        kind = compression_for(out); /* from .tar.zst, .tgz, .tar.xz... */
    if (strcmp(out, "-") && (fd = open_aside(out, &tmp)) < 0)
        return EXIT_FAILED;
    if (compressor_init(&z, kind, fd) < 0) {
        report("tar-out: %s: cannot start the compressor", kind);
        if (tmp)
            finish_aside(out, tmp, fd, false);
        return EXIT_FAILED;
    }
    struct xfer x = compressor_xfer(&z);
    progress_begin(&bar);
    s->cl.progress = progress_hook;
    s->cl.progress_opaque = &bar;
    r = rpc_tar_out(&s->cl, &args, &v, &x);
    s->cl.progress = NULL;
    progress_end(&bar);
    int status = EXIT_OK;
    if (r < 0 && !s->cl.remote && !s->cl.broken && s->cl.err == EPIPE) {
        status = EXIT_PIPE; /* the reader went away: no message */
    } else if (r < 0 && !s->cl.remote && !s->cl.broken) {
        report("tar-out: %s", s->cl.msg); /* our side: the output file, say */
        status = EXIT_FAILED;
    } else if (r < 0) {
        status = call_failed(s);
    } else if (compressor_finish(&z) < 0) {
        report("tar-out: %s: %s", out, strerror(errno));
        status = EXIT_FAILED;
    }
    compressor_free(&z);
    if (tmp && finish_aside(out, tmp, fd, status == EXIT_OK) < 0)
        status = EXIT_FAILED;
    return status;
}

int cmd_tar_in(struct session *s, struct args *a)
{
    int fd = open_local("tar-in", a->argv[0]);

    if (fd < 0)
        return EXIT_FAILED;
    /* holes in an archive file are plain zeros to tar */
    int r = send_local(s, fd, false, true, a->argv[1], 0);
    if (fd != 0)
        close(fd);
    if (r == 0)
        return EXIT_OK;
    if (s->cl.remote || s->cl.broken)
        return call_failed(s);
    report("tar-in: %s: %s", a->argv[0], s->cl.msg);
    return EXIT_FAILED;
}
