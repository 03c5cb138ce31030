/* fuzz-client.c: the client's decoders fed whatever an appliance might
 * send: the handshake, then a download, a listing, a device listing and a
 * ping read their replies from the input. Built with libFuzzer, or with
 * driver.c to replay the corpus in the ordinary tests. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpc/client.h"

static int sink(void *o, const void *buf, size_t len)
{
    (void) buf;
    *(size_t *) o += len;
    return 0;
}

static int hole(void *o, uint64_t len)
{
    (void) o;
    (void) len;
    return 0;
}

/* as ls does: each chunk of a listing is a batch of entries */
static int batch(void *o, const void *buf, size_t len)
{
    ferry_dirent_batch b = { 0 };

    (void) o;
    if (xdr_decode_bytes(buf, len, (xdrproc_t) xdr_ferry_dirent_batch, &b) == 0)
        xdr_free((xdrproc_t) xdr_ferry_dirent_batch, (char *) &b);
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct client cl;
    int sv[2];
    size_t got = 0;

    if (size > 200000)
        return 0;
    signal(SIGPIPE, SIG_IGN);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    pid_t writer = fork();
    if (writer == 0) {
        /* the fake appliance: say the input, read what the client says */
        char buf[65536];
        close(sv[0]);
        write_all(sv[1], data, size, -1);
        shutdown(sv[1], SHUT_WR);
        while (read(sv[1], buf, sizeof buf) > 0)
            ;
        _exit(0);
    }
    close(sv[1]);
    memset(&cl, 0, sizeof cl);
    cl.call_timeout_ms = 1000;
    if (client_handshake(&cl, sv[0], 1000) == 0) {
        struct xfer down = { .data = sink, .hole = hole, .opaque = &got };
        struct xfer list = { .data = batch, .hole = hole };
        ferry_download_args da = { .path = "/f" };
        ferry_list_args la = { .path = "/" };
        ferry_transfer_ret tr;
        ferry_void v;
        ferry_devices_ret dr = { 0 };
        ferry_ping_args pa = { { 1, "x" } };
        ferry_ping_ret pr = { { 0, NULL } };

        if (rpc_download(&cl, &da, &tr, &down) == 0)
            xdr_free((xdrproc_t) xdr_ferry_transfer_ret, (char *) &tr);
        rpc_list(&cl, &la, &v, &list);
        if (rpc_list_devices(&cl, &v, &dr, NULL) == 0)
            xdr_free((xdrproc_t) xdr_ferry_devices_ret, (char *) &dr);
        if (rpc_ping(&cl, &pa, &pr, NULL) == 0)
            xdr_free((xdrproc_t) xdr_ferry_ping_ret, (char *) &pr);
    }
    client_free(&cl);
    close(sv[0]);
    while (waitpid(writer, NULL, 0) < 0 && errno == EINTR)
        ;
    return 0;
}
