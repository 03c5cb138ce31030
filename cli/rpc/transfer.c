/* transfer.c: the file a call moves: a download's chunks handed to the
 * sink, an upload's chunks sent while listening to the daemon. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/client.h"
#include "rpc/internal.h"

int download_chunk(struct client *cl, struct download *dl, const struct wire_frame *f, bool *closed)
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
    /* an honest sender stops at its next chunk; one that goes on after our
     * cancel is not honest, and would keep us reading for ever */
    if (dl->err && (dl->after_cancel += len + 64) > CLIENT_DISCARD_LIMIT) {
        errno = EBADMSG;
        snprintf(cl->w.error, sizeof cl->w.error, "the transfer went on after a cancel");
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

/* What the daemon says while we send an upload. */
enum heard { HEARD_NOTHING, HEARD_CANCEL, HEARD_REPLY, HEARD_BROKEN };

/* Read what the daemon sent meanwhile: events, a cancel (its reply
 * follows once we close the transfer), or its reply, which ends the call at
 * once (a daemon that refused the call). A reply's result goes to *result.
 * Nothing is sent here: a frame of ours may be half written. */
static enum heard upload_heard(struct client *cl, uint32_t proc, uint32_t serial, xdrproc_t xdr_ret,
                               void *ret, int *result)
{
    const char *name = ferry_proc_name(proc);
    struct wire_frame f;

    while (wire_input_pending(&cl->w) > 0) {
        if (wire_read_frame(&cl->w, &f) < 0)
            return read_failed(cl, name), HEARD_BROKEN;
        if (f.kind == WIRE_CANCEL)
            return HEARD_CANCEL;
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

static size_t pending_bytes(const struct wire *w)
{
    size_t n = 0;

    for (int i = 0; i < w->npending; i++)
        n += w->pending[i].iov_len;
    return n;
}

/* Send one chunk; while the channel is full, listen: the daemon may cancel
 * (the chunk is finished, then *cancelled) or reply (the chunk is dropped
 * half written and the stream resynchronised). Its events are no sign that
 * it reads: the chunk must move within the write timeout, events or not.
 * 0 sent, 1 replied, -1 the channel broke. */
static int send_listening(struct client *cl, uint32_t proc, uint32_t serial,
                          enum ferry_chunk_kind kind, uint64_t hole, const void *data, size_t len,
                          xdrproc_t xdr_ret, void *ret, int *result, bool *cancelled)
{
    cl->w.write_yields = true;
    int r = wire_send_chunk(&cl->w, proc, serial, kind, hole, data, len);
    int64_t deadline = wire_deadline(cl->w.write_timeout_ms);
    size_t left = pending_bytes(&cl->w);
    while (r < 0 && errno == EAGAIN) {
        if (pending_bytes(&cl->w) < left) { /* it read some: a new limit */
            left = pending_bytes(&cl->w);
            deadline = wire_deadline(cl->w.write_timeout_ms);
        } else if (wire_left_ms(deadline) == 0) {
            cl->w.write_yields = false;
            errno = ETIMEDOUT;
            return lost(cl, "stopped reading (it only sent events)");
        }
        switch (upload_heard(cl, proc, serial, xdr_ret, ret, result)) {
        case HEARD_BROKEN:
            cl->w.write_yields = false;
            return -1;
        case HEARD_REPLY:
            cl->w.write_yields = false;
            cl->w.npending = 0;
            if (client_resync(cl) < 0)
                cl->broken = true; /* the reply is still the answer */
            return 1;
        case HEARD_CANCEL:
            *cancelled = true;
            break;
        case HEARD_NOTHING:
            break;
        }
        r = wire_resume(&cl->w);
    }
    cl->w.write_yields = false;
    if (r < 0)
        return lost(cl, cl->w.error);
    return 0;
}

/* Send the chunks of an upload. A local read error cancels it and is
 * recorded in *local_err. Returns 0 when the chunks are sent (the reply
 * comes next), 1 when the daemon has replied already (*result is the
 * call's result), -1 when the channel broke. */
int upload_chunks(struct client *cl, uint32_t proc, uint32_t serial, const struct xfer *x,
                  xdrproc_t xdr_ret, void *ret, int *result, int *local_err, char *local_msg,
                  size_t msgsz)
{
    static unsigned char *buf;
    bool cancelled = false;

    if (!buf && !(buf = malloc(FERRY_MAX_CHUNK)))
        return fail(cl, ENOMEM, "out of memory");
    for (;;) {
        enum heard h = upload_heard(cl, proc, serial, xdr_ret, ret, result);
        if (h == HEARD_BROKEN)
            return -1;
        if (h == HEARD_REPLY)
            return 1;
        uint64_t hole = 0;
        enum ferry_chunk_kind kind = FERRY_CHUNK_DATA;
        ssize_t n = 0;
        if (h == HEARD_CANCEL || cancelled) {
            kind = FERRY_CHUNK_CANCEL; /* the daemon gave up: close the transfer */
        } else if ((n = x->read(x->opaque, buf, cl->chunk_size, &hole)) < 0) {
            *local_err = errno ? errno : EIO;
            snprintf(local_msg, msgsz, "%s", strerror(*local_err));
            kind = FERRY_CHUNK_CANCEL;
        } else if (n == 0 && !hole) {
            kind = FERRY_CHUNK_END;
        } else if (hole) {
            kind = FERRY_CHUNK_HOLE;
        }
        size_t len = kind == FERRY_CHUNK_DATA ? (size_t) n : 0;
        int r = send_listening(cl, proc, serial, kind, hole, buf, len, xdr_ret, ret, result,
                               &cancelled);
        if (r != 0)
            return r;
        if (kind != FERRY_CHUNK_DATA && kind != FERRY_CHUNK_HOLE)
            return 0;
        moved(cl, hole ? hole : (uint64_t) n);
    }
}
