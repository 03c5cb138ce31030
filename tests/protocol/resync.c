/* resync.c: broken streams and timeouts, and the sync that repairs them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "protocol/lib.h"

/* ======================= broken streams, resync ======================= */

TEST(garbage_then_sync_recovers)
{
    struct peer p;
    unsigned char junk[5000];
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (i * 7919) >> 3;
    CHECK(write_all(p.cl.w.fd, junk, sizeof junk, 1000) == 0, "write junk");
    CHECK(client_resync(&p.cl) == 0, "resync");
    CHECK(ping(&p) == 0, "call after the resync: %s", p.cl.msg);
    stop(&p);
}

TEST(truncated_message_then_sync_recovers)
{
    struct peer p;
    unsigned char part[] = { 0, 0, 0, 100, 0x46, 0x45, 0x52, 0x59, 0, 0, 0 };
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    CHECK(write_all(p.cl.w.fd, part, sizeof part, 1000) == 0, "write part");
    usleep(400 * 1000); /* past the daemon's 300 ms frame timeout */
    CHECK(client_resync(&p.cl) == 0, "resync");
    CHECK(ping(&p) == 0, "call after the resync: %s", p.cl.msg);
    /* and a sync that lands inside a half-sent message also recovers */
    CHECK(write_all(p.cl.w.fd, part, sizeof part, 1000) == 0, "write part");
    CHECK(client_resync(&p.cl) == 0, "resync inside a message");
    CHECK(ping(&p) == 0, "call after the resync: %s", p.cl.msg);
    stop(&p);
}

static void script_ignore_call_answer_sync(struct wire *w)
{
    struct wire_frame f;
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    fake_read_call(w, &f);
    fake_answer_sync(w);
    sleep(5);
}

TEST(call_timeout_then_resync)
{
    struct client cl;
    CHECK(start_fake(&cl, script_ignore_call_answer_sync, 2000) == 0, "%s", cl.msg);
    ferry_ping_args pa = { { 1, "x" } };
    CLEANUP_XDR(ferry_ping_ret) pr = { 0 };
    double t0 = now();
    CHECK(rpc_ping(&cl, &pa, &pr, NULL) < 0, "ping answered");
    CHECK(cl.err == ETIMEDOUT && !cl.broken, "err %d broken %d: %s", cl.err, cl.broken, cl.msg);
    CHECK(now() - t0 < 2, "took %.1f s", now() - t0);
    stop_fake(&cl);
}

static void script_ignore_everything(struct wire *w)
{
    struct wire_frame f;
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    fake_read_call(w, &f);
    sleep(10);
}

TEST(failed_resync_gives_up_on_the_appliance)
{
    struct client cl;
    CHECK(start_fake(&cl, script_ignore_everything, 2000) == 0, "%s", cl.msg);
    ferry_ping_args pa = { { 1, "x" } };
    CLEANUP_XDR(ferry_ping_ret) pr = { 0 };
    CHECK(rpc_ping(&cl, &pa, &pr, NULL) < 0, "ping answered");
    CHECK(cl.broken && strstr(cl.msg, "does not answer a resync"), "%s", cl.msg);
    stop_fake(&cl);
}

/* Drive the real daemon by hand: a call of our own, on the raw channel. */
static void raw_call(struct peer *p, uint32_t proc, uint32_t serial, xdrproc_t fn, void *args)
{
    struct ferry_header h = ferry_msg_header(proc, FERRY_CALL, serial, FERRY_OK);
    wire_send(&p->cl.w, &h, fn, args, NULL, 0);
}

/* A sync in the middle of a download: the call is abandoned, the daemon
 * answers with the same id, and serves the next call. */
TEST(sync_during_a_download_is_answered)
{
    struct peer p;
    struct wire_frame f;
    uint64_t id;
    fresh_root();
    sh("head -c 33554432 /dev/zero | tr '\\\\0' x > %s/f", root);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_download_args a = { .path = "/f" };
    raw_call(&p, FERRY_DOWNLOAD, 77, (xdrproc_t) xdr_ferry_download_args, &a);
    CHECK(wire_read_frame(&p.cl.w, &f) == 0 && f.hdr.type == FERRY_CHUNK, "a first chunk");
    CHECK(wire_send_word(&p.cl.w, FERRY_WORD_SYNC, 0x1234) == 0, "sync");
    CHECK(wire_discard_until(&p.cl.w, FERRY_WORD_DELIM, &(uint64_t){ 0x1234 }, &id) == 0,
          "no delimiter: %s", p.cl.w.error);
    CHECK(ping(&p) == 0, "next call: %s", p.cl.msg);
    stop(&p);
}

