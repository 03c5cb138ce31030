/* put.c: upload: a local file (or stdin) into the image. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "io/transfer.h"
#include "output/output.h"

/* Send fd (its data extents and holes, when keep_holes) with procedure
 * upload or tar_in; the progress bar on a terminal. */
int send_local(struct session *s, int fd, bool keep_holes, bool tar, const char *remote,
               unsigned mode)
{
    struct source src;
    struct progress_bar p;
    ferry_void v;
    ferry_transfer_ret r;
    int ret;

    source_init(&src, fd, keep_holes);
    struct xfer x = source_xfer(&src);
    progress_begin(&p);
    s->cl.progress = progress_hook;
    s->cl.progress_opaque = &p;
    if (tar) {
        ferry_tar_args a = { .path = (char *) remote };
        ret = rpc_tar_in(&s->cl, &a, &v, &x);
    } else {
        ferry_upload_args a = { .path = (char *) remote, .mode = mode };
        ret = rpc_upload(&s->cl, &a, &r, &x);
    }
    s->cl.progress = NULL;
    progress_end(&p);
    return ret;
}

/* Open LOCAL, or stdin for "-". */
int open_local(const char *what, const char *path)
{
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;

    if (fd < 0)
        report("%s: %s: %s", what, path, strerror(errno));
    return fd;
}

int cmd_upload(struct session *s, struct args *a)
{
    const char *local = a->argv[0];
    struct stat st;
    int fd = open_local("upload", local);

    if (fd < 0)
        return EXIT_FAILED;
    mode_t um = umask(022);
    umask(um);
    unsigned mode = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_mode & 07777 : 0666 & ~um;
    int r = send_local(s, fd, true, false, a->argv[1], mode);
    if (fd != 0)
        close(fd);
    if (r == 0)
        return EXIT_OK;
    if (s->cl.remote || s->cl.broken)
        return call_failed(s);
    report("upload: %s: %s", local, s->cl.msg);
    return EXIT_FAILED;
}
