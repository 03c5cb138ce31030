/* ewf.c: EnCase (E01) images, without a temporary file.
 *
 * qemu has no EWF driver, so ferry reads the image with libewf and serves
 * its media to qemu's nbd client over a socketpair (qemu is given the
 * socket as a descriptor: no listening socket, no path, no port). The
 * reading is done in a child process that closes everything it inherited,
 * finds the segment files by name and confines itself before libewf reads
 * a byte of them (Landlock: those files may be read, nothing else opened;
 * seccomp: no socket, connect, exec or fork; no new privileges), and once
 * they are open, narrows the system calls again so that nothing at all can
 * be opened: a hostile E01 meets libewf's parser in a process that can
 * reach nothing but its own segments and one socket. A read that takes libewf too long ends the
 * child (SIGALRM), which qemu sees as a dead disk: an I/O error, never a
 * hang. A chunk whose checksum does not match is an I/O error too: libewf
 * reports it but still fills the buffer (with zeros, or the damaged
 * bytes), and those must never pass for the image's data.
 *
 * The child serves one connection at a time and outlives them: a launch
 * that is tried again (a failed resume, KVM falling back to TCG) connects
 * again. It ends when ferry closes the control socket or dies. */
#include <errno.h>
#include <fcntl.h>
#include <libewf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch/confine.h"
#include "launch/ewf.h"
#include "launch/launch.h"
#include "launch/nbd.h"
#include "launch/session.h"
#include "output/output.h"

/* Limits on the child, which parses the image: time to open all the
 * segments, time for one read, and memory. */
#define EWF_OPEN_LIMIT_S 60
#define EWF_READ_LIMIT_S 20
#define EWF_MEMORY_LIMIT (2ull << 30)

static void ewf_error(struct ewf_info *info, const char *what, libewf_error_t **e)
{
    size_t n = snprintf(info->error, sizeof info->error, "%s", what);

    if (*e && n + 3 < sizeof info->error) {
        memcpy(info->error + n, ": ", 3);
        libewf_error_sprint(*e, info->error + n + 2, sizeof info->error - n - 2);
        /* libewf's messages run over lines: keep the first */
        info->error[strcspn(info->error, "\n")] = '\0';
    }
    libewf_error_free(e);
}

/* The system calls the reader makes, as it opens the segments and then
 * as it serves (opening nothing); all else fails with EPERM. No socket,
 * connect, exec, fork or signal; no fcntl or ioctl (F_SETOWN and FIOSETOWN
 * would let a socket's readiness signal any process of the user). A
 * reader that libewf was fooled into running code in can only answer on
 * its socket. */
#define SERVING                                                                                    \
    SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_lseek, SYS_close, SYS_fstat,      \
        SYS_mmap, SYS_munmap, SYS_mremap, SYS_brk, SYS_madvise, SYS_mprotect, SYS_futex,           \
        SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_alarm, SYS_setitimer,          \
        SYS_clock_gettime, SYS_gettimeofday, SYS_nanosleep, SYS_clock_nanosleep, SYS_getpid,       \
        SYS_gettid, SYS_exit, SYS_exit_group, SYS_recvmsg, SYS_sendmsg, SYS_poll, SYS_ppoll,       \
        SYS_restart_syscall, SYS_sched_yield, SYS_getrandom, SYS_fadvise64
static const long serving[] = { SERVING };
static const long opening[] = { SERVING,      SYS_stat,       SYS_lstat,     SYS_newfstatat,
                                SYS_statx,    SYS_access,     SYS_faccessat, SYS_getdents64,
                                SYS_readlink, SYS_readlinkat, SYS_getcwd };
/* Opening: for reading only (without Landlock, seccomp alone keeps the
 * parser from writing a file); musl sets close-on-exec with fcntl; the
 * narrowing needs prctl, for that alone. */
#define NOT_READ_ONLY (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE)
static const struct confine_rule opening_rules[] = {
    { SYS_open, 1, NOT_READ_ONLY, 0, { 0 } },
    { SYS_openat, 2, NOT_READ_ONLY, 0, { 0 } },
    { SYS_fcntl, 1, 0, 3, { F_GETFD, F_SETFD, F_GETFL } },
    { SYS_prctl, 0, 0, 2, { PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP } },
};

/* Before libewf parses a byte: it may read the segments (Landlock) and
 * make the calls of `opening` (seccomp), nothing else. */
