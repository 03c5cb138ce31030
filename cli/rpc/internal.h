/* internal.h: what client.c and transfer.c share, inside the RPC client. */
#ifndef FERRY_RPC_INTERNAL_H
#define FERRY_RPC_INTERNAL_H

#include "rpc/client.h"

/* Record a failure (errno and message); returns -1. */
int fail(struct client *cl, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The channel is gone or beyond repair: later calls fail at once. */
int lost(struct client *cl, const char *why);
/* A read failed mid-call: say why, and repair the channel if it can be. */
int read_failed(struct client *cl, const char *what);
void moved(struct client *cl, uint64_t n);
void event(struct client *cl, const struct wire_frame *f, uint32_t serial);
int take_reply(struct client *cl, const char *name, const struct wire_frame *f, xdrproc_t xdr_ret,
               void *ret);

/* A download in progress. */
struct download {
    const struct xfer *x;
    int err; /* the sink failed with this: cancel sent */
    char msg[256];
    uint64_t after_cancel; /* bytes the sender sent since: it must stop soon */
};
/* One chunk of a download; *closed at its END or CANCEL. 0, or -1 with
 * errno and cl->w.error set (the stream is broken). */
int download_chunk(struct client *cl, struct download *dl, const struct wire_frame *f,
                   bool *closed);
/* Send an upload's chunks: 0 when sent (the reply comes next), 1 when the
 * daemon replied already (*result), -1 when the channel broke. */
int upload_chunks(struct client *cl, uint32_t proc, uint32_t serial, const struct xfer *x,
                  xdrproc_t xdr_ret, void *ret, int *result, int *local_err, char *local_msg,
                  size_t msgsz);

#endif
