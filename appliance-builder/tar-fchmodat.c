/* tar-fchmodat.c: linked into the appliance's static tar (build-tar.sh).
 *
 * Kernels before 6.6 cannot change the mode of a path without following
 * a final symlink, so libcs do it through /proc/self/fd, which does not
 * exist where ferryd runs tar: chrooted into the image. There, following
 * a link cannot leave the image, so this does what the call means with
 * the calls that need no /proc: a symlink keeps its mode (links have none
 * on Linux), anything else has its mode changed. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
    struct stat st;

    if (flags & ~AT_SYMLINK_NOFOLLOW) {
        errno = EINVAL;
        return -1;
    }
    if (flags) {
        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return -1;
        if (S_ISLNK(st.st_mode)) {
            errno = EOPNOTSUPP;
            return -1;
        }
    }
    return syscall(SYS_fchmodat, dirfd, path, mode);
}
