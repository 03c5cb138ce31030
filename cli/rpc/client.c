/* client.c: the host side of ferry's RPC (see client.h, docs/protocol.md). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "rpc/client.h"

static int fail(struct client *cl, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct client *cl, int err, const char *fmt, ...)
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
static int lost(struct client *cl, const char *why)
{
    int err = errno == ETIMEDOUT ? ETIMEDOUT : ECONNRESET;

    cl->broken = true;
    if (!strncmp(why, "the peer ", 9))
        return fail(cl, err, "the appliance %s", why + 9);
    return fail(cl, err, "the appliance %s", why);
}

int client_handshake(struct client *cl, int fd, int launch_timeout_ms)
{
    struct wire_frame f;
    CLEANUP_XDR(ferry_hello) hello = { 0 };

    if (wire_init(&cl->w, fd) < 0)
        return fail(cl, errno, "the channel: %s", strerror(errno));
    if (!cl->chunk_size)
        cl->chunk_size = 256 * 1024;
    cl->w.timeout_ms = launch_timeout_ms;
    cl->w.discard_limit = CLIENT_DISCARD_LIMIT;
    if (wire_read_frame(&cl->w, &f) < 0) {
        if (errno == ETIMEDOUT)
            return fail(cl, ETIMEDOUT, "the appliance did not start within %d s",
                        launch_timeout_ms / 1000);
        if (errno == ECONNRESET)
            return fail(cl, ECONNRESET, "the appliance exited before it said hello");
        return fail(cl, EPROTO, "the appliance's first words are not ferry's: %s", cl->w.error);
    }
    if (f.kind != WIRE_LAUNCH)
        return fail(cl, EPROTO, "the appliance's first words are not ferry's");
    if (wire_read_frame(&cl->w, &f) < 0) {
        if (errno == EPROTONOSUPPORT)
            return fail(cl, EPROTONOSUPPORT, "the appliance %s", cl->w.error);
        return fail(cl, errno, "hello: %s", cl->w.error);
    }
    if (f.kind != WIRE_MESSAGE || f.hdr.type != FERRY_EVENT || f.hdr.proc != FERRY_EVENT_HELLO ||
        wire_decode(&f, (xdrproc_t) xdr_ferry_hello, &hello) < 0)
        return fail(cl, EPROTO, "the appliance sent no valid hello");
    if (hello.protocol_version != FERRY_PROTOCOL_VERSION)
        return fail(cl, EPROTONOSUPPORT,
                    "the appliance speaks protocol version %u; this ferry speaks %u",
                    hello.protocol_version, FERRY_PROTOCOL_VERSION);
    cl->protocol_version = hello.protocol_version;
    snprintf(cl->daemon_version, sizeof cl->daemon_version, "%s", hello.daemon_version);
    snprintf(cl->kernel_version, sizeof cl->kernel_version, "%s", hello.kernel_version);
    cl->capabilities = hello.capabilities;
    cl->w.timeout_ms = cl->call_timeout_ms > 0 ? cl->call_timeout_ms : -1;
    cl->w.write_timeout_ms = cl->w.timeout_ms;
    return 0;
}

void client_free(struct client *cl)
{
    wire_free(&cl->w);
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
static int read_failed(struct client *cl, const char *what)
{
    int err = errno;
    char why[sizeof cl->w.error];

    memcpy(why, cl->w.error, sizeof why);
    if (err == ECONNRESET)
        return lost(cl, "closed the channel (did it crash?)");
    if (client_resync(cl) < 0)
        return lost(cl, "is not responding; giving up on it");
    if (err == ETIMEDOUT)
        return fail(cl, ETIMEDOUT, "%s: the appliance did not answer for %d s", what,
                    cl->call_timeout_ms / 1000);
    if (err == EBUSY)
        return fail(cl, ETIMEDOUT,
                    "%s: still not done after %d s of the appliance saying "
                    "it is working; giving up on the call",
                    what, cl->call_limit_ms / 1000);
    return fail(cl, EPROTO, "%s: garbled reply (%s); channel resynchronised", what, why);
}

static void moved(struct client *cl, uint64_t n)
{
    cl->moved += n;
    if (cl->progress)
        cl->progress(cl->progress_opaque, cl->moved, cl->total);
}

/* A progress event tells the size of what is coming; the bytes themselves
 * are counted as they arrive. Keepalives (total 0) say nothing of it. */
static void event(struct client *cl, const struct wire_frame *f, uint32_t serial)
{
    struct ferry_progress p;

    if (f->hdr.proc != FERRY_EVENT_PROGRESS || f->hdr.serial != serial || !cl->progress)
        return;
    if (wire_decode(f, (xdrproc_t) xdr_ferry_progress, &p) == 0 && p.total)
        cl->total = p.total;
}

/* Read frames until the reply to `serial`; events on the way are handled.
 * With `chunks`, chunks of the call are handed to it first, until the END
 * or CANCEL that closes them. */
