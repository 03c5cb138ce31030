/* hostile-daemon.c: a daemon that lies, for the CLI's tests. It speaks
 * ferry's protocol (started like ferryd: --fd N, other options ignored)
 * and misbehaves as $HOSTILE says:
 *
 *   names        listings hold "..", "../escape", "a/b", "/abs" and one
 *                honest "ok"; every download gives "pwned\n" (the default)
 *   escapes      escape sequences and bidi controls in every string it
 *                sends: versions, messages, devices, digests, link targets
 *   stop-reading an upload is never read (the client must time out)
 *   events       a call is answered with keepalive events, for ever
 *   junk         a call is answered with junk bytes, for ever
 *   root-file    "/" is a regular file
 *   hole         a download is a hole of 2^63 bytes
 *   early-reply  an upload is refused at once (ENOSYS), its chunks unread
 *   flood        a listing that never ends
 *   extents      a download is answered with extents on a disk of the
 *                host's (the first 6 bytes of sda), unasked
 *   tree-*       read_tree lies about a file's bytes: tree-inline (fewer
 *                than its size), tree-mid (a stream announced mid-batch),
 *                tree-short (a stream cut short), tree-long (longer than
 *                the file), tree-dir (bytes for a directory), tree-extents
 *                (extents on a disk nobody offered), tree-hole (bytes
 *                where it said a hole is), tree-ranges (data ranges out of
 *                order), tree-name (a name with ".."), tree-none (a file
 *                sent without its bytes); tree-error is honest: one file
 *                unreadable, the next fine */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire.h"

static struct wire w;
static const char *mode = "names";
#define ESC "\033]0;owned\007\033[31m\xe2\x80\xae" /* a title, red, right-to-left */

static void reply(const struct wire_frame *call, xdrproc_t fn, void *body)
{
    struct ferry_header h =
        ferry_msg_header(call->hdr.proc, FERRY_REPLY, call->hdr.serial, FERRY_OK);
    wire_send(&w, &h, fn, body, NULL, 0);
}

static void error(const struct wire_frame *call, int err, const char *msg)
{
    struct ferry_header h =
        ferry_msg_header(call->hdr.proc, FERRY_REPLY, call->hdr.serial, FERRY_ERROR);
    struct ferry_error e = { (char *) errno_name(err), err, (char *) msg };
    wire_send(&w, &h, (xdrproc_t) xdr_ferry_error, &e, NULL, 0);
}

static void batch(const struct wire_frame *call, const char *const *names, int n)
{
    static unsigned char buf[1 << 20];
    ferry_dirent e[64];
    XDR x;

    for (int i = 0; i < n; i++) {
        memset(&e[i], 0, sizeof e[i]);
        e[i].name = (char *) names[i];
        e[i].link = !strcmp(mode, "escapes") ? "target" ESC : "";
        e[i].st.mode = (!strcmp(mode, "escapes") ? S_IFLNK : S_IFREG) | 0644;
        e[i].st.size = 6;
    }
    ferry_dirent_batch b = { { n, e } };
    xdrmem_create(&x, (char *) buf, sizeof buf, XDR_ENCODE);
    xdr_ferry_dirent_batch(&x, &b);
    wire_send_chunk(&w, call->hdr.proc, call->hdr.serial, FERRY_CHUNK_DATA, 0, buf, xdr_getpos(&x));
}

static void list(const struct wire_frame *f)
{
    const char *names[] = { "..", "../escape", "a/b", "/abs", "ok" };
    const char *esc[] = { "name" ESC };
    ferry_void v = 0;

    if (!strcmp(mode, "flood")) {
        char many[64][16];
        const char *p[64];
        for (unsigned long k = 0;; k++) {
            for (int i = 0; i < 64; i++) {
                snprintf(many[i], sizeof many[i], "%lu", k * 64 + i);
                p[i] = many[i];
            }
            batch(f, p, 64);
        }
    }
    if (!strcmp(mode, "escapes"))
        batch(f, esc, 1);
    else
        batch(f, names, 5);
    wire_send_chunk(&w, f->hdr.proc, f->hdr.serial, FERRY_CHUNK_END, 0, NULL, 0);
    reply(f, (xdrproc_t) xdr_ferry_void, &v);
}

