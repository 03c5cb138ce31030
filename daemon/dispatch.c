/* dispatch.c: the procedure table, made from ferry.x, and serving a call:
 * decode, run the handler, close its transfer, reply. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"

struct proc {
    const char *name;
    xdrproc_t xdr_args;
    size_t args_size;
    xdrproc_t xdr_ret;
    size_t ret_size;
    int (*run)(struct call *c, void *args, void *ret);
    enum ferry_xfer xfer;
};

/* Each procedure of ferry.x has a handler do_NAME with its own types; a
 * missing one fails the link, so the table cannot drift from the .x file. */
#define DECLARE(num, name, A, R, dir) int do_##name(struct call *, A *, R *);
FERRY_PROCS(DECLARE)
#define WRAP(num, name, A, R, dir)                                                                 \
    static int run_##name(struct call *c, void *a, void *r)                                        \
    {                                                                                              \
        return do_##name(c, a, r);                                                                 \
    }
FERRY_PROCS(WRAP)
#define ENTRY(num, name, A, R, dir)                                                                \
    [num] = { #name,     (xdrproc_t) xdr_##A, sizeof(A),       (xdrproc_t) xdr_##R,                \
              sizeof(R), run_##name,          FERRY_XFER_##dir },
static const struct proc procs[] = { FERRY_PROCS(ENTRY) };

#define NPROCS (sizeof procs / sizeof procs[0])

int call_fail(struct call *c, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    c->err = err;
    errno = err;
    return -1;
}

int call_fail_errno(struct call *c, int err, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    n = strlen(c->msg);
    snprintf(c->msg + n, sizeof c->msg - n, ": %s", strerror(err));
    c->err = err;
    errno = err;
    return -1;
}

int call_prefix(struct call *c, const char *prefix)
{
    char inner[sizeof c->msg];

    if (c->err == ECANCELED || c->dead || c->lost)
        return -1;
    memcpy(inner, c->msg, sizeof inner);
    snprintf(c->msg, sizeof c->msg, "%s: %s", prefix, inner);
    errno = c->err;
    return -1;
}

void call_interrupted(struct call *c, const struct wire_frame *f, int r)
{
    if (r < 0) {
        if (errno == ECONNRESET)
            c->dead = true;
        else
            c->lost = true;
        call_fail(c, errno, "%s", d.w.error);
    } else if (f->kind == WIRE_SYNC) {
        c->have_sync = true;
        c->sync_id = f->sync_id;
        call_fail(c, ECANCELED, "interrupted by a sync");
    } else {
        c->lost = true;
        call_fail(c, EPROTO, "unexpected frame during a transfer");
    }
}

static void reply_error(struct call *c);

static void reply(struct call *c, int status, xdrproc_t xdr_body, const void *body)
{
    struct ferry_header h = ferry_msg_header(c->proc, FERRY_REPLY, c->serial, status);

    if (wire_send(&d.w, &h, xdr_body, body, NULL, 0) == 0)
        return;
    if (errno == EMSGSIZE && status == FERRY_OK) {
        call_fail(c, EMSGSIZE, "%s: the result is too large for one message",
                  ferry_proc_name(c->proc));
        reply_error(c);
    } else {
        c->dead = true;
    }
}

static void reply_error(struct call *c)
{
    struct ferry_error e = {
        .errno_name = (char *) errno_name(c->err),
        .errnum = c->err,
        .message = c->msg,
    };
    reply(c, FERRY_ERROR, (xdrproc_t) xdr_ferry_error, &e);
}

/* The receiver of an upload gave up: tell the sender and skip its chunks
 * up to the END or CANCEL that closes them. */
static void drain_upload(struct call *c)
{
    struct wire_frame f;
    struct ferry_chunk_head head;
    const unsigned char *data;
    size_t len;

    if (wire_send_word(&d.w, FERRY_WORD_CANCEL, 0) < 0) {
        c->dead = true;
        return;
    }
    while (!c->closed) {
        int r = wire_read_frame(&d.w, &f);
        if (r == 0 && f.kind == WIRE_MESSAGE && f.hdr.type == FERRY_CHUNK &&
            f.hdr.serial == c->serial && wire_chunk(&f, &head, &data, &len) == 0) {
            c->closed = head.kind == FERRY_CHUNK_END || head.kind == FERRY_CHUNK_CANCEL;
            continue;
        }
        call_interrupted(c, &f, r);
        return;
    }
}

/* Close the transfer of a call that moves a file, whatever the handler did. */
static void close_transfer(struct call *c, const struct proc *p, int r)
{
    if (c->closed || c->lost || c->dead || c->have_sync)
        return;
    if (p->xfer == FERRY_XFER_DOWNLOAD) {
        enum ferry_chunk_kind k = r == 0 ? FERRY_CHUNK_END : FERRY_CHUNK_CANCEL;
        if (wire_send_chunk(&d.w, c->proc, c->serial, k, 0, NULL, 0) < 0)
            c->dead = true;
        c->closed = true;
    } else if (p->xfer == FERRY_XFER_UPLOAD) {
        drain_upload(c);
    }
}

static void serve_call(const struct wire_frame *f)
{
    struct call c = { .proc = f->hdr.proc, .serial = f->hdr.serial };
    const struct proc *p = c.proc < NPROCS ? &procs[c.proc] : NULL;
    /* Sized for the largest arguments and result of any procedure. */
    union {
#define MEMBER(num, name, A, R, dir)                                                               \
    A a_##name;                                                                                    \
    R r_##name;
        FERRY_PROCS(MEMBER)
    } args, ret;
    int r;

    memset(&args, 0, sizeof args);
    memset(&ret, 0, sizeof ret);
    if (!p || !p->run) {
        call_fail(&c, ENOSYS, "unknown procedure %u", c.proc);
        c.proc = 0;
        reply_error(&c);
        return;
    }
    if (wire_decode(f, p->xdr_args, &args) < 0) {
        r = call_fail(&c, EINVAL, "%s: malformed arguments", p->name);
    } else if (p->xfer == FERRY_XFER_NONE) {
        /* it sends nothing until its reply: keepalives cover all of it */
        busy_begin(&c);
        r = p->run(&c, &args, &ret);
        busy_end(&c);
        xdr_free(p->xdr_args, (char *) &args);
    } else {
        r = p->run(&c, &args, &ret);
        xdr_free(p->xdr_args, (char *) &args);
    }
    close_transfer(&c, p, r);
    if (c.dead)
        return;
    if (c.have_sync) {
        if (wire_send_word(&d.w, FERRY_WORD_DELIM, c.sync_id) < 0)
            c.dead = true;
    } else if (c.lost) {
        uint64_t id;
        if (wire_discard_until(&d.w, FERRY_WORD_SYNC, NULL, &id) == 0)
            wire_send_word(&d.w, FERRY_WORD_DELIM, id);
    } else if (r < 0) {
        reply_error(&c);
    } else {
        reply(&c, FERRY_OK, p->xdr_ret, &ret);
    }
    xdr_free(p->xdr_ret, (char *) &ret);
}

void serve_frame(const struct wire_frame *f)
{
    switch (f->kind) {
    case WIRE_SYNC:
        wire_send_word(&d.w, FERRY_WORD_DELIM, f->sync_id);
        break;
    case WIRE_MESSAGE:
        /* Chunks of a transfer already closed (the client went on sending
         * after our cancel) are dropped; so are stray cancels. */
        if (f->hdr.type == FERRY_CALL)
            serve_call(f);
        break;
    default:
        break;
    }
}
