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
    const char *root; /* the served root: /sysroot in the appliance */
    int rootfd;       /* open on it; reopened when a mount covers it */
    struct wire w;
    unsigned chunk_size; /* data bytes per chunk we send */
    int progress_ms;     /* least time between progress events */
    bool appliance;      /* PID 1 in the VM: mount and devices allowed */
    bool no_direct;      /* no O_DIRECT reads (for measuring) */
    bool test_lie;       /* tests: extents placed past their device */
    const char *tar;     /* the static GNU tar run for tar-in and tar-out */
    int crypt_limit_s;   /* cryptsetup's time limit; 0: CRYPT_LIMIT_S (tests lower it) */
};
extern struct daemon d;

/* One call being served. Handlers fail with call_fail(), which records the
 * errno and a message naming the context; the dispatcher sends the reply. */
struct call {
    uint32_t proc, serial;
    int err;
    char msg[FERRY_MAX_ERROR];
    bool closed;    /* the transfer's END or CANCEL chunk has passed */
    bool lost;      /* the stream broke: no reply, wait for a sync */
    bool dead;      /* the channel is gone */
    bool have_sync; /* a sync arrived mid-call: answer it, no reply */
    uint64_t sync_id;
};

int call_fail(struct call *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
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
/* Open a regular file for reading. Its type is checked on an O_PATH
 * descriptor before it is opened for real, so that a fifo or a device
 * node in the image is never opened. */
int open_regular(struct call *c, const char *path);
/* Open the directory holding the last component of path; *name is set to
 * that component (into buf). Fails for "/" and paths ending in . or .. */
int open_parent(struct call *c, const char *path, char *buf, size_t bufsz, const char **name);
/* file.c: len bytes from fd, all of them, or -1 (an error, or fewer were there). */
int read_all(int fd, void *buf, size_t len);
int stat_path(struct call *c, const char *path, bool follow, struct ferry_stat *st);
int statx_at(int dirfd, const char *name, int flags, struct ferry_stat *st);

/* events.c: progress events; keepalives while the main thread is in a busy
 * section (a long system call), sent by a second thread. Nothing may be
 * sent on the channel between busy_begin and busy_end. */
void send_progress(struct call *c, uint64_t position, uint64_t total);
void busy_begin(struct call *c);
void busy_end(struct call *c);

/* send.c: a file out as chunks. */
struct send_opts {
    bool seekable;      /* a regular file: holes found, O_DIRECT reads */
    uint64_t total;     /* its size (seekable) */
    bool progress;      /* send progress events */
    bool zeros_for_bad; /* unreadable ranges as BAD chunks, not an error */
};
int send_fd(struct call *c, int fd, const struct send_opts *o, uint64_t *sent);
int send_data(struct call *c, const void *data, size_t len);
/* len bytes that could not be read: a BAD chunk (zeros stand in). */
int send_unreadable(struct call *c, uint64_t len);
unsigned char *transfer_buffer(void); /* aligned, FERRY_MAX_CHUNK bytes */
bool direct_on(int fd);               /* O_DIRECT, if the file takes it */
void direct_off(int fd);
/* extents.c: where the bytes of the open file fd lie on its disk, when
 * the host may read them itself (a disk in `disks`, see ferry.x), in at
 * most max extents; NULL when they must go as chunks. `known` (or NULL)
 * keeps what was learnt of the last filesystem asked about, for a walk:
 * valid while the mounts stay as they are. */
struct placement {
    bool known, plain;
    dev_t dev;
    ferry_direct where; /* disk, offset and device_size */
};
ferry_direct *file_direct(int fd, uint64_t size, uint32_t disks, unsigned max,
                          struct placement *known);
void placement_forget(struct placement *p);
/* list.c: entries streamed as batches, each DATA chunk one whole XDR
 * array (a count, then entries): an entry that does not fit starts the
 * next, so a listing of any size goes in bounded memory. Call inside a
 * busy section. */
struct batch {
    unsigned char *buf;
    size_t cap;
    XDR x;
    uint32_t count;
};
int batch_init(struct call *c, struct batch *b);
int batch_add(struct call *c, struct batch *b, xdrproc_t encode, void *entry, const char *name);
int batch_flush(struct call *c, struct batch *b);
void batch_free(struct batch *b);
/* crypt.c: a device-mapper device that is an opened encrypted volume
 * becomes FERRY_DEV_CRYPT, its parent the encrypted device. */
void crypt_describe(ferry_device *dv, const char *sysdir);
/* devices.c: the first line of a small sysfs file, or "" */
void sysfs_read(const char *path, char *buf, size_t size);
/* recv.c: a file in as chunks. */
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
/* wake.c: a saved appliance (booted with ferry.wake) waits on the channel
 * for its wake record and applies it; -1 if none came */
bool appliance_saved(void);
int appliance_wake(int fd);
void appliance_poweroff(void) __attribute__((noreturn));
/* Undo the \ooo escapes of /proc/mounts and mountinfo, in place. */
void mount_unescape(char *s);
/* Unmount everything below the root, the last mounted first. */
void appliance_unmount_all(void);
/* Sync, and leave every filesystem written as clean as an unmount would. */
void appliance_settle_all(void);

/* run.c: run a helper program (tar, blkid, lvm). Its stderr is kept for
 * error messages. */
struct helper {
    pid_t pid;
    int errfd;  /* memfd holding the helper's stderr */
    int status; /* as waitpid gave it, once finished */
};
struct helper_io {
    int in, out;   /* its stdin and stdout; -1: /dev/null */
    int dirfd;     /* where it starts; -1: here */
    bool confined; /* chrooted into the served root; argv[0] is then
                                the absolute path of a static program */
};
int helper_start(struct call *c, struct helper *h, char *const argv[], const struct helper_io *io);
/* Wait for it (with keepalives); 0 when it exited 0, else call_fail with
 * its stderr. */
int helper_finish(struct call *c, struct helper *h, const char *what);
/* The same, killing it after limit_s seconds (ETIMEDOUT); 0: no limit. */
int helper_finish_within(struct call *c, struct helper *h, const char *what, int limit_s);
/* Kill and reap it, when the call failed for another reason. */
void helper_kill(struct helper *h);

#endif
