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
    CHECK(cl.broken && strstr(cl.msg, "not responding"), "%s", cl.msg);
    stop_fake(&cl);
}
