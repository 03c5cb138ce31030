/* channel.c: the state of the channel as the client sees it, shared by
 * calls (client.c) and transfers (transfer.c): failures, a channel lost or
 * resynchronised, bytes moved, events, replies taken in. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "rpc/client.h"
#include "rpc/internal.h"

int fail(struct client *cl, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cl->msg, sizeof cl->msg, fmt, ap);
    va_end(ap);
    cl->err = err;
    cl->remote = false;
    errno = err;
    return -1;
}

/* The channel is gone or beyond repair: every later call fails at once.
 * `why` says it of the appliance ("closed the channel"), or is the wire's
 * word for it ("the peer stopped reading"). */
int lost(struct client *cl, const char *why)
{
    int err = errno == ETIMEDOUT ? ETIMEDOUT : ECONNRESET;

    cl->broken = true;
    if (!strncmp(why, "the peer ", 9))
        return fail(cl, err, "the appliance %s", why + 9);
    return fail(cl, err, "the appliance %s", why);
}

int client_resync(struct client *cl)
{
    uint64_t id, got;

    if (getrandom(&id, sizeof id, GRND_NONBLOCK) != sizeof id)
        id = (uint64_t) time(NULL) * 6364136223846793005u + cl->serial;
    if (wire_send_word(&cl->w, FERRY_WORD_SYNC, id) < 0 ||
        wire_discard_until(&cl->w, FERRY_WORD_DELIM, &id, &got) < 0) {
        cl->broken = true;
        return -1;
    }
    return 0;
}

/* A read failed mid-call: say why, and repair the channel if we can. */
int read_failed(struct client *cl, const char *what)
{
    int err = errno;
    char why[sizeof cl->msg];

    if (err == ECONNRESET)
        return lost(cl, "closed the channel (did it crash?)");
    if (err == ETIMEDOUT)
        snprintf(why, sizeof why, "%s: the appliance did not answer for %g s", what,
                 cl->call_timeout_ms / 1000.0);
    else if (err == EBUSY)
        snprintf(why, sizeof why,
                 "%s: still not done after %d s of the appliance saying it is "
                 "working; giving up on the call",
                 what, cl->call_limit_ms / 1000);
    else
        snprintf(why, sizeof why, "%s: garbled reply (%s)", what, cl->w.error);
    err = err == ETIMEDOUT || err == EBUSY ? ETIMEDOUT : EPROTO;
    /* what went wrong stays the message, whether the repair works or not */
    if (client_resync(cl) < 0) {
        fail(cl, err, "%s; the appliance does not answer a resync either: giving up on it", why);
        cl->broken = true;
        return -1;
    }
    return fail(cl, err, "%s%s", why, err == EPROTO ? "; channel resynchronised" : "");
}

void moved(struct client *cl, uint64_t n)
{
    cl->moved += n;
    if (cl->progress)
        cl->progress(cl->progress_opaque, cl->moved, cl->total);
}

/* A progress event tells the size of what is coming; the bytes themselves
 * are counted as they arrive. Keepalives (total 0) say nothing of it. */
void event(struct client *cl, const struct wire_frame *f, uint32_t serial)
{
    struct ferry_progress p;

    if (f->hdr.proc != FERRY_EVENT_PROGRESS || f->hdr.serial != serial || !cl->progress)
        return;
    if (wire_decode(f, (xdrproc_t) xdr_ferry_progress, &p) == 0 && p.total)
        cl->total = p.total;
}

/* The reply to our call: its result into ret, or its error. */
int take_reply(struct client *cl, const char *name, const struct wire_frame *f, xdrproc_t xdr_ret,
               void *ret)
{
    CLEANUP_XDR(ferry_error) e = { 0 };

    if (f->hdr.status == FERRY_OK) {
        if (wire_decode(f, xdr_ret, ret) == 0)
            return 0;
        snprintf(cl->w.error, sizeof cl->w.error, "undecodable result");
        errno = EBADMSG;
        return read_failed(cl, name);
    }
    if (wire_decode(f, (xdrproc_t) xdr_ferry_error, &e) < 0) {
        snprintf(cl->w.error, sizeof cl->w.error, "undecodable error reply");
        errno = EBADMSG;
        return read_failed(cl, name);
    }
    fail(cl, errno_from_name(e.errno_name, e.errnum > 0 && e.errnum < 4096 ? e.errnum : EIO), "%s",
         e.message);
    cl->remote = true;
    return -1;
}
