/* errors.c: one test per rejection path: what each side refuses, and
 * what the user is told. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "protocol/lib.h"

TEST(overlong_length_is_rejected_without_allocating)
{
    struct peer p;
    unsigned char word[] = { 0x7f, 0xff, 0xff, 0xff };
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    long before = daemon_hwm_kb(p.pid);
    CHECK(write_all(p.cl.w.fd, word, 4, 1000) == 0, "write");
    CHECK(client_resync(&p.cl) == 0, "resync");
    CHECK(ping(&p) == 0, "call after: %s", p.cl.msg);
    long after = daemon_hwm_kb(p.pid);
    CHECK(after - before < 1024, "daemon grew from %ld to %ld KiB", before, after);
    stop(&p);
}

TEST(unknown_procedure_gets_enosys)
{
    struct peer p;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_void v;
    CHECK(client_call(&p.cl, 999, (xdrproc_t) xdr_ferry_void, &v, (xdrproc_t) xdr_ferry_void, &v,
                      FERRY_XFER_NONE, NULL) < 0,
          "proc 999 succeeded");
    CHECK(p.cl.err == ENOSYS && p.cl.remote, "error %d: %s", p.cl.err, p.cl.msg);
    CHECK(ping(&p) == 0, "daemon still serves: %s", p.cl.msg);
    stop(&p);
}

TEST(malformed_arguments_get_einval)
{
    struct peer p;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    /* lstat wants a string; send a length that runs past the body */
    unsigned char junk[8] = { 0, 0, 0x10, 0, 'a', 'b', 'c', 'd' };
    struct ferry_header h = {
        FERRY_PROGRAM_ID, FERRY_PROTOCOL_VERSION, FERRY_LSTAT, FERRY_CALL, 4242, FERRY_OK
    };
    CHECK(wire_send(&p.cl.w, &h, NULL, NULL, junk, sizeof junk) == 0, "send");
    struct wire_frame f;
    CHECK(wire_read_frame(&p.cl.w, &f) == 0 && f.hdr.serial == 4242 && f.hdr.status == FERRY_ERROR,
          "an error reply");
    CLEANUP_XDR(ferry_error) e = { 0 };
    CHECK(wire_decode(&f, (xdrproc_t) xdr_ferry_error, &e) == 0 && e.errnum == EINVAL &&
              !strcmp(e.errno_name, "EINVAL"),
          "EINVAL");
    CHECK(ping(&p) == 0, "daemon still serves: %s", p.cl.msg);
    stop(&p);
}

static int killer(void *o, const void *buf, size_t len)
{
    (void) buf;
    (void) len;
    kill(*(pid_t *) o, SIGKILL);
    return 0;
}

TEST(daemon_killed_mid_transfer_is_reported_promptly)
{
    struct peer p;
    fresh_root();
    sh("head -c 67108864 /dev/zero > %s/big", root);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    struct xfer x = { .data = killer, .hole = count_hole, .opaque = &p.pid };
    ferry_download_args a = { .path = "/big" };
    ferry_transfer_ret r;
    double t0 = now();
    CHECK(rpc_download(&p.cl, &a, &r, &x) < 0, "download succeeded");
    CHECK(now() - t0 < 3, "took %.1f s", now() - t0);
    CHECK(p.cl.broken && strstr(p.cl.msg, "closed the channel"), "%s", p.cl.msg);
    CHECK(ping(&p) < 0 && strstr(p.cl.msg, "lost"), "later calls fail at once: %s", p.cl.msg);
    stop(&p);
}

/* ---- the client facing a bad or silent daemon ---- */

static void script_wrong_version(struct wire *w)
{
    fake_hello(w, FERRY_PROTOCOL_VERSION + 1);
    sleep(5);
}

TEST(handshake_rejects_other_protocol_version)
{
    struct client cl;
    char want[64];
    snprintf(want, sizeof want, "protocol version %u", FERRY_PROTOCOL_VERSION + 1);
    CHECK(start_fake(&cl, script_wrong_version, 2000) < 0, "handshake succeeded");
    CHECK(cl.err == EPROTONOSUPPORT && strstr(cl.msg, want), "%s", cl.msg);
    stop_fake(&cl);
}

static void script_silent(struct wire *w)
{
    (void) w;
    sleep(10);
}

TEST(launch_timeout_when_no_hello)
{
    struct client cl;
    double t0 = now();
    CHECK(start_fake(&cl, script_silent, 500) < 0, "handshake succeeded");
    CHECK(cl.err == ETIMEDOUT && now() - t0 < 2, "err %d after %.1f s: %s", cl.err, now() - t0,
          cl.msg);
    stop_fake(&cl);
}

static void script_overlong_reply(struct wire *w)
{
    struct wire_frame f;
    unsigned char word[] = { 0x7f, 0xff, 0xff, 0xff };
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    fake_read_call(w, &f);
    write_all(w->fd, word, 4, 1000);
    fake_answer_sync(w);
    sleep(5);
}

