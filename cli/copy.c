/* copy.c: copy-out and copy-in: trees between the image and the host.
 *
 * copy-out never writes outside the target directory, whatever the image
 * holds: it lists one remote directory at a time and creates each entry
 * through a descriptor of the local directory it belongs in, by a single
 * name checked to be one (no "/", not "." or ".."), never following a
 * symlink (O_NOFOLLOW, O_EXCL, *at calls). Symlinks are made as symlinks
 * and never followed; hard links become separate files; device nodes,
 * fifos and sockets are skipped with a warning; setuid, setgid and sticky
 * bits are dropped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transfer.h"

/* ---- out ---- */

/* One name, as a directory entry must be. */
static bool safe_name(const char *name)
{
    return name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

struct copy {
    struct session *s;
    int errors;
};

static void copy_warn(struct copy *cp, const char *path, const char *why)
{
    fprintf(stderr, "ferry: %s: ", cp->s->command);
    put_name(stderr, path, true);
    fprintf(stderr, ": %s\n", why);
    cp->errors++;
}

static void set_times(int fd, const char *name, const struct ferry_stat *st, int flags)
{
    struct timespec ts[2] = { { st->atime.sec, st->atime.nsec }, { st->mtime.sec, st->mtime.nsec } };
    utimensat(fd, name, ts, flags);
}

/* Download remote into a new file `name` in dirfd. */
static int out_file(struct copy *cp, const char *remote, int dirfd, const char *name,
                    const struct ferry_stat *st)
{
    struct sink k;
    struct xfer x;
    ferry_download_args a = { .path = (char *) remote };
    ferry_transfer_ret r;
    int fd;

    /* an old entry is replaced, never written through */
    unlinkat(dirfd, name, 0);
    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        copy_warn(cp, remote, strerror(errno));
        return -1;
    }
    sink_init(&k, fd);
    x = (struct xfer){ .data = sink_write, .hole = sink_skip, .opaque = &k };
    if (rpc_download(&cp->s->cl, &a, &r, &x) < 0 || sink_finish(&k) < 0) {
        close(fd);
        unlinkat(dirfd, name, 0);
        if (cp->s->cl.broken)
            ferry_exit(call_failed(cp->s));
        copy_warn(cp, remote, cp->s->cl.msg);
        return -1;
    }
    fchmod(fd, st->mode & 0777);
    set_times(fd, "", st, AT_EMPTY_PATH);
    close(fd);
    return 0;
}

static int out_dir(struct copy *cp, const char *remote, int dirfd);

/* Copy one remote entry (remote path, stat) to `name` in dirfd. */
static int out_entry(struct copy *cp, const char *remote, const struct ferry_stat *st,
                     const char *link, int dirfd, const char *name)
{
    if (!safe_name(name)) {
        copy_warn(cp, remote, "refusing a name that is not one path component");
        return -1;
    }
    if (S_ISREG(st->mode))
        return out_file(cp, remote, dirfd, name, st);
    if (S_ISLNK(st->mode)) {
        unlinkat(dirfd, name, 0);
        if (symlinkat(link, dirfd, name) < 0) {
            copy_warn(cp, remote, strerror(errno));
            return -1;
        }
        set_times(dirfd, name, st, AT_SYMLINK_NOFOLLOW);
        return 0;
    }
    if (S_ISDIR(st->mode)) {
        if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST) {
            copy_warn(cp, remote, strerror(errno));
            return -1;
        }
        int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            copy_warn(cp, remote, errno == ENOTDIR || errno == ELOOP
                                      ? "a non-directory is in the way" : strerror(errno));
            return -1;
        }
        int r = out_dir(cp, remote, sub);
        fchmod(sub, st->mode & 0777);
        set_times(sub, "", st, AT_EMPTY_PATH);
        close(sub);
        return r;
    }
    copy_warn(cp, remote, "skipped: not a file, directory or symlink");
    return -1;
}

static int out_dir(struct copy *cp, const char *remote, int dirfd)
{
    struct entries e;
    int r = 0;

    if (list_dir(cp->s, remote, &e) < 0) {
        if (cp->s->cl.broken)
            ferry_exit(call_failed(cp->s));
        copy_warn(cp, remote, cp->s->cl.msg);
        return -1;
    }
    for (size_t i = 0; i < e.n; i++) {
        char *child = join_path(remote, e.v[i].name);
        if (out_entry(cp, child, &e.v[i].st, e.v[i].link, dirfd, e.v[i].name) < 0)
            r = -1;
        free(child);
    }
    free_entries(&e);
    return r;
}