struct download {
    const struct xfer *x;
    int err; /* the sink failed with this: cancel sent */
    char msg[256];
};

static int chunk(struct client *cl, struct download *dl, const struct wire_frame *f, bool *closed)
{
    struct ferry_chunk_head head;
    const unsigned char *data;
    size_t len;
    int r = 0;

    if (wire_chunk(f, &head, &data, &len) < 0) {
        errno = EBADMSG;
        snprintf(cl->w.error, sizeof cl->w.error, "malformed chunk");
        return -1;
    }
    switch (head.kind) {
    case FERRY_CHUNK_END:
    case FERRY_CHUNK_CANCEL:
        *closed = true;
        return 0;
    case FERRY_CHUNK_DATA:
        if (!dl->err && (r = dl->x->data(dl->x->opaque, data, len)) == 0)
            moved(cl, len);
        break;
    case FERRY_CHUNK_HOLE:
    case FERRY_CHUNK_BAD:
        /* a length the host cannot seek to is not a file */
        if (head.hole_length > (uint64_t) INT64_MAX - cl->moved ||
            (head.kind == FERRY_CHUNK_BAD && !dl->x->bad)) {
            errno = EBADMSG;
            snprintf(cl->w.error, sizeof cl->w.error, "%s",
                     head.kind == FERRY_CHUNK_BAD ? "an unreadable range nobody asked for"
                                                  : "a hole beyond any file's size");
            return -1;
        }
        if (!dl->err && (r = (head.kind == FERRY_CHUNK_BAD ? dl->x->bad : dl->x->hole)(
                             dl->x->opaque, head.hole_length)) == 0)
            moved(cl, head.hole_length);
        break;
    }
    if (r < 0) {
        /* our side failed (EPIPE, ENOSPC...): stop the sender, keep reading
         * to the end of the transfer so the channel stays in step */
        dl->err = errno ? errno : EIO;
        snprintf(dl->msg, sizeof dl->msg, "%s", strerror(dl->err));
        if (wire_send_word(&cl->w, FERRY_WORD_CANCEL, 0) < 0)
            return -1;
    }
    return 0;
}

/* The reply to our call: its result into ret, or its error. */
static int take_reply(struct client *cl, const char *name, const struct wire_frame *f,
                      xdrproc_t xdr_ret, void *ret)
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

/* A call may go on as long as data moves; events alone (keepalives) hold
 * it for call_limit_ms at most. */
static int64_t call_limit(const struct client *cl)
{
    return cl->call_limit_ms > 0 ? wire_now_ms() + cl->call_limit_ms : -1;
}

static int read_reply(struct client *cl, uint32_t proc, uint32_t serial, xdrproc_t xdr_ret,
                      void *ret, struct download *dl)
{
    const char *name = ferry_proc_name(proc);
    bool closed = dl == NULL;
    int64_t limit = call_limit(cl);
    struct wire_frame f;

    for (;;) {
        if (limit >= 0 && wire_now_ms() > limit) {
            errno = EBUSY;
            return read_failed(cl, name);
        }
        if (wire_read_frame(&cl->w, &f) < 0)
            return read_failed(cl, name);
        if (f.kind != WIRE_MESSAGE || f.hdr.serial != serial)
            continue; /* stray cancel word, or what belonged to an abandoned call */
        switch (f.hdr.type) {
        case FERRY_EVENT:
            event(cl, &f, serial);
            continue;
        case FERRY_CHUNK:
            if (!closed && chunk(cl, dl, &f, &closed) < 0)
                return read_failed(cl, name);
            limit = call_limit(cl); /* data moved */
            continue;
        case FERRY_CALL:
            continue;
        case FERRY_REPLY:
            break;
        }
        if (!closed) {
            errno = EBADMSG;
            snprintf(cl->w.error, sizeof cl->w.error, "reply before the end of the transfer");
            return read_failed(cl, name);
        }
        return take_reply(cl, name, &f, xdr_ret, ret);
    }
}

/* What the daemon says while we send an upload. */
enum heard { HEARD_NOTHING, HEARD_CANCEL, HEARD_REPLY, HEARD_BROKEN };

/* Read what the daemon sent meanwhile: events, a cancel (we close the
 * transfer; its reply follows), or its reply, which ends the call at once
 * (a daemon that refused the call). A reply's result goes to *result. */
static enum heard upload_heard(struct client *cl, uint32_t proc, uint32_t serial, xdrproc_t xdr_ret,
                               void *ret, int *result)
{
    const char *name = ferry_proc_name(proc);
    struct wire_frame f;

    while (wire_input_pending(&cl->w) > 0) {
        if (wire_read_frame(&cl->w, &f) < 0)
            return read_failed(cl, name), HEARD_BROKEN;
        if (f.kind == WIRE_CANCEL) {
            if (wire_send_chunk(&cl->w, proc, serial, FERRY_CHUNK_CANCEL, 0, NULL, 0) < 0)
                return lost(cl, cl->w.error), HEARD_BROKEN;
            return HEARD_CANCEL;
        }
        if (f.kind != WIRE_MESSAGE || f.hdr.serial != serial)
            continue;
        if (f.hdr.type == FERRY_EVENT) {
            event(cl, &f, serial);
            continue;
        }
        if (f.hdr.type == FERRY_REPLY) {
            *result = take_reply(cl, name, &f, xdr_ret, ret);
            return cl->broken ? HEARD_BROKEN : HEARD_REPLY;
        }
        errno = EBADMSG;
        snprintf(cl->w.error, sizeof cl->w.error, "a chunk from the daemon during an upload");
        read_failed(cl, name);
        return HEARD_BROKEN;
    }
    return HEARD_NOTHING;
}