TEST(client_rejects_overlong_length)
{
    struct client cl;
    CHECK(start_fake(&cl, script_overlong_reply, 2000) == 0, "%s", cl.msg);
    ferry_ping_args pa = { { 1, "x" } };
    CLEANUP_XDR(ferry_ping_ret) pr = { 0 };
    double t0 = now();
    CHECK(rpc_ping(&cl, &pa, &pr, NULL) < 0, "ping answered");
    CHECK(cl.err == EPROTO && !cl.broken && now() - t0 < 0.5, "err %d after %.2f s: %s", cl.err,
          now() - t0, cl.msg);
    stop_fake(&cl);
}

/* ======================= the served root ======================= */

TEST(paths_stay_inside_the_root)
{
    struct peer p;
    fresh_root();
    sh("mkdir -p %s/etc %s/d && echo inside > %s/etc/passwd && ln -s /etc/passwd %s/d/abs && "
       "ln -s ../../../../../../etc/passwd %s/d/rel",
       root, root, root, root, root);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    const char *paths[] = { "/d/abs", "/d/rel", "/../../etc/passwd", "/d/../../etc/passwd" };
    for (size_t i = 0; i < 4; i++) {
        struct mem m = { 0 };
        struct xfer x = { .data = mem_data, .hole = mem_hole, .opaque = &m };
        ferry_download_args a = { .path = (char *) paths[i] };
        ferry_transfer_ret r;
        CHECK(rpc_download(&p.cl, &a, &r, &x) == 0, "%s: %s", paths[i], p.cl.msg);
        CHECK(m.len == 7 && !memcmp(m.buf, "inside\n", 7), "%s escaped the root", paths[i]);
        free(m.buf);
    }
    stop(&p);
}

TEST(appliance_procedures_refused_on_host)
{
    struct peer p;
    ferry_void v;
    fresh_root();
    mkdir(in_root("/mnt"), 0755);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_mount_args m = { "/dev/vda", "/mnt", "", "", true };
    CHECK(rpc_mount(&p.cl, &m, &v, NULL) < 0 && p.cl.err == ENOTSUP && p.cl.remote, "mount: %s",
          p.cl.msg);
    ferry_path_args u = { .path = "/mnt" };
    CHECK(rpc_umount(&p.cl, &u, &v, NULL) < 0 && p.cl.err == ENOTSUP, "umount: %s", p.cl.msg);
    CLEANUP_XDR(ferry_devices_ret) d = { 0 };
    CHECK(rpc_list_devices(&p.cl, &v, &d, NULL) < 0 && p.cl.err == ENOTSUP, "devices: %s",
          p.cl.msg);
    stop(&p);
}

TEST(error_reply_carries_errno_and_message)
{
    struct peer p;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_path_args a = { .path = "/nope" };
    CLEANUP_XDR(ferry_stat_ret) r = { 0 };
    CHECK(rpc_lstat(&p.cl, &a, &r, NULL) < 0, "lstat of nothing succeeded");
    CHECK(p.cl.err == ENOENT && p.cl.remote, "errno %d", p.cl.err);
    CHECK(strcmp(p.cl.msg, "/nope: No such file or directory") == 0, "message '%s'", p.cl.msg);
    a.path = "relative";
    CHECK(rpc_lstat(&p.cl, &a, &r, NULL) < 0 && p.cl.err == EINVAL, "relative path");
    stop(&p);
}

/* Frames with another serial (an abandoned call's) are passed over. */
static void script_stale_frames_first(struct wire *w)
{
    struct wire_frame f;
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    if (fake_read_call(w, &f) < 0)
        return;
    struct wire_frame call = f;
    struct ferry_header stale =
        ferry_msg_header(call.hdr.proc, FERRY_REPLY, call.hdr.serial - 1, FERRY_OK);
    ferry_ping_ret wrong = { { 5, "stale" } }, right = { { 5, "hello" } };
    wire_send(w, &stale, (xdrproc_t) xdr_ferry_ping_ret, &wrong, NULL, 0);
    wire_send_chunk(w, call.hdr.proc, call.hdr.serial - 1, FERRY_CHUNK_DATA, 0, "old", 3);
    struct ferry_header h = ferry_msg_header(call.hdr.proc, FERRY_REPLY, call.hdr.serial, FERRY_OK);
    wire_send(w, &h, (xdrproc_t) xdr_ferry_ping_ret, &right, NULL, 0);
    sleep(5);
}

TEST(frames_of_another_serial_are_passed_over)
{
    struct client cl;
    CHECK(start_fake(&cl, script_stale_frames_first, 2000) == 0, "%s", cl.msg);
    ferry_ping_args pa = { { 5, "hello" } };
    CLEANUP_XDR(ferry_ping_ret) pr = { 0 };
    CHECK(rpc_ping(&cl, &pa, &pr, NULL) == 0, "%s", cl.msg);
    CHECK(pr.payload.payload_len == 5 && !memcmp(pr.payload.payload_val, "hello", 5),
          "took the stale reply");
    stop_fake(&cl);
}

