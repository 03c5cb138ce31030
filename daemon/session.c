/* session.c: the life of a connection: hello, ping, shutdown. */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "daemon.h"

int send_hello(void)
{
    struct utsname u;
    struct ferry_header h = {
        .prog = FERRY_PROGRAM_ID, .vers = FERRY_PROTOCOL_VERSION,
        .proc = FERRY_EVENT_HELLO, .type = FERRY_EVENT,
    };
    struct ferry_hello hello = {
        .protocol_version = FERRY_PROTOCOL_VERSION,
        .daemon_version = FERRYD_VERSION,
        .kernel_version = uname(&u) == 0 ? u.release : "",
        .capabilities = FERRY_CAP_STATX_BTIME | FERRY_CAP_SPARSE |
                        (d.appliance ? FERRY_CAP_MOUNT : 0),
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

/* The reply goes first; main() sees the flag and ends the session. */
bool shutdown_requested;

int do_shutdown(struct call *c, ferry_void *a, ferry_void *r)
{
    (void) c;
    (void) a;
    (void) r;
    shutdown_requested = true;
    return 0;
}