static int confine_to(char **names, int n, struct ewf_info *info)
{
    static struct confine c;

    if (n > CONFINE_MAX) {
        snprintf(info->error, sizeof info->error, "more than %d segment files", CONFINE_MAX);
        return -1;
    }
    confine_init(&c);
    for (int i = 0; i < n; i++)
        confine_allow(&c, names[i], CONFINE_READ);
    if (confine_apply(&c) < 0 ||
        confine_syscalls(opening, sizeof opening / sizeof opening[0], opening_rules,
                         sizeof opening_rules / sizeof opening_rules[0]) < 0) {
        snprintf(info->error, sizeof info->error, "cannot confine its reader: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Tests: what a parser fooled into running code could do, once confined:
 * write a file, read another, make a socket, have a socket signal ferry.
 * The answers go back as the reader's error. */
static void probe(const char *file, struct ewf_info *info)
{
    const char *what[] = { "write", "read", "socket", "setown" };
    int r[4];

    errno = 0;
    r[0] = open(file, O_WRONLY | O_CREAT, 0600) < 0 ? errno : 0;
    r[1] = open("/etc/passwd", O_RDONLY) < 0 ? errno : 0;
    r[2] = socket(AF_UNIX, SOCK_STREAM, 0) < 0 ? errno : 0;
    r[3] = fcntl(0, F_SETOWN, getppid()) < 0 ? errno : 0;
    size_t o = snprintf(info->error, sizeof info->error, "probe:");
    for (int i = 0; i < 4; i++)
        o += snprintf(info->error + o, sizeof info->error - o, " %s %s", what[i],
                      r[i] == EPERM    ? "EPERM"
                      : r[i] == EACCES ? "EACCES"
                      : r[i]           ? "failed"
                                       : "done");
}

/* Find and open the segments, and learn what verify needs. */
static libewf_handle_t *open_image(const char *path, struct ewf_info *info)
{
    libewf_handle_t *h = NULL;
    libewf_error_t *e = NULL;
    char **names = NULL;
    int n = 0;
    size64_t size = 0;
    uint32_t bps = 0, spc = 0;
    uint8_t sha1[41] = "";

    if (libewf_glob(path, strlen(path), LIBEWF_FORMAT_UNKNOWN, &names, &n, &e) != 1) {
        ewf_error(info, "its segment files cannot be found", &e);
        return NULL;
    }
    if (confine_to(names, n, info) < 0) {
        libewf_glob_free(names, n, NULL);
        return NULL;
    }
    if (getenv("FERRY_TEST_READER_PROBE")) {
        probe(getenv("FERRY_TEST_READER_PROBE"), info);
        libewf_glob_free(names, n, NULL);
        return NULL;
    }
    if (libewf_handle_initialize(&h, &e) != 1 ||
        libewf_handle_open(h, names, n, LIBEWF_OPEN_READ, &e) != 1) {
        ewf_error(info, "libewf cannot open it", &e);
        libewf_glob_free(names, n, NULL);
        return NULL;
    }
    libewf_glob_free(names, n, NULL);
    /* a missing or cut segment: libewf opens the rest, and the media
     * then has chunks nobody can read */
    if (libewf_handle_segment_files_corrupted(h, NULL) != 0) {
        snprintf(info->error, sizeof info->error,
                 "its segment files are incomplete (%d found from this one: one is missing or "
                 "cut short)",
                 n);
        return NULL;
    }
    if (libewf_handle_get_media_size(h, &size, &e) != 1 ||
        libewf_handle_get_bytes_per_sector(h, &bps, &e) != 1 ||
        libewf_handle_get_sectors_per_chunk(h, &spc, &e) != 1 || !bps || !spc ||
        (uint64_t) bps * spc > NBD_MAX_READ) {
        ewf_error(info, "its media values cannot be read", &e);
        return NULL;
    }
    info->size = size;
    info->chunk_size = bps * spc;
    info->segments = n;
    info->has_md5 = libewf_handle_get_md5_hash(h, info->md5, sizeof info->md5, NULL) == 1;
    if (libewf_handle_get_utf8_hash_value(h, (const uint8_t *) "SHA1", 4, sha1, sizeof sha1,
                                          NULL) == 1 &&
        strlen((char *) sha1) == 40) {
        info->has_sha1 = true;
        for (int i = 0; i < 20; i++) {
            unsigned v;
            if (sscanf((char *) sha1 + 2 * i, "%2x", &v) != 1)
                info->has_sha1 = false;
            info->sha1[i] = v;
        }
    }
    return h;
}

struct reader {
    libewf_handle_t *h;
    uint64_t sector_size;
};

/* Whether libewf has found a checksum error in [off, off + len). */
static bool damaged(struct reader *r, uint64_t off, uint32_t len)
{
    uint32_t n = 0;

    if (libewf_handle_get_number_of_checksum_errors(r->h, &n, NULL) != 1)
        return true;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t first, count;
        if (libewf_handle_get_checksum_error(r->h, i, &first, &count, NULL) != 1)
            return true;
        if (first * r->sector_size < off + len && (first + count) * r->sector_size > off)
            return true;
    }
    return false;
}

static int read_media(void *opaque, void *buf, uint32_t len, uint64_t off)
{
    struct reader *r = opaque;
    ssize_t n;

    alarm(EWF_READ_LIMIT_S);
    n = libewf_handle_read_random(r->h, buf, len, off, NULL);
    alarm(0);
    return n == (ssize_t) len && !damaged(r, off, len) ? 0 : EIO;
}

/* A connection ferry sent over the control socket; -1 when it closed. */
static int receive_connection(int control)
{
    char byte, cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &byte, 1 };
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf
    };
    struct cmsghdr *c;
    int fd;

    if (recvmsg(control, &m, MSG_CMSG_CLOEXEC) != 1 || !(c = CMSG_FIRSTHDR(&m)) ||
        c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(sizeof(int)))
        return -1;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static void child(const char *path, int control)
{
    struct ewf_info info = { 0 };
    struct rlimit mem = { EWF_MEMORY_LIMIT, EWF_MEMORY_LIMIT };
    sigset_t all;
    int null = open("/dev/null", O_RDWR);

    /* ferry's handlers and descriptors are not the child's */
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    signal(SIGPIPE, SIG_IGN); /* a client gone is a failed write */
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    close_all_but(&control, 1);
    setrlimit(RLIMIT_AS, &mem);

    alarm(EWF_OPEN_LIMIT_S);
    libewf_handle_t *h = open_image(path, &info);
    alarm(0);
    /* opened: from here on not even a segment can be opened again */
    if (h && confine_syscalls(serving, sizeof serving / sizeof serving[0], NULL, 0) < 0)
        snprintf(info.error, sizeof info.error, "cannot confine its reader: %s", strerror(errno));
    if (write(control, &info, sizeof info) != sizeof info || info.error[0])
        _exit(1);

    uint32_t bps = 0; /* known to be there and not 0: open_image asked */
    libewf_handle_get_bytes_per_sector(h, &bps, NULL);
    struct reader r = { h, bps };
    struct nbd_export e = { info.size, info.chunk_size, read_media, &r };
    for (int fd; (fd = receive_connection(control)) >= 0; close(fd))
        nbd_serve(fd, &e, control);
    _exit(0);
}

struct ewf_server *ewf_start(const char *path)
{
    struct ewf_server *srv = calloc(1, sizeof *srv);
    int sv[2];

    if (!srv || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        report("%s: %s", path, strerror(errno));
        free(srv);
        return NULL;
    }
    pid_t parent = getpid();
    fflush(NULL);
    if ((srv->pid = fork()) < 0) {
        report("fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        free(srv);
        return NULL;
    }
    if (srv->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* it dies with ferry */
        if (getppid() != parent)
            _exit(1);
        close(sv[0]);
        child(path, sv[1]);
    }
    close(sv[1]);
    srv->control = sv[0];
    ssize_t n;
    do
        n = read(srv->control, &srv->info, sizeof srv->info);
    while (n < 0 && errno == EINTR);
    /* the child has parsed the image: what it says is checked like any
     * other peer's word */
    const struct ewf_info *i = &srv->info;
    if (n == sizeof srv->info && !i->error[0] &&
        (!i->chunk_size || i->chunk_size > NBD_MAX_READ || !i->segments || !i->size))
        snprintf(srv->info.error, sizeof srv->info.error, "its reader gave impossible values");
    if (n != sizeof srv->info || srv->info.error[0]) {
        srv->info.error[sizeof srv->info.error - 1] = '\0';
        report("%s: %s", path,
               n == sizeof srv->info ? srv->info.error
                                     : "its reader ended (the image took libewf too long, or "
                                       "crashed it)");
        ewf_stop(srv);
        return NULL;
    }
    return srv;
}

int ewf_connect(struct ewf_server *srv)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    if (send_with_fd(srv->control, "c", 1, sv[1]) != 1) {
        int saved = errno;
        close(sv[0]);
        close(sv[1]);
        errno = saved;
        return -1;
    }
    close(sv[1]);
    return sv[0];
}

void ewf_stop(struct ewf_server *srv)
{
    if (!srv)
        return;
    close(srv->control); /* it ends at the end of its connection */
    if (srv->pid > 0) {
        kill(srv->pid, SIGKILL);
        waitpid(srv->pid, NULL, 0);
    }
    free(srv);
}
