/* cancel.c: transfers cancelled by either side, at the start, in the middle
 * and at the end; the channel serves the next call after each. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "protocol/lib.h"

/* The receiver (client) cancels a download at chunk `at`: the daemon stops
 * reading soon after, the same channel serves the next call, and the error
 * is the local one. */
static void cancel_download_by_receiver_at(int at)
{
    struct peer p;
    size_t len = 16 << 20; /* 256 chunks of 64 KiB */
    unsigned char *data = pattern(len);
    fresh_root();
    write_file(in_root("/f"), data, len);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    long long before = daemon_rchar(p.pid);
    struct mem m = { .fail_at = at, .fail_errno = ENOSPC };
    struct xfer x = { .data = mem_data, .hole = mem_hole, .opaque = &m };
    ferry_download_args a = { .path = "/f" };
    ferry_transfer_ret r;
    CHECK(rpc_download(&p.cl, &a, &r, &x) < 0, "download went through");
    CHECK(p.cl.err == ENOSPC && !p.cl.remote && !p.cl.broken, "error %d (%s)", p.cl.err, p.cl.msg);
    long long read = daemon_rchar(p.pid) - before;
    if (at < 256)
        CHECK(read < (long long) len - (4 << 20),
              "the daemon read %lld of %zu bytes after the cancel", read, len);
    CHECK(ping(&p) == 0, "next call on the channel: %s", p.cl.msg);
    m = (struct mem){ 0 };
    CHECK(rpc_download(&p.cl, &a, &r, &x) == 0 && m.len == len && !memcmp(m.buf, data, len),
          "a full download after the cancel");
    free(m.buf);
    free(data);
    stop(&p);
}
TEST(cancel_download_by_receiver_at_start)
{
    cancel_download_by_receiver_at(1);
}
TEST(cancel_download_by_receiver_in_middle)
{
    cancel_download_by_receiver_at(128);
}
TEST(cancel_download_by_receiver_at_end)
{
    cancel_download_by_receiver_at(256);
}

/* The sender (client) cancels an upload at read `at`; the old file stays
 * as it was and nothing is left beside it. */
static void cancel_upload_by_sender_at(int at)
{
    struct peer p;
    size_t len = 1 << 20;
    unsigned char *data = pattern(len);
    fresh_root();
    write_file(in_root("/target"), "old contents", 12);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    struct src s = { .data = data, .len = len, .piece = 65536, .fail_at = at };
    struct xfer x = { .read = src_read, .opaque = &s };
    ferry_upload_args a = { .path = "/target", .mode = 0644 };
    ferry_transfer_ret r;
    CHECK(rpc_upload(&p.cl, &a, &r, &x) < 0, "upload went through");
    CHECK(p.cl.err == EIO && !p.cl.remote && !p.cl.broken, "error %d (%s)", p.cl.err, p.cl.msg);
    char buf[64] = "";
    read_file(in_root("/target"), buf, sizeof buf);
    CHECK(strcmp(buf, "old contents") == 0, "old file changed: '%s'", buf);
    CHECK(ping(&p) == 0, "next call: %s", p.cl.msg);
    sh("ls -A %s > %s.ls", root, root);
    char ls[256] = "";
    char lsname[300];
    snprintf(lsname, sizeof lsname, "%s.ls", root);
    read_file(lsname, ls, sizeof ls);
    unlink(lsname);
    CHECK(strcmp(ls, "target\n") == 0, "left behind: %s", ls);
    free(data);
    stop(&p);
}
TEST(cancel_upload_by_sender_at_start)
{
    cancel_upload_by_sender_at(1);
}
TEST(cancel_upload_by_sender_in_middle)
{
    cancel_upload_by_sender_at(8);
}
TEST(cancel_upload_by_sender_at_end)
{
    cancel_upload_by_sender_at(17);
}

/* The receiver (daemon) gives up on an upload: at the start (no such
 * directory), in the middle and at the end (the file size limit). */