/* Send the chunks of an upload. A local read error cancels it and is
 * recorded in *local_err. Returns 0 when the chunks are sent (the reply
 * comes next), 1 when the daemon has replied already (*result is the
 * call's result), -1 when the channel broke. */
static int upload(struct client *cl, uint32_t proc, uint32_t serial, const struct xfer *x,
                  xdrproc_t xdr_ret, void *ret, int *result, int *local_err, char *local_msg,
                  size_t msgsz)
{
    static unsigned char *buf;

    if (!buf && !(buf = malloc(FERRY_MAX_CHUNK)))
        return fail(cl, ENOMEM, "out of memory");
    for (;;) {
        switch (upload_heard(cl, proc, serial, xdr_ret, ret, result)) {
        case HEARD_NOTHING:
            break;
        case HEARD_CANCEL:
            return 0;
        case HEARD_REPLY:
            return 1;
        case HEARD_BROKEN:
            return -1;
        }
        uint64_t hole = 0;
        enum ferry_chunk_kind kind = FERRY_CHUNK_DATA;
        ssize_t n = x->read(x->opaque, buf, cl->chunk_size, &hole);
        if (n < 0) {
            *local_err = errno ? errno : EIO;
            snprintf(local_msg, msgsz, "%s", strerror(*local_err));
            kind = FERRY_CHUNK_CANCEL;
        } else if (n == 0 && !hole) {
            kind = FERRY_CHUNK_END;
        } else if (hole) {
            kind = FERRY_CHUNK_HOLE;
        }
        size_t len = kind == FERRY_CHUNK_DATA ? (size_t) n : 0;
        if (wire_send_chunk(&cl->w, proc, serial, kind, hole, buf, len) < 0) {
            /* it stopped reading: perhaps because it replied; our chunk is
             * cut short either way, so the stream needs a resync */
            if (errno == ETIMEDOUT &&
                upload_heard(cl, proc, serial, xdr_ret, ret, result) == HEARD_REPLY) {
                if (client_resync(cl) < 0)
                    return lost(cl, "is not responding; giving up on it");
                return 1;
            }
            return lost(cl, cl->w.error);
        }
        if (kind != FERRY_CHUNK_DATA && kind != FERRY_CHUNK_HOLE)
            return 0;
        moved(cl, hole ? hole : (uint64_t) n);
    }
}

int client_call(struct client *cl, uint32_t proc, xdrproc_t xdr_args, void *args, xdrproc_t xdr_ret,
                void *ret, enum ferry_xfer dir, const struct xfer *x)
{
    const char *name = ferry_proc_name(proc);
    struct ferry_header h = ferry_msg_header(proc, FERRY_CALL, 0, FERRY_OK);
    struct download dl = { .x = x };
    int local_err = 0, r;
    char local_msg[256];

    if (cl->broken)
        return fail(cl, ECONNRESET, "the appliance was lost in an earlier call");
    if (++cl->serial == 0)
        cl->serial = 1;
    h.serial = cl->serial;
    cl->moved = 0;
    cl->total = x ? x->total : 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (cl->trace)
        fprintf(stderr, "ferry: call %s (serial %u)\n", name, h.serial);
    if (wire_send(&cl->w, &h, xdr_args, args, NULL, 0) < 0) {
        if (errno == EMSGSIZE)
            return fail(cl, EMSGSIZE, "%s: arguments too large", name);
        return lost(cl, cl->w.error);
    }
    int up = dir == FERRY_XFER_UPLOAD ? upload(cl, proc, h.serial, x, xdr_ret, ret, &r, &local_err,
                                               local_msg, sizeof local_msg)
                                      : 0;
    if (up < 0)
        return -1;
    if (up == 0)
        r = read_reply(cl, proc, h.serial, xdr_ret, ret, dir == FERRY_XFER_DOWNLOAD ? &dl : NULL);
    if (dl.err) {
        local_err = dl.err;
        memcpy(local_msg, dl.msg, sizeof local_msg);
    }
    if (local_err && !cl->broken) {
        if (r == 0)
            xdr_free(xdr_ret, ret);
        r = fail(cl, local_err, "%s", local_msg);
    }
    if (cl->trace) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        fprintf(stderr, "ferry: %s -> %s (%.1f ms)\n", name, r == 0 ? "ok" : cl->msg,
                (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    }
    return r;
}
