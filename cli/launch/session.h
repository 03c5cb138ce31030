/* session.h: one run of ferry's appliance: the images and how they are
 * attached, the qemu (or, for tests, the host ferryd) serving them, and
 * the RPC client that talks to it. */
#ifndef FERRY_SESSION_H
#define FERRY_SESSION_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "rpc/client.h"

#define FERRY_VERSION "0.2.0"
#define MAX_IMAGES 26
#define MAX_MOUNTS 64

struct image {
    const char *path;
    const char *format; /* --format, else detected */
};

struct mount_req {
    char *device, *mountpoint, *options, *fstype;
};

struct session {
    struct image images[MAX_IMAGES];
    int nimages;
    struct mount_req mounts[MAX_MOUNTS];
    int nmounts;
    bool rw, verbose, trace;
    bool no_direct;      /* --no-direct: file bytes through the appliance only */
    bool external;       /* --external: open the files images name */
    const char *accel;   /* auto, kvm, tcg */
    const char *machine; /* microvm, or q35 when qemu lacks it */
    const char *qemu;    /* --qemu, $FERRY_QEMU, or NULL: from PATH */
    unsigned memsize_mb;
    int timeout_s;    /* a call's silence */
    int call_limit_s; /* a call kept going by events alone */
    int launch_timeout_s;
    const char *test_root;      /* serve a directory with a host ferryd */
    const char *log;            /* --log FILE */
    const char *key_file;       /* --key-file: encrypted volumes' passphrase */
    const char *pending_format; /* --format with no -a after it: for the image operand */
    int typed_argc;             /* the command line as typed, for --log */
    char **typed_argv;
    const char *command; /* names the command in messages */
    bool started;
    bool kvm;                    /* the appliance runs under KVM (else TCG) */
    bool resumed;                /* from the saved appliance (else booted) */
    struct timespec began;       /* when ferry started (CLOCK_MONOTONIC) */
    const struct tables *tables; /* commands.c's, for help and shell */
    struct client cl;
    /* a command run in a session (FERRY_SESSION, share/): the appliance
     * is the session's, lent to this command over join_fd */
    const char *join; /* the session's socket, or NULL */
    bool joined;
    int join_fd;
    int want;     /* what the command needs mounted: SHARE_WANT_* */
    bool mounted; /* the session had it mounted already */
    bool said_ro; /* --ro given: a read-write session's command may not write */
    bool writes;  /* the command writes (an fstab it changes may change the mounts) */
};

/* Bring the appliance up and shake hands. 0, or EXIT_FAILED with the
 * reason reported. */
int session_start(struct session *s);
/* Shut it down cleanly and reap it; -1 if it did not go well. */
int session_end(struct session *s);
/* The client's settings from the options (timeouts, -x, chunk size). */
void session_client_init(struct session *s);
/* Kill it at once (a second signal, a lost channel). */
void session_kill(void);

/* "ferry: CMD: " and the client's last error (escaped, devices named as
 * the user names them); with a broken channel, what qemu and the console
 * said last. Returns EXIT_FAILED. */
int call_failed(struct session *s);

/* launch: starting the other end of the channel (qemu.c, testd.c). The
 * child is killed with ferry (PR_SET_PDEATHSIG). */
extern pid_t session_child;
/* Once a run: find qemu, open and check the images, unpack the appliance,
 * start the console. 0, or -1 reported. */
int launch_prepare(struct session *s);
struct image_file;
/* Image i as ferry opened it for qemu; NULL before (or without) a launch. */
const struct image_file *launch_image(int i);
/* A qemu that boots the appliance, resumes the saved one, or boots it to
 * be saved (the build: save.c). */
enum launch_mode { LAUNCH_BOOT, LAUNCH_RESUME, LAUNCH_SAVE };
int launch_qemu(struct session *s, int fd, bool kvm, const char *machine, enum launch_mode mode);
/* The build: boot the appliance, save it into path (and its machine
 * signature into path.sig). An exit status. */
int launch_save_state(struct session *s, const char *path);
/* After a resume: wait for the thread that fed qemu the state; what was
 * wrong with the state, or NULL. */
const char *launch_resume_end(void);
/* ferry's end of qemu's monitor (QMP), or -1: a qemu that saves the
 * appliance has one, and so does one with images that are not raw. */
int launch_monitor(void);
/* export.c: image i's disk as qemu exports it over NBD (only images that
 * are not raw; all are exported at the first call): the connection and
 * the disk's size, or -1 (none: files come through the appliance).
 * drop: a connection whose stream broke. end: all closed (qemu is going,
 * or another is started). */
int launch_export(struct session *s, int i, uint64_t *size);
void launch_export_drop(int i);
void launch_exports_end(void);
/* for save.c: the machine signature */
const char *launch_signature(struct session *s);
int launch_test_daemon(struct session *s, int fd);
bool launch_would_use_kvm(void);
pid_t fork_child(void);

#endif
