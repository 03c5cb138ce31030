/* dir.c: where sessions' sockets live, and reaching one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "launch/session.h"
#include "output/output.h"
#include "share/share.h"

void share_magic(char magic[SHARE_MAGIC_SIZE])
{
    memset(magic, 0, SHARE_MAGIC_SIZE);
    snprintf(magic, SHARE_MAGIC_SIZE, "ferry-session %s/%u", FERRY_VERSION, FERRY_PROTOCOL_VERSION);
}

bool share_magic_ok(const char magic[SHARE_MAGIC_SIZE])
{
    char mine[SHARE_MAGIC_SIZE];
    share_magic(mine);
    return !memcmp(mine, magic, SHARE_MAGIC_SIZE);
}

/* A directory only we may enter: made with mode 0700, or found so. Another
 * user's, a symlink, or one others may enter is refused, not repaired: in
 * /tmp, anyone may have made it first. */
static int private_dir(const char *path)
{
    struct stat st;

    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        report("%s: %s", path, strerror(errno));
        return -1;
    }
    if (lstat(path, &st) < 0) {
        report("%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        report("%s: not a directory of yours that only you may enter; refusing to put a "
               "session's socket there",
               path);
        return -1;
    }
    return 0;
}

int share_dir(char *path, size_t size)
{
    const char *run = getenv("XDG_RUNTIME_DIR");
    struct stat st;

    /* the runtime directory is the user's alone, and goes at logout */
    if (run && run[0] == '/' && stat(run, &st) == 0 && S_ISDIR(st.st_mode) &&
        st.st_uid == geteuid() && !(st.st_mode & 077))
        snprintf(path, size, "%s/ferry", run);
    else
        snprintf(path, size, "/tmp/ferry-%u", (unsigned) geteuid());
    return private_dir(path);
}

/* The socket's directory went with the session's last socket. */
static void remove_leftover(const char *path)
{
    char dir[sizeof(((struct sockaddr_un *) 0)->sun_path)];

    unlink(path);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        rmdir(dir); /* only when empty */
    }
}

int share_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct ucred cred;
    socklen_t len = sizeof cred;
    int fd;

    if (strlen(path) >= sizeof sa.sun_path) {
        report("FERRY_SESSION=%s: too long for a socket's name", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0) {
        report("socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
        int err = errno;
        close(fd);
        if (err == ENOENT)
            report("the session FERRY_SESSION=%s is over (stopped, or ended when it was idle "
                   "too long); unset FERRY_SESSION or start another",
                   path);
        else if (err == ECONNREFUSED) {
            report("the session FERRY_SESSION=%s is dead (its ferry was killed); its socket is "
                   "removed",
                   path);
            remove_leftover(path);
        } else
            report("FERRY_SESSION=%s: %s", path, strerror(err));
        return -1;
    }
    /* a socket someone else listens on is not our session, whatever its
     * name says */
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != geteuid()) {
        close(fd);
        report("FERRY_SESSION=%s: the process there is not yours; refusing it", path);
        return -1;
    }
    return fd;
}

/* The listening socket, under an unguessable name in the private
 * directory, its name in path (sizeof sun_path). The socket, or -1
 * reported. */
int share_listen(char *path, size_t size)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char dir[sizeof sa.sun_path];
    unsigned char r[8];

    if (share_dir(dir, sizeof dir) < 0)
        return -1;
    if (getrandom(r, sizeof r, 0) != sizeof r)
        return report("getrandom: %s", strerror(errno)), -1;
    int n = snprintf(path, size, "%s/session-%02x%02x%02x%02x%02x%02x%02x%02x", dir, r[0], r[1],
                     r[2], r[3], r[4], r[5], r[6], r[7]);
    if (n < 0 || (size_t) n >= sizeof sa.sun_path || (size_t) n >= size)
        return report("%s: too long a name for a socket", dir), -1;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
        report("%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        path[0] = '\0';
        return -1;
    }
    return fd;
}