static void cancel_upload_by_receiver(const char *path, int limit, int want_err)
{
    struct peer p;
    size_t len = 1 << 20;
    unsigned char *data = pattern(len);
    fresh_root();
    write_file(in_root("/target"), "old contents", 12);
    CHECK(start_daemon_opts(&p, limit, "65536", "250") == 0, "%s", p.cl.msg);
    struct src s = { .data = data, .len = len, .piece = 65536 };
    struct xfer x = { .read = src_read, .opaque = &s };
    ferry_upload_args a = { .path = (char *) path, .mode = 0644 };
    ferry_transfer_ret r;
    CHECK(rpc_upload(&p.cl, &a, &r, &x) < 0, "upload went through");
    CHECK(p.cl.err == want_err && p.cl.remote, "error %d: %s", p.cl.err, p.cl.msg);
    CHECK(strstr(p.cl.msg, strerror(want_err)) != NULL, "message names the cause: %s", p.cl.msg);
    char buf[64] = "";
    read_file(in_root("/target"), buf, sizeof buf);
    CHECK(strcmp(buf, "old contents") == 0, "old file changed: '%s'", buf);
    CHECK(ping(&p) == 0, "next call: %s", p.cl.msg);
    free(data);
    stop(&p);
}
TEST(cancel_upload_by_receiver_at_start)
{
    cancel_upload_by_receiver("/no/such/dir/target", 0, ENOENT);
}
TEST(cancel_upload_by_receiver_in_middle)
{
    cancel_upload_by_receiver("/target", 512 << 10, EFBIG);
}
TEST(cancel_upload_by_receiver_at_end)
{
    cancel_upload_by_receiver("/target", (1 << 20) - 100, EFBIG);
}

/* The sender (daemon) cancels a download: a fake daemon sends some data,
 * a CANCEL chunk and the real error, which the client reports as such. */
static int fake_cancel_after;
static void script_download_error(struct wire *w)
{
    struct wire_frame f;
    static unsigned char block[1000];
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    if (fake_read_call(w, &f) < 0)
        return;
    struct wire_frame call = f;
    for (int i = 0; i < fake_cancel_after; i++)
        wire_send_chunk(w, call.hdr.proc, call.hdr.serial, FERRY_CHUNK_DATA, 0, block,
                        sizeof block);
    wire_send_chunk(w, call.hdr.proc, call.hdr.serial, FERRY_CHUNK_CANCEL, 0, NULL, 0);
    fake_reply(w, &call, EIO, "/f: read at offset 1000: Input/output error");
    /* then serve a ping */
    if (fake_read_call(w, &f) == 0) {
        struct ferry_header h = { FERRY_PROGRAM_ID, FERRY_PROTOCOL_VERSION, f.hdr.proc,
                                  FERRY_REPLY,      f.hdr.serial,           FERRY_OK };
        ferry_ping_ret pr = { { 5, "hello" } };
        wire_send(w, &h, (xdrproc_t) xdr_ferry_ping_ret, &pr, NULL, 0);
    }
    sleep(5);
}

static void cancel_download_by_sender_at(int after)
{
    struct client cl;
    fake_cancel_after = after;
    CHECK(start_fake(&cl, script_download_error, 2000) == 0, "%s", cl.msg);
    struct mem m = { 0 };
    struct xfer x = { .data = mem_data, .hole = mem_hole, .opaque = &m };
    ferry_download_args a = { .path = "/f" };
    ferry_transfer_ret r;
    CHECK(rpc_download(&cl, &a, &r, &x) < 0, "download succeeded");
    CHECK(cl.err == EIO && cl.remote, "error %d", cl.err);
    CHECK(strcmp(cl.msg, "/f: read at offset 1000: Input/output error") == 0,
          "the daemon's error, not just 'cancelled': %s", cl.msg);
    CHECK(m.len == (size_t) after * 1000, "data before the cancel: %zu", m.len);
    ferry_ping_args pa = { { 5, "hello" } };
    CLEANUP_XDR(ferry_ping_ret) pr = { 0 };
    CHECK(rpc_ping(&cl, &pa, &pr, NULL) == 0, "next call: %s", cl.msg);
    free(m.buf);
    stop_fake(&cl);
}
TEST(cancel_download_by_sender_at_start)
{
    cancel_download_by_sender_at(0);
}
TEST(cancel_download_by_sender_in_middle)
{
    cancel_download_by_sender_at(5);
}
TEST(cancel_download_by_sender_at_end)
{
    cancel_download_by_sender_at(10);
}
