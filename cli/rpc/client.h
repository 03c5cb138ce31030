/* client.h: the RPC client library: calls, replies, transfers, events,
 * resync. The host program, the protocol tests and the fuzzers link it. */
#ifndef FERRY_CLIENT_H
#define FERRY_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

/* Where a download's data goes, or an upload's comes from. */
struct xfer {
    /* download: data arrived; return 0, or -1 with errno to cancel */
    int (*data)(void *opaque, const void *buf, size_t len);
    /* download: len bytes of zeros; return 0, or -1 with errno */
    int (*hole)(void *opaque, uint64_t len);
    /* download: len bytes the daemon could not read (asked for with
     * unreadable_as_zeros): zeros stand in for them. NULL: not asked. */
    int (*bad)(void *opaque, uint64_t len);
    /* download read on the host (direct.c): up to len bytes of fd at `at`,
     * copied by the kernel with no pass through ferry's memory. Returns the
     * bytes copied, 0 at fd's end, -1 with errno, or -2 when this end
     * cannot take them so (the caller reads them and calls data). NULL:
     * never. */
    ssize_t (*copy)(void *opaque, int fd, uint64_t at, size_t len);
    /* upload: fill buf (len bytes at most); return bytes, 0 at the end, or
     * -1 with errno. May instead set *hole to skip over zeros (return 0). */
    ssize_t (*read)(void *opaque, void *buf, size_t len, uint64_t *hole);
    void *opaque;
    /* upload: how many bytes will be sent, when known (for progress) */
    uint64_t total;
};

struct client {
    struct wire w;
    uint32_t serial;
    int call_timeout_ms; /* silence limit in a call (any frame breaks the
                                silence), and for writes the daemon does not read */
    int call_limit_ms;   /* how long a call may go on with events alone:
                                keepalives cannot hold it past this; 0: none */
    unsigned chunk_size; /* what we send in an upload */
    bool broken;         /* resync failed: the appliance is lost */
    /* the hello */
    unsigned protocol_version;
    char daemon_version[65];
    char kernel_version[129];
    uint64_t capabilities;
    /* called as a transfer moves: bytes so far, and the total when known
     * (from the daemon's progress events, or struct xfer's total); NULL
     * for none. Called often: it must keep its own pace. */
    void (*progress)(void *opaque, uint64_t position, uint64_t total);
    void *progress_opaque;
    uint64_t moved, total; /* the current transfer, for progress */
    /* -x: one line per call on stderr */
    bool trace;
    /* the last failure: errno and message (the daemon's, or ours) */
    int err;
    bool remote; /* the message came from the daemon */
    char msg[FERRY_MAX_ERROR + 64];
};

/* The most bytes a resync throws away looking for its delimiter: a guest
 * that only sends junk cannot keep the client reading. */
#define CLIENT_DISCARD_LIMIT (64u << 20)

/* Wait for the launch word and the hello on fd; check the version. */
int client_handshake(struct client *cl, int fd, int launch_timeout_ms);
void client_free(struct client *cl);
/* Take over a channel whose hello another client has had (a session's:
 * the caller copies the hello's fields); the daemon is waiting for a call. */
int client_adopt(struct client *cl, int fd);

/* One call. Returns 0 with *ret decoded (free it with xdr_free), or -1 with
 * cl->err and cl->msg set. After a timeout or a garbled reply the channel is
 * resynchronised; if that fails, cl->broken is set. */
int client_call(struct client *cl, uint32_t proc, xdrproc_t xdr_args, void *args, xdrproc_t xdr_ret,
                void *ret, enum ferry_xfer dir, const struct xfer *x);

/* Typed stubs, one per procedure of ferry.x:
 *   int rpc_NAME(struct client *, Args *, Ret *, const struct xfer *); */
#define FERRY_STUB(num, name, A, R, dir)                                                           \
    static inline int rpc_##name(struct client *cl, A *a, R *r, const struct xfer *x)              \
    {                                                                                              \
        return client_call(cl, num, (xdrproc_t) xdr_##A, a, (xdrproc_t) xdr_##R, r,                \
                           FERRY_XFER_##dir, x);                                                   \
    }
FERRY_PROCS(FERRY_STUB)

/* Send a sync and wait for its delimiter. 0, or -1 (and cl->broken). */
int client_resync(struct client *cl);

#endif