static void tree(const struct wire_frame *f)
{
    static unsigned char buf[1 << 16];
    unsigned proc = f->hdr.proc, serial = f->hdr.serial;
    ferry_extent x = { 0, 0, 6, false };
    ferry_range all = { 0, 6 }, disorder[2] = { { 4, 2 }, { 0, 2 } };
    ferry_tree_entry e[2];
    ferry_void v = 0;
    int n = 1;
    XDR xdr;

    memset(e, 0, sizeof e);
    for (int i = 0; i < 2; i++) {
        e[i].ent.name = i ? "ok" : "f";
        e[i].ent.link = "";
        e[i].ent.st.mode = S_IFREG | 0644;
        e[i].ent.st.size = 6;
        e[i].content.kind = FERRY_CONTENT_INLINE;
        e[i].content.ferry_content_u.bytes.bytes_len = 6;
        e[i].content.ferry_content_u.bytes.bytes_val = "pwned\n";
    }
    if (!strcmp(mode, "tree-inline")) {
        e[0].ent.st.size = 10;
    } else if (!strcmp(mode, "tree-mid")) {
        e[0].content.kind = FERRY_CONTENT_STREAM;
        e[0].content.ferry_content_u.data = (typeof(e[0].content.ferry_content_u.data)){ 1, &all };
        n = 2;
    } else if (!strcmp(mode, "tree-short") || !strcmp(mode, "tree-long")) {
        e[0].content.kind = FERRY_CONTENT_STREAM;
        e[0].ent.st.size = mode[5] == 's' ? 100 : 3;
        all.length = e[0].ent.st.size;
        e[0].content.ferry_content_u.data = (typeof(e[0].content.ferry_content_u.data)){ 1, &all };
    } else if (!strcmp(mode, "tree-name")) {
        e[0].ent.name = "../escape";
    } else if (!strcmp(mode, "tree-none")) {
        e[0].content.kind = FERRY_CONTENT_NONE;
    } else if (!strcmp(mode, "tree-hole")) {
        e[0].content.kind = FERRY_CONTENT_STREAM; /* all of it a hole, it says */
        e[0].content.ferry_content_u.data = (typeof(e[0].content.ferry_content_u.data)){ 0, NULL };
    } else if (!strcmp(mode, "tree-ranges")) {
        e[0].content.kind = FERRY_CONTENT_STREAM;
        e[0].content.ferry_content_u.data =
            (typeof(e[0].content.ferry_content_u.data)){ 2, disorder };
    } else if (!strcmp(mode, "tree-dir")) {
        e[0].ent.st.mode = S_IFDIR | 0755;
    } else if (!strcmp(mode, "tree-extents")) {
        e[0].content.kind = FERRY_CONTENT_EXTENTS;
        e[0].content.ferry_content_u.direct = (ferry_direct){ "sda", 0, 1 << 20, { 1, &x } };
    } else if (!strcmp(mode, "tree-error")) {
        e[0].content.kind = FERRY_CONTENT_ERROR;
        e[0].content.ferry_content_u.error = (ferry_content_error){ EACCES, "Permission denied" };
        e[1].ent.st.size = 5;
        e[1].content.ferry_content_u.bytes.bytes_len = 5;
        e[1].content.ferry_content_u.bytes.bytes_val = "fine\n";
        n = 2;
    }
    ferry_tree_batch b = { { n, e } };
    xdrmem_create(&xdr, (char *) buf, sizeof buf, XDR_ENCODE);
    xdr_ferry_tree_batch(&xdr, &b);
    wire_send_chunk(&w, proc, serial, FERRY_CHUNK_DATA, 0, buf, xdr_getpos(&xdr));
    if (e[0].content.kind == FERRY_CONTENT_STREAM)
        wire_send_chunk(&w, proc, serial, FERRY_CHUNK_DATA, 0, "pwned\n", 6);
    wire_send_chunk(&w, proc, serial, FERRY_CHUNK_END, 0, NULL, 0);
    reply(f, (xdrproc_t) xdr_ferry_void, &v);
}

static void devices(const struct wire_frame *f)
{
    ferry_device d[2] = {
        { "/dev/vd", FERRY_DEV_DISK, "", 0, 1 << 20, "", "", "", "sda" },
        { "/dev/vda", FERRY_DEV_DISK, "", 0, 1 << 20, "ext4" ESC, "label" ESC, "uuid" ESC, "sdb" },
    };
    ferry_devices_ret r = { { 2, d } };
    reply(f, (xdrproc_t) xdr_ferry_devices_ret, &r);
}