int cmd_copy_out(struct session *s, int argc, char **argv)
{
    struct copy cp = { .s = s };
    const char *localdir;
    int dirfd;

    if (argc < 3)
        die(EXIT_USAGE, "usage: ferry copy-out REMOTE... LOCALDIR");
    localdir = argv[argc - 1];
    dirfd = open(localdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        warnx_("copy-out: %s: %s", localdir, strerror(errno));
        return EXIT_FAILED;
    }
    for (int i = 1; i < argc - 1; i++) {
        const char *remote = argv[i];
        ferry_path_args a = { .path = (char *) remote };
        CLEANUP_XDR(ferry_stat_ret) st = { 0 };
        CLEANUP_XDR(ferry_readlink_ret) rl = { 0 };
        char *copy = xstrdup(remote);
        const char *name = strcmp(remote, "/") ? basename(copy) : NULL;

        if (rpc_lstat(&s->cl, &a, &st, NULL) < 0) {
            call_failed(s);
            cp.errors++;
        } else if (!name && S_ISDIR(st.st.mode)) {
            /* copy-out / DIR: the contents of the root go into DIR */
            if (out_dir(&cp, "/", dirfd) < 0)
                cp.errors++;
        } else if (S_ISLNK(st.st.mode) && rpc_readlink(&s->cl, &a, &rl, NULL) < 0) {
            call_failed(s);
            cp.errors++;
        } else {
            out_entry(&cp, remote, &st.st, rl.target ? rl.target : "", dirfd, name);
        }
        free(copy);
    }
    close(dirfd);
    return cp.errors ? EXIT_FAILED : EXIT_OK;
}

/* ---- in ---- */

static int in_path(struct copy *cp, const char *local, const char *remote);

static int in_dir(struct copy *cp, const char *local, const char *remote)
{
    DIR *dir = opendir(local);
    struct dirent *de;
    int r = 0;

    if (!dir) {
        copy_warn(cp, local, strerror(errno));
        return -1;
    }
    while ((de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        size_t nl = strlen(local) + strlen(de->d_name) + 2;
        char *l = xmalloc(nl), *rm = join_path(remote, de->d_name);
        snprintf(l, nl, "%s/%s", local, de->d_name);
        if (in_path(cp, l, rm) < 0)
            r = -1;
        free(l);
        free(rm);
    }
    closedir(dir);
    return r;
}

/* After an entry is in place: its times, from the local one. */
static void in_times(struct copy *cp, const char *remote, const struct stat *st, bool nofollow)
{
    ferry_touch_args t = {
        .path = (char *) remote,
        .atime = { st->st_atim.tv_sec, st->st_atim.tv_nsec },
        .mtime = { st->st_mtim.tv_sec, st->st_mtim.tv_nsec },
        .nofollow = nofollow,
    };
    ferry_void v;
    if (rpc_touch(&cp->s->cl, &t, &v, NULL) < 0)
        copy_warn(cp, remote, cp->s->cl.msg);
}

static int in_path(struct copy *cp, const char *local, const char *remote)
{
    struct stat st;
    ferry_void v;

    if (lstat(local, &st) < 0) {
        copy_warn(cp, local, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        ferry_mkdir_args m = { .path = (char *) remote, .mode = st.st_mode & 07777, .parents = true };
        if (rpc_mkdir(&cp->s->cl, &m, &v, NULL) < 0) {
            copy_warn(cp, remote, cp->s->cl.msg);
            return -1;
        }
        int r = in_dir(cp, local, remote);
        in_times(cp, remote, &st, false);
        return r;
    }
    if (S_ISLNK(st.st_mode)) {
        char target[FERRY_MAX_PATH + 1];
        ssize_t n = readlink(local, target, sizeof target - 1);
        if (n < 0) {
            copy_warn(cp, local, strerror(errno));
            return -1;
        }
        target[n] = '\0';
        ferry_rm_args rm = { .path = (char *) remote, .force = true };
        ferry_symlink_args a = { .target = target, .path = (char *) remote };
        rpc_rm(&cp->s->cl, &rm, &v, NULL);
        if (rpc_symlink(&cp->s->cl, &a, &v, NULL) < 0) {
            copy_warn(cp, remote, cp->s->cl.msg);
            return -1;
        }
        in_times(cp, remote, &st, true);
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        copy_warn(cp, local, "skipped: not a file, directory or symlink");
        return -1;
    }
    int fd = open(local, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        copy_warn(cp, local, strerror(errno));
        return -1;
    }
    struct source src;
    struct xfer x = { .read = source_read, .opaque = &src };
    ferry_upload_args a = { .path = (char *) remote, .mode = st.st_mode & 07777 };
    ferry_transfer_ret r;
    source_init(&src, fd);
    int ret = rpc_upload(&cp->s->cl, &a, &r, &x);
    close(fd);
    if (ret < 0) {
        if (cp->s->cl.broken)
            ferry_exit(call_failed(cp->s));
        copy_warn(cp, cp->s->cl.remote ? remote : local, cp->s->cl.msg);
        return -1;
    }
    in_times(cp, remote, &st, false);
    return 0;
}

int cmd_copy_in(struct session *s, int argc, char **argv)
{
    struct copy cp = { .s = s };
    const char *remotedir;

    if (argc < 3)
        die(EXIT_USAGE, "usage: ferry copy-in LOCAL... REMOTEDIR");
    remotedir = argv[argc - 1];
    for (int i = 1; i < argc - 1; i++) {
        char *copy = xstrdup(argv[i]);
        char *remote = join_path(remotedir, basename(copy));
        in_path(&cp, argv[i], remote);
        free(remote);
        free(copy);
    }
    return cp.errors ? EXIT_FAILED : EXIT_OK;
}
