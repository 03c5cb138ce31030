/* names.c: names for numbers that cross the wire: procedures and errnos. */
#include <errno.h>
#include <string.h>

#include "protocol.h"

#define NAME(num, name, A, R, dir) [num] = #name,
static const char *const proc_names[] = { FERRY_PROCS(NAME) };

const char *ferry_proc_name(uint32_t proc)
{
    if (proc >= sizeof proc_names / sizeof proc_names[0])
        return NULL;
    return proc_names[proc];
}

/* The errnos a filesystem operation can meet. An error reply carries the
 * name so that a peer on another OS could map it; ferry's own peers are
 * both Linux and use the number. */
// clang-format off
#define ERRNOS(E)                                                                   \
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC)        \
    E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(ENOTBLK) E(EBUSY)  \
    E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) \
    E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE)   \
    E(ERANGE) E(ENAMETOOLONG) E(ENOLCK) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENODATA)  \
    E(EOVERFLOW) E(EILSEQ) E(ENOTSUP) E(ECANCELED) E(EPROTO) E(EBADMSG) E(EMSGSIZE) \
    E(ETIMEDOUT) E(ECONNRESET) E(EDQUOT) E(EUCLEAN) E(ESTALE) E(ENOMEDIUM)          \
    E(EMEDIUMTYPE) E(ENOKEY) E(EKEYREJECTED)
// clang-format on

static const struct {
    int num;
    const char *name;
} errnos[] = {
#define ENTRY(e) { e, #e },
    ERRNOS(ENTRY)
};

const char *errno_name(int err)
{
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (errnos[i].num == err)
            return errnos[i].name;
    return "EIO";
}

int errno_from_name(const char *name, int fallback)
{
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (strcmp(errnos[i].name, name) == 0)
            return errnos[i].num;
    return fallback;
}