/* Answer a call the way the mode says; 0 to go on serving. */
static int serve(const struct wire_frame *f)
{
    unsigned proc = f->hdr.proc, serial = f->hdr.serial;
    ferry_void v = 0;

    if (proc == FERRY_SHUTDOWN) {
        reply(f, (xdrproc_t) xdr_ferry_void, &v);
        return -1;
    }
    if (!strcmp(mode, "events") || !strcmp(mode, "junk")) {
        unsigned char junk[4096];
        struct ferry_progress ev = { 0, 0 };
        struct ferry_header h =
            ferry_msg_header(FERRY_EVENT_PROGRESS, FERRY_EVENT, serial, FERRY_OK);
        memset(junk, 0x5a, sizeof junk);
        for (;;) {
            if (mode[0] == 'e' ? wire_send(&w, &h, (xdrproc_t) xdr_ferry_progress, &ev, NULL, 0)
                               : write_all(w.fd, junk, sizeof junk, 5000))
                exit(0);
            if (mode[0] == 'e')
                usleep(100 * 1000);
        }
    }
    if (proc == FERRY_UPLOAD && !strcmp(mode, "stop-reading"))
        pause();
    if (proc == FERRY_UPLOAD && !strcmp(mode, "events-not-reading")) {
        struct ferry_progress ev = { 0, 0 };
        struct ferry_header h =
            ferry_msg_header(FERRY_EVENT_PROGRESS, FERRY_EVENT, serial, FERRY_OK);
        for (;;) { /* busy, it says, and it reads nothing */
            if (wire_send(&w, &h, (xdrproc_t) xdr_ferry_progress, &ev, NULL, 0) < 0)
                exit(0);
            usleep(100 * 1000);
        }
    }
    if (proc == FERRY_UPLOAD && !strcmp(mode, "early-reply")) {
        error(f, ENOSYS, "uploads are not served here");
        pause();
    }
    if (proc == FERRY_PING) {
        ferry_ping_args a = { 0 };
        if (wire_decode(f, (xdrproc_t) xdr_ferry_ping_args, &a) == 0) {
            ferry_ping_ret r = { { a.payload.payload_len, a.payload.payload_val } };
            reply(f, (xdrproc_t) xdr_ferry_ping_ret, &r);
            xdr_free((xdrproc_t) xdr_ferry_ping_args, (char *) &a);
        }
    } else if (proc == FERRY_LSTAT || proc == FERRY_STAT) {
        ferry_stat_ret r = { 0 };
        r.st.mode = (!strcmp(mode, "root-file") ? S_IFREG : S_IFDIR) | 0755;
        reply(f, (xdrproc_t) xdr_ferry_stat_ret, &r);
    } else if (proc == FERRY_LIST) {
        list(f);
    } else if (proc == FERRY_READ_TREE) {
        tree(f);
    } else if (proc == FERRY_LIST_DEVICES) {
        devices(f);
    } else if (proc == FERRY_CHECKSUM) {
        ferry_checksum_ret r = { "0123456789abcdef" ESC "0123456789abcdef0123456789abcdef0123" };
        reply(f, (xdrproc_t) xdr_ferry_checksum_ret, &r);
    } else if (proc == FERRY_READLINK) {
        ferry_readlink_ret r = { "target" ESC };
        reply(f, (xdrproc_t) xdr_ferry_readlink_ret, &r);
    } else if (proc == FERRY_DOWNLOAD) {
        ferry_extent x = { 0, 0, 6, false };
        ferry_direct dv = { "sda", 0, 1 << 20, { 1, &x } };
        ferry_transfer_ret r = { 6, !strcmp(mode, "extents") ? &dv : NULL };
        if (!strcmp(mode, "extents"))
            ; /* no chunks: the host is to read them */
        else if (!strcmp(mode, "hole"))
            wire_send_chunk(&w, proc, serial, FERRY_CHUNK_HOLE, 1ull << 63, NULL, 0);
        else
            wire_send_chunk(&w, proc, serial, FERRY_CHUNK_DATA, 0, "pwned\n", 6);
        wire_send_chunk(&w, proc, serial, FERRY_CHUNK_END, 0, NULL, 0);
        reply(f, (xdrproc_t) xdr_ferry_transfer_ret, &r);
    } else if (!strcmp(mode, "escapes")) {
        error(f, EIO, "message" ESC);
    } else {
        error(f, ENOSYS, "not here");
    }
    return 0;
}

int main(int argc, char **argv)
{
    int fd = 3;
    struct wire_frame f;

    if (getenv("HOSTILE") && *getenv("HOSTILE"))
        mode = getenv("HOSTILE");
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--fd"))
            fd = atoi(argv[i + 1]);
    wire_init(&w, fd);
    w.write_timeout_ms = 20000;
    bool esc = !strcmp(mode, "escapes");
    struct ferry_header hh = ferry_msg_header(FERRY_EVENT_HELLO, FERRY_EVENT, 0, FERRY_OK);
    struct ferry_hello hello = { FERRY_PROTOCOL_VERSION, esc ? "hostile" ESC : "hostile",
                                 esc ? "none" ESC : "none",
                                 !strncmp(mode, "tree-", 5) ? FERRY_CAP_TREE : 0, 65536 };
    wire_send_word(&w, FERRY_WORD_LAUNCH, 0);
    wire_send(&w, &hh, (xdrproc_t) xdr_ferry_hello, &hello, NULL, 0);
    /* it lies, but it answers a sync, so that the client's refusals can
     * be seen on their own */
    while (wire_read_frame(&w, &f) == 0) {
        if (f.kind == WIRE_SYNC)
            wire_send_word(&w, FERRY_WORD_DELIM, f.sync_id);
        if (f.kind == WIRE_MESSAGE && f.hdr.type == FERRY_CALL && serve(&f) < 0)
            return 0;
    }
    return 0;
}
