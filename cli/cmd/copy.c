/* copy.c: copy-out and copy-in: trees between the image and the host.
 *
 * copy-out never writes outside the target directory, whatever the image
 * holds: it walks the remote tree a directory at a time and creates each
 * entry through a descriptor of the local directory it belongs in, by a
 * single name checked to be one (no "/", not "." or ".."), never following
 * a symlink (O_NOFOLLOW, O_EXCL, *at calls). Symlinks are made as symlinks
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

#include "cmd/cmd.h"
#include "guest/guest.h"
#include "io/transfer.h"
#include "output/output.h"

#define MAX_DEPTH 1100 /* above the walker's own limit */

struct copy {
    struct session *s;
    bool zeros; /* --zero-unreadable */
    int errors, incomplete;
    int fds[MAX_DEPTH + 2]; /* copy-out: the local directory of each depth */
};

static void copy_warn(struct copy *cp, const char *path, const char *why)
{
    report("%s: %s: %s", cp->s->command, path, why);
    cp->errors++;
}

/* ---- out ---- */

/* One name, as a directory entry must be. */
static bool safe_name(const char *name)
{
    return name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

static void set_times(int fd, const char *name, const struct ferry_stat *st, int flags)
{
    struct timespec ts[2] = { { st->atime.sec, st->atime.nsec },
                              { st->mtime.sec, st->mtime.nsec } };
    utimensat(fd, name, ts, flags);
}

/* Download remote into a new file `name` in dirfd. */
static int out_file(struct copy *cp, const char *remote, int dirfd, const char *name,
                    const struct ferry_stat *st)
{
    int fd, r;

    /* an old entry is replaced, never written through */
    unlinkat(dirfd, name, 0);
    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        copy_warn(cp, remote, strerror(errno));
        return -1;
    }
    r = fetch(cp->s, remote, fd, false, cp->zeros);
    if (r < 0) {
        close(fd);
        unlinkat(dirfd, name, 0);
        cp->errors++; /* fetch has said why */
        return -1;
    }
    cp->incomplete += r > 0;
    fchmod(fd, st->mode & 0777);
    set_times(fd, "", st, AT_EMPTY_PATH);
    close(fd);
    return 0;
}

/* Make `name` in dirfd as the remote entry is; a directory's descriptor
 * goes to *sub (-1 otherwise). */
