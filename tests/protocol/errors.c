/* errors.c: one test per rejection path: what each side refuses, and
 * what the user is told. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
    fake_hello(w, 2);
    sleep(5);
}

TEST(handshake_rejects_other_protocol_version)
{
    struct client cl;
    CHECK(start_fake(&cl, script_wrong_version, 2000) < 0, "handshake succeeded");
    CHECK(cl.err == EPROTONOSUPPORT && strstr(cl.msg, "protocol version 2"), "%s", cl.msg);
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
