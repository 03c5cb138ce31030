/* hostile-daemon.c: a daemon that lies, for the CLI's tests. It speaks
 * ferry's protocol (started like ferryd: --fd N, other options ignored)
 * and answers every listing with names a real filesystem cannot hold:
 * "..", "../escape", "a/b", "/abs", plus one honest "ok". Every download
 * gives "pwned\n". A copy-out must create only "ok". */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire.h"

static struct wire w;

static void reply(const struct wire_frame *call, xdrproc_t fn, void *body)
{
    struct ferry_header h = { FERRY_PROGRAM_ID, FERRY_PROTOCOL_VERSION, call->hdr.proc,
                              FERRY_REPLY,      call->hdr.serial,       FERRY_OK };
    wire_send(&w, &h, fn, body, NULL, 0);
}

int main(int argc, char **argv)
{
    int fd = 3;
    struct wire_frame f;

    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--fd"))
            fd = atoi(argv[i + 1]);
    wire_init(&w, fd);
    struct ferry_header hh = { FERRY_PROGRAM_ID, 1, FERRY_EVENT_HELLO, FERRY_EVENT, 0, 0 };
    struct ferry_hello hello = { FERRY_PROTOCOL_VERSION, "hostile", "none", 0, 65536 };
    wire_send_word(&w, FERRY_WORD_LAUNCH, 0);
    wire_send(&w, &hh, (xdrproc_t) xdr_ferry_hello, &hello, NULL, 0);

    while (wire_read_frame(&w, &f) == 0) {
        if (f.kind != WIRE_MESSAGE || f.hdr.type != FERRY_CALL)
            continue;
        unsigned proc = f.hdr.proc, serial = f.hdr.serial;
        ferry_void v;
        if (proc == FERRY_LSTAT || proc == FERRY_STAT) {
            ferry_stat_ret r = { 0 };
            r.st.mode = S_IFDIR | 0755;
            reply(&f, (xdrproc_t) xdr_ferry_stat_ret, &r);
        } else if (proc == FERRY_LIST) {
            unsigned char buf[4096];
            const char *names[] = { "..", "../escape", "a/b", "/abs", "ok" };
            ferry_dirent e[5];
            for (int i = 0; i < 5; i++) {
                memset(&e[i], 0, sizeof e[i]);
                e[i].name = (char *) names[i];
                e[i].link = "";
                e[i].st.mode = S_IFREG | 0644;
                e[i].st.size = 6;
            }
            ferry_dirent_batch b = { { 5, e } };
            XDR x;
            xdrmem_create(&x, (char *) buf, sizeof buf, XDR_ENCODE);
            xdr_ferry_dirent_batch(&x, &b);
            wire_send_chunk(&w, proc, serial, FERRY_CHUNK_DATA, 0, buf, xdr_getpos(&x));
            wire_send_chunk(&w, proc, serial, FERRY_CHUNK_END, 0, NULL, 0);
            reply(&f, (xdrproc_t) xdr_ferry_void, &v);
        } else if (proc == FERRY_DOWNLOAD) {
            ferry_transfer_ret r = { 6 };
            wire_send_chunk(&w, proc, serial, FERRY_CHUNK_DATA, 0, "pwned\n", 6);
            wire_send_chunk(&w, proc, serial, FERRY_CHUNK_END, 0, NULL, 0);
            reply(&f, (xdrproc_t) xdr_ferry_transfer_ret, &r);
        } else if (proc == FERRY_SHUTDOWN) {
            reply(&f, (xdrproc_t) xdr_ferry_void, &v);
            return 0;
        } else {
            struct ferry_header h = { FERRY_PROGRAM_ID, 1, proc, FERRY_REPLY, serial, FERRY_ERROR };
            struct ferry_error e = { "ENOSYS", 38, "not here" };
            wire_send(&w, &h, (xdrproc_t) xdr_ferry_error, &e, NULL, 0);
        }
    }
    return 0;
}