static int out_entry(struct copy *cp, const char *remote, const ferry_dirent *e, int dirfd,
                     const char *name, int *sub)
{
    const struct ferry_stat *st = &e->st;

    *sub = -1;
    if (!safe_name(name)) {
        copy_warn(cp, remote, "refusing a name that is not one path component");
        return -1;
    }
    if (S_ISREG(st->mode))
        return out_file(cp, remote, dirfd, name, st);
    if (S_ISLNK(st->mode)) {
        unlinkat(dirfd, name, 0);
        if (symlinkat(e->link, dirfd, name) < 0) {
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
        *sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (*sub < 0) {
            copy_warn(cp, remote,
                      errno == ENOTDIR || errno == ELOOP ? "a non-directory is in the way"
                                                         : strerror(errno));
            return -1;
        }
        return 0;
    }
    copy_warn(cp, remote, "skipped: not a file, directory or symlink");
    return -1;
}

static void dir_done(int fd, const struct ferry_stat *st)
{
    fchmod(fd, st->mode & 0777);
    set_times(fd, "", st, AT_EMPTY_PATH);
    close(fd);
}

static int out_visit(struct walk *w, const char *path, const char *rel, const ferry_dirent *e,
                     int depth)
{
    struct copy *cp = w->opaque;
    int sub;

    (void) rel;
    if (depth > MAX_DEPTH)
        return 1;
    out_entry(cp, path, e, cp->fds[depth], e->name, &sub);
    if (cp->s->cl.broken) {
        if (sub >= 0)
            close(sub);
        return -1;
    }
    cp->fds[depth + 1] = sub;
    return sub < 0 ? 1 : 0; /* descend only into what was made */
}

static void out_leave(struct walk *w, const char *path, const char *rel, const ferry_dirent *e,
                      int depth)
{
    struct copy *cp = w->opaque;

    (void) path;
    (void) rel;
    dir_done(cp->fds[depth + 1], &e->st);
}

/* The tree below remote into dirfd. */
static int out_tree(struct copy *cp, const char *remote, int dirfd)
{
    struct walk w = { .s = cp->s,
                      .visit = out_visit,
                      .leave = out_leave,
                      .opaque = cp,
                      .recursive = true,
                      .visitor_calls = true };

    cp->fds[0] = dirfd;
    int r = walk_tree(&w, remote);
    cp->errors += w.errors;
    return r;
}

int cmd_copy_out(struct session *s, struct args *a)
{
    struct copy cp = { .s = s, .zeros = opt_on(a, "zero-unreadable") };
    const char *localdir = a->argv[a->argc - 1];
    int dirfd = open(localdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (dirfd < 0) {
        report("copy-out: %s: %s", localdir, strerror(errno));
        return EXIT_FAILED;
    }
    for (int i = 0; i < a->argc - 1 && !s->cl.broken; i++) {
        const char *remote = a->argv[i];
        ferry_path_args pa = { .path = (char *) remote };
        CLEANUP_XDR(ferry_stat_ret) st = { 0 };
        CLEANUP_XDR(ferry_readlink_ret) rl = { 0 };
        char *copy = strdup(remote);
        int sub;

        if (!copy || rpc_lstat(&s->cl, &pa, &st, NULL) < 0) {
            if (copy)
                call_failed(s);
            cp.errors++;
        } else if (!strcmp(remote, "/")) {
            /* copy-out / DIR: the contents of the root go into DIR */
            if (!S_ISDIR(st.st.mode))
                copy_warn(&cp, remote, "not a directory");
            else
                out_tree(&cp, "/", dirfd);
        } else if (S_ISLNK(st.st.mode) && rpc_readlink(&s->cl, &pa, &rl, NULL) < 0) {
            call_failed(s);
            cp.errors++;
        } else {
            ferry_dirent e = { basename(copy), st.st, rl.target ? rl.target : "" };
            if (out_entry(&cp, remote, &e, dirfd, e.name, &sub) == 0 && sub >= 0) {
                out_tree(&cp, remote, sub);
                dir_done(sub, &st.st);
            }
        }
        free(copy);
    }
    close(dirfd);
    if (cp.errors || s->cl.broken)
        return EXIT_FAILED;
    return cp.incomplete ? EXIT_INCOMPLETE : EXIT_OK;
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
    while ((de = readdir(dir)) && !cp->s->cl.broken) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *l = join_path(local, de->d_name), *rm = join_path(remote, de->d_name);
        if (!l || !rm || in_path(cp, l, rm) < 0)
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

static int in_link(struct copy *cp, const char *local, const char *remote, const struct stat *st)
{
    char target[FERRY_MAX_PATH + 1];
    ssize_t n = readlink(local, target, sizeof target - 1);
    ferry_void v;

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
    in_times(cp, remote, st, true);
    return 0;
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
        ferry_mkdir_args m = { .path = (char *) remote,
                               .mode = st.st_mode & 07777,
                               .parents = true };
        if (rpc_mkdir(&cp->s->cl, &m, &v, NULL) < 0) {
            copy_warn(cp, remote, cp->s->cl.msg);
            return -1;
        }
        int r = in_dir(cp, local, remote);
        in_times(cp, remote, &st, false);
        return r;
    }
    if (S_ISLNK(st.st_mode))
        return in_link(cp, local, remote, &st);
    if (!S_ISREG(st.st_mode)) {
        copy_warn(cp, local, "skipped: not a file, directory or symlink");
        return -1;
    }
    int fd = open(local, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        copy_warn(cp, local, strerror(errno));
        return -1;
    }
    int ret = send_local(cp->s, fd, true, false, remote, st.st_mode & 07777);
    close(fd);
    if (ret < 0) {
        copy_warn(cp, cp->s->cl.remote ? remote : local, cp->s->cl.msg);
        return -1;
    }
    in_times(cp, remote, &st, false);
    return 0;
}

int cmd_copy_in(struct session *s, struct args *a)
{
    struct copy cp = { .s = s };
    const char *remotedir = a->argv[a->argc - 1];

    for (int i = 0; i < a->argc - 1 && !s->cl.broken; i++) {
        char *copy = strdup(a->argv[i]);
        char *remote = copy ? join_path(remotedir, basename(copy)) : NULL;
        if (!remote)
            cp.errors++;
        else
            in_path(&cp, a->argv[i], remote);
        free(remote);
        free(copy);
    }
    return cp.errors || s->cl.broken ? EXIT_FAILED : EXIT_OK;
}