/* A daemon that refuses an upload at once and reads no chunk: its reason
 * ends the call, not a timeout. */
static void script_refuse_upload(struct wire *w)
{
    struct wire_frame f;
    uint64_t id;
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    if (fake_read_call(w, &f) < 0)
        return;
    fake_reply(w, &f, ENOSYS, "no uploads here");
    /* it reads nothing more until the client's sync */
    sleep(1);
    if (wire_discard_until(w, FERRY_WORD_SYNC, NULL, &id) == 0)
        wire_send_word(w, FERRY_WORD_DELIM, id);
    if (fake_read_call(w, &f) == 0)
        fake_reply(w, &f, 0, NULL);
    sleep(5);
}

TEST(reply_during_an_upload_ends_it)
{
    struct client cl;
    size_t len = 16 << 20;
    unsigned char *data = pattern(len);
    CHECK(start_fake(&cl, script_refuse_upload, 2000) == 0, "%s", cl.msg);
    cl.call_timeout_ms = 5000;
    cl.w.timeout_ms = cl.w.write_timeout_ms = 5000;
    struct src s = { .data = data, .len = len, .piece = 65536 };
    struct xfer x = { .read = src_read, .opaque = &s };
    ferry_upload_args a = { .path = "/x", .mode = 0644 };
    ferry_transfer_ret r;
    double t0 = now();
    CHECK(rpc_upload(&cl, &a, &r, &x) < 0, "the upload went through");
    CHECK(cl.err == ENOSYS && cl.remote && !strcmp(cl.msg, "no uploads here"), "%d: %s", cl.err,
          cl.msg);
    CHECK(now() - t0 < 4, "took %.1f s", now() - t0);
    free(data);
    stop_fake(&cl);
}

TEST(oversized_chunk_is_refused_on_send)
{
    int sv[2];
    struct wire w;
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    CHECK(wire_init(&w, sv[0]) == 0, "wire_init");
    unsigned char *big = calloc(1, FERRY_MAX_CHUNK + 64 * 1024);
    CHECK(wire_send_chunk(&w, FERRY_DOWNLOAD, 1, FERRY_CHUNK_DATA, 0, big, FERRY_MAX_MESSAGE) < 0 &&
              errno == EMSGSIZE,
          "sent");
    char b;
    CHECK(recv(sv[1], &b, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "a byte of it went out");
    free(big);
    wire_free(&w);
    close(sv[0]);
    close(sv[1]);
}

static void script_no_launch_word(struct wire *w)
{
    struct ferry_header h = ferry_msg_header(FERRY_EVENT_HELLO, FERRY_EVENT, 0, FERRY_OK);
    struct ferry_hello hello = { FERRY_PROTOCOL_VERSION, "fake", "none", 0, 65536 };
    wire_send(w, &h, (xdrproc_t) xdr_ferry_hello, &hello, NULL, 0);
    sleep(5);
}

TEST(first_word_other_than_launch_is_refused)
{
    struct client cl;
    CHECK(start_fake(&cl, script_no_launch_word, 2000) < 0, "handshake succeeded");
    CHECK(cl.err == EPROTO && strstr(cl.msg, "first words are not ferry's"), "%s", cl.msg);
    stop_fake(&cl);
}

/* A download the client did not ask unreadable ranges for, or a hole no
 * file can hold: a broken stream, not data. */
static int bad_kind;
static void script_odd_chunk(struct wire *w)
{
    struct wire_frame f;
    uint64_t id;
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    if (fake_read_call(w, &f) < 0)
        return;
    wire_send_chunk(w, f.hdr.proc, f.hdr.serial, bad_kind,
                    bad_kind == FERRY_CHUNK_HOLE ? 1ull << 63 : 100, NULL, 0);
    if (wire_discard_until(w, FERRY_WORD_SYNC, NULL, &id) == 0)
        wire_send_word(w, FERRY_WORD_DELIM, id);
    sleep(5);
}

TEST(impossible_hole_and_unasked_bad_range_are_refused)
{
    int kinds[] = { FERRY_CHUNK_HOLE, FERRY_CHUNK_BAD };
    for (int i = 0; i < 2; i++) {
        struct client cl;
        bad_kind = kinds[i];
        CHECK(start_fake(&cl, script_odd_chunk, 2000) == 0, "%s", cl.msg);
        struct mem m = { 0 };
        struct xfer x = { .data = mem_data, .hole = mem_hole, .opaque = &m };
        ferry_download_args a = { .path = "/f" };
        ferry_transfer_ret r;
        CHECK(rpc_download(&cl, &a, &r, &x) < 0 && cl.err == EPROTO && m.len == 0, "kind %d: %s",
              bad_kind, cl.msg);
        stop_fake(&cl);
    }
}
