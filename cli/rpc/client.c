/* client.c: the host side of ferry's RPC (see client.h, docs/protocol.md). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "rpc/client.h"
#include "rpc/internal.h"

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

int client_adopt(struct client *cl, int fd)
{
    if (wire_init(&cl->w, fd) < 0)
        return fail(cl, errno, "the channel: %s", strerror(errno));
    if (!cl->chunk_size)
        cl->chunk_size = 256 * 1024;
    cl->w.discard_limit = CLIENT_DISCARD_LIMIT;
    cl->w.timeout_ms = cl->call_timeout_ms > 0 ? cl->call_timeout_ms : -1;
    cl->w.write_timeout_ms = cl->w.timeout_ms;
    return 0;
}

void client_free(struct client *cl)
{
    wire_free(&cl->w);
}

/* -x: a message that may be the daemon's, on stderr with every byte
 * outside printable ASCII as \xNN (escape sequences, bidi controls). */
static void trace_text(const char *s)
{
    for (; *s; s++)
        if (*s >= 0x20 && *s < 0x7f && *s != '\\')
            fputc(*s, stderr);
        else
            fprintf(stderr, "\\x%02x", (unsigned char) *s);
}

/* A call may go on as long as data moves; events alone (keepalives) hold
 * it for call_limit_ms at most. */
static int64_t call_limit(const struct client *cl)
{
    return cl->call_limit_ms > 0 ? wire_now_ms() + cl->call_limit_ms : -1;
}

/* Read frames until the reply to `serial`; events on the way are handled.
 * With a download, its chunks are handed to the sink first, until the END
 * or CANCEL that closes them. */
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
            if (!closed && download_chunk(cl, dl, &f, &closed) < 0)
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
    int up = dir == FERRY_XFER_UPLOAD ? upload_chunks(cl, proc, h.serial, x, xdr_ret, ret, &r,
                                                      &local_err, local_msg, sizeof local_msg)
                                      : 0;
    if (up < 0)
        return -1;
    if (up == 0)
        r = read_reply(cl, proc, h.serial, xdr_ret, ret, dir == FERRY_XFER_DOWNLOAD ? &dl : NULL);
    if (dl.err) {
        local_err = dl.err;
        memcpy(local_msg, dl.msg, sizeof local_msg);
    }
    /* our side failed first (a full disk, a cap): that is the cause, even
     * if the appliance then broke the channel too */
    if (local_err) {
        if (r == 0)
            xdr_free(xdr_ret, ret);
        if (cl->broken)
            snprintf(local_msg + strlen(local_msg), sizeof local_msg - strlen(local_msg),
                     "; then %s", cl->msg);
        bool broken = cl->broken;
        r = fail(cl, local_err, "%s", local_msg);
        cl->broken = broken;
    }
    if (cl->trace) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        fprintf(stderr, "ferry: %s -> ", name);
        trace_text(r == 0 ? "ok" : cl->msg);
        fprintf(stderr, " (%.1f ms)\n",
                (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    }
    return r;
}
