/* share.h: sessions. `ferry session start` leaves a ferry in the
 * background holding one appliance (serve.c); each later command with
 * FERRY_SESSION set joins it (join.c) instead of starting its own.
 *
 * The socket lives in a directory only its owner can enter (dir.c), and
 * the server talks to no process of another user (SO_PEERCRED). A command
 * that joins is lent the appliance's channel itself (SCM_RIGHTS): no relay
 * stands between it and the appliance. One command at a time: the next
 * waits in the listen queue. When it ends, it says what it left mounted;
 * a command that dies without saying has its channel resynchronised and
 * everything unmounted by the server before the next one joins. */
#ifndef FERRY_SHARE_H
#define FERRY_SHARE_H

#include <stdbool.h>
#include <stdint.h>

struct session;

/* The messages on the socket (SOCK_SEQPACKET: one message, one packet).
 * Both ends must be the same ferry: the magic holds its version and the
 * protocol's (share_magic). */
#define SHARE_MAGIC_SIZE 32
#define SHARE_PLAN_MAX 4096

/* What a command needs mounted. */
enum share_want {
    SHARE_WANT_ANY,     /* whatever is mounted (ping, filesystems) */
    SHARE_WANT_NOTHING, /* nothing: it mounts as it goes (inspect, shell) */
    SHARE_WANT_PLAN,    /* its -m options, or the automatic mounts */
};

enum share_op { SHARE_JOIN = 1, SHARE_STOP, SHARE_DONE };

/* What a command left mounted, said when it ends. */
enum share_left { SHARE_LEFT_UNKNOWN, SHARE_LEFT_UNCHANGED, SHARE_LEFT_PLAN };

struct share_request {
    char magic[SHARE_MAGIC_SIZE];
    uint32_t op;               /* share_op */
    uint32_t want;             /* JOIN: share_want; DONE: share_left */
    char plan[SHARE_PLAN_MAX]; /* JOIN with SHARE_WANT_PLAN: the mounts, as a key */
};

enum share_status { SHARE_OK, SHARE_DEAD, SHARE_STOPPED, SHARE_REFUSED };

/* The answer to JOIN (with the channel) and to STOP. Image paths follow
 * it in the same packet, each ending with a NUL. */
struct share_greeting {
    char magic[SHARE_MAGIC_SIZE];
    uint32_t status;  /* share_status */
    uint32_t mounted; /* the plan asked for is mounted already */
    uint32_t rw, kvm, resumed;
    uint32_t raw_images; /* bit i: image i's descriptor follows the channel's
                            (a raw image the command may read itself) */
    uint32_t protocol_version;
    uint64_t capabilities;
    char daemon_version[65];
    char kernel_version[129];
    char message[512]; /* DEAD, REFUSED: why */
    uint32_t nimages;
};
#define SHARE_GREETING_MAX (sizeof(struct share_greeting) + 26 * 4097)

/* dir.c: the private directory for sessions' sockets, made if need be:
 * $XDG_RUNTIME_DIR/ferry, else /tmp/ferry-UID; it must be a directory of
 * ours that no one else may enter. 0, or -1 reported. */
int share_dir(char *path, size_t size);
/* The most descriptors a greeting carries: the channel, the raw images. */
#define SHARE_MAX_FDS (1 + 26)
/* A socket connected to path, its other end checked to be ours; -1
 * reported (a dead session's leftover socket is removed). */
int share_connect(const char *path);
/* The listening socket of a new session, its name in path. -1 reported. */
int share_listen(char *path, size_t size);
void share_magic(char magic[SHARE_MAGIC_SIZE]);
bool share_magic_ok(const char magic[SHARE_MAGIC_SIZE]);

/* serve.c: start a session for s's images: a ferry in the background
 * holds the appliance; prints the shell's words that set FERRY_SESSION.
 * An exit status. */
int share_start(struct session *s, int idle_timeout_s);
/* join.c: join the session at s->join for a command wanting s->want.
 * An exit status; with EXIT_OK, s is started as session_start leaves it. */
int share_join(struct session *s);
/* The command is over: sync if the session writes, say what is mounted,
 * give the appliance back. -1 if the sync failed. */
int share_leave(struct session *s);
/* `ferry session stop`: an exit status. */
int share_stop(const char *path);

#endif