TEST(sync_during_an_upload_is_answered)
{
    struct peer p;
    uint64_t id;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_upload_args a = { .path = "/up", .mode = 0644 };
    raw_call(&p, FERRY_UPLOAD, 78, (xdrproc_t) xdr_ferry_upload_args, &a);
    CHECK(wire_send_chunk(&p.cl.w, FERRY_UPLOAD, 78, FERRY_CHUNK_DATA, 0, "half", 4) == 0, "chunk");
    CHECK(wire_send_word(&p.cl.w, FERRY_WORD_SYNC, 0x5678) == 0, "sync");
    CHECK(wire_discard_until(&p.cl.w, FERRY_WORD_DELIM, &(uint64_t){ 0x5678 }, &id) == 0,
          "no delimiter: %s", p.cl.w.error);
    CHECK(ping(&p) == 0, "next call: %s", p.cl.msg);
    sh("ls -A %s | grep -q . && touch %s.left; true", root, root);
    char left[300];
    snprintf(left, sizeof left, "%s.left", root);
    CHECK(access(left, F_OK) < 0, "the abandoned upload left a file");
    stop(&p);
}

/* A frame that arrives too slowly as a whole (each byte in time) is not
 * taken: the frame timeout bounds the frame, not each read. */
TEST(frame_dribbled_past_its_deadline_is_dropped)
{
    struct peer p;
    unsigned char frame[256];
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg); /* frame timeout: 300 ms */
    ferry_ping_args pa = { .payload = { 4, "slow" } };
    struct ferry_header h = ferry_msg_header(FERRY_PING, FERRY_CALL, 99, FERRY_OK);
    XDR x;
    xdrmem_create(&x, (char *) frame + 4, sizeof frame - 4, XDR_ENCODE);
    xdr_ferry_header(&x, &h);
    xdr_ferry_ping_args(&x, &pa);
    unsigned len = xdr_getpos(&x);
    frame[0] = len >> 24, frame[1] = len >> 16, frame[2] = len >> 8, frame[3] = len;
    for (unsigned i = 0; i < len + 4; i++) { /* 100 ms a byte: seconds for the frame */
        write_all(p.cl.w.fd, frame + i, 1, 1000);
        usleep(100 * 1000);
    }
    struct wire_frame f;
    p.cl.w.timeout_ms = 500;
    CHECK(wire_read_frame(&p.cl.w, &f) < 0, "the slow frame was answered");
    p.cl.w.timeout_ms = 5000;
    CHECK(client_resync(&p.cl) == 0, "resync");
    CHECK(ping(&p) == 0, "next call: %s", p.cl.msg);
    stop(&p);
}

static void script_wrong_delim_first(struct wire *w)
{
    uint64_t id;
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    if (wire_discard_until(w, FERRY_WORD_SYNC, NULL, &id) < 0)
        return;
    wire_send_word(w, FERRY_WORD_DELIM, id + 1); /* another sync's */
    wire_send_word(w, FERRY_WORD_DELIM, id);
    sleep(5);
}

static void script_wrong_delim_only(struct wire *w)
{
    uint64_t id;
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    if (wire_discard_until(w, FERRY_WORD_SYNC, NULL, &id) == 0)
        wire_send_word(w, FERRY_WORD_DELIM, id ^ 1);
    sleep(5);
}

TEST(delimiter_with_another_id_is_not_taken)
{
    struct client cl;
    CHECK(start_fake(&cl, script_wrong_delim_first, 2000) == 0, "%s", cl.msg);
    CHECK(client_resync(&cl) == 0 && !cl.broken, "the right delimiter came second");
    stop_fake(&cl);
    CHECK(start_fake(&cl, script_wrong_delim_only, 2000) == 0, "%s", cl.msg);
    CHECK(client_resync(&cl) < 0 && cl.broken, "a wrong delimiter was taken");
    stop_fake(&cl);
}
