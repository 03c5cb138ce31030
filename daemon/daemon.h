/* daemon.h: what the daemon's files share. */
#ifndef FERRYD_H
#define FERRYD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "wire.h"

#define FERRYD_VERSION "0.1.0"

/* The daemon's settings and the state every handler may read. */
struct daemon {
    const char *root;        /* the served root: /sysroot in the appliance */
    int rootfd;              /* open on it; reopened when a mount covers it */
    struct wire w;
    unsigned chunk_size;     /* data bytes per chunk we send */
    int progress_ms;         /* least time between progress events */
    bool appliance;          /* PID 1 in the VM: mount and devices allowed */
    bool no_direct;          /* no O_DIRECT reads (for measuring) */
};
extern struct daemon d;

/* One call being served. Handlers fail with call_fail(), which records the
 * errno and a message naming the context; the dispatcher sends the reply. */
struct call {
    uint32_t proc, serial;
    int err;
    char msg[FERRY_MAX_ERROR];
    bool closed;             /* the transfer's END or CANCEL chunk has passed */
    bool lost;               /* the stream broke: no reply, wait for a sync */
    bool dead;               /* the channel is gone */
    bool have_sync;          /* a sync arrived mid-call: answer it, no reply */
    uint64_t sync_id;
};

int call_fail(struct call *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like call_fail, with ": strerror(err)" appended. */
int call_fail_errno(struct call *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Put "prefix: " before the message of a failure from a lower layer
 * (not before a cancel or a broken channel). Returns -1. */
int call_prefix(struct call *c, const char *prefix);

/* dispatch.c: serve one frame that arrived between calls. */
void serve_frame(const struct wire_frame *f);
/* Note a frame that arrived mid-call which is not part of the call. */
void call_interrupted(struct call *c, const struct wire_frame *f, int r);

/* path.c: every path from the client is resolved inside the served root,
 * with absolute symlinks and ".." kept inside it (openat2 RESOLVE_IN_ROOT). */
int open_in_root(struct call *c, const char *path, int flags, mode_t mode);
/* Open the directory holding the last component of path; *name is set to
 * that component (into buf). Fails for "/" and paths ending in . or .. */
int open_parent(struct call *c, const char *path, char *buf, size_t bufsz, const char **name);
int stat_path(struct call *c, const char *path, bool follow, struct ferry_stat *st);
int statx_at(int dirfd, const char *name, int flags, struct ferry_stat *st);

/* transfer.c: chunk streams. call_keepalive sends an empty progress event
 * at most once a second, so that a long piece of work is not taken for a
 * silent daemon by the client's inactivity timeout. */
void call_keepalive(struct call *c);
int send_fd(struct call *c, int fd, bool seekable, uint64_t total, bool progress, uint64_t *sent);
int send_data(struct call *c, const void *data, size_t len);
int recv_fd(struct call *c, int fd, bool seekable, uint64_t *received);

/* session.c: the hello, and serving frames until the channel closes or a
 * shutdown call comes. */
int send_hello(void);
void serve(void);

/* Open the served root again (after a mount or unmount changed it). */
int reopen_root(void);

/* appliance.c */
void appliance_init(void);
void appliance_settings(void);
int appliance_channel(void);
void appliance_poweroff(void) __attribute__((noreturn));

/* run.c: run a helper program (tar, blkid) with the given fds as stdin and
 * stdout, in directory dirfd (or -1). Its stderr is kept for error messages. */
struct helper {
    pid_t pid;
    int errfd;               /* memfd holding the helper's stderr */
};
int helper_start(struct call *c, struct helper *h, char *const argv[], int in, int out, int dirfd);
/* Wait for it; 0 when it exited 0, else call_fail with its stderr. */
int helper_finish(struct call *c, struct helper *h, const char *what);
/* Kill and reap it, when the call failed for another reason. */
void helper_kill(struct helper *h);

#endif
