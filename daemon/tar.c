/* tar.c: tar archives unpacked into a directory by GNU tar (tar-in; the
 * host writes tar-out's archives itself from read_tree).
 *
 * tar runs confined (run.c): chrooted into the served root, started in the
 * directory. Extracting, it follows symlinks that already exist in the
 * image for a member's parents; confined, those lead to the image, never
 * to the appliance or another disk. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "daemon.h"

int do_tar_in(struct call *c, ferry_tar_args *a, ferry_void *r)
{
    (void) r;
    char *argv[] = { (char *) d.tar, "--numeric-owner", "-xf", "-", NULL };
    struct helper h;
    int p[2], ret;
    uint64_t n;
    CLEANUP_CLOSE int dir = open_in_root(c, a->path, O_PATH | O_DIRECTORY, 0);

    if (dir < 0)
        return -1;
    if (pipe2(p, O_CLOEXEC) < 0)
        return call_fail_errno(c, errno, "pipe");
    ret = helper_start(c, &h, argv, &(struct helper_io){ p[0], -1, dir, true });
    close(p[0]);
    if (ret == 0) {
        ret = recv_fd(c, p[1], false, &n);
        close(p[1]);
        p[1] = -1;
        /* tar's own complaint explains an EPIPE better than EPIPE does */
        if (ret < 0 && c->err != EPIPE)
            helper_kill(&h);
        else if (helper_finish(c, &h, "tar") < 0)
            ret = call_prefix(c, a->path);
    }
    if (p[1] >= 0)
        close(p[1]);
    return ret;
}
