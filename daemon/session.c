/* session.c: the life of a connection: hello, ping, shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "daemon.h"

struct daemon d = {
    .rootfd = -1,
    .chunk_size = 256 * 1024,
    .progress_ms = 250,
};

int reopen_root(void)
{
    int fd = open(d.root, O_PATH | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (d.rootfd >= 0)
        close(d.rootfd);
    d.rootfd = fd;
    return 0;
}

int send_hello(void)
{
    struct utsname u;
    struct ferry_header h = ferry_msg_header(FERRY_EVENT_HELLO, FERRY_EVENT, 0, FERRY_OK);
    struct ferry_hello hello = {
        .protocol_version = FERRY_PROTOCOL_VERSION,
        .daemon_version = FERRYD_VERSION,
        .kernel_version = uname(&u) == 0 ? u.release : "",
        .capabilities =
            FERRY_CAP_STATX_BTIME | FERRY_CAP_SPARSE | FERRY_CAP_TREE |
            (d.appliance ? FERRY_CAP_MOUNT | FERRY_CAP_EXTENTS | FERRY_CAP_CRYPT | FERRY_CAP_DELETED
                         : 0),
        .chunk_size = d.chunk_size,
    };

    if (wire_send_word(&d.w, FERRY_WORD_LAUNCH, 0) < 0)
        return -1;
    return wire_send(&d.w, &h, (xdrproc_t) xdr_ferry_hello, &hello, NULL, 0);
}

int do_ping(struct call *c, ferry_ping_args *a, ferry_ping_ret *r)
{
    r->payload.payload_len = a->payload.payload_len;
    r->payload.payload_val = malloc(a->payload.payload_len + 1);
    if (!r->payload.payload_val)
        return call_fail(c, ENOMEM, "out of memory");
    memcpy(r->payload.payload_val, a->payload.payload_val, a->payload.payload_len);
    return 0;
}

/* The reply goes first; serve() sees the flag and ends the session. */
static bool shutdown_requested;

int do_shutdown(struct call *c, ferry_void *a, ferry_void *r)
{
    (void) c;
    (void) a;
    (void) r;
    shutdown_requested = true;
    return 0;
}

/* The loop: one frame at a time. A broken stream is not a reason to stop:
 * wait for the client's sync. Only the channel closing, or a shutdown call,
 * ends it. */
void serve(void)
{
    shutdown_requested = false;
    while (!shutdown_requested) {
        struct wire_frame f;
        uint64_t id;

        if (wire_read_frame(&d.w, &f) == 0) {
            serve_frame(&f);
            continue;
        }
        if (errno == ECONNRESET)
            break;
        if (wire_discard_until(&d.w, FERRY_WORD_SYNC, NULL, &id) < 0)
            break;
        wire_send_word(&d.w, FERRY_WORD_DELIM, id);
    }
}
