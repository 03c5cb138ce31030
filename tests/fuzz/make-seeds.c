/* make-seeds.c: writes the seed corpora of the two fuzz harnesses from
 * real frames: corpus-daemon/ holds what a client sends, corpus-client/
 * what an appliance sends.   make-seeds DIR */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"

static struct wire w;
static unsigned serial;

static void open_seed(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (w.fd > 0)
        close(w.fd);
    w.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
}

static void call(unsigned proc, xdrproc_t fn, void *args)
{
    struct ferry_header h = {
        FERRY_PROGRAM_ID, FERRY_PROTOCOL_VERSION, proc, FERRY_CALL, ++serial, 0
    };
    wire_send(&w, &h, fn, args, NULL, 0);
}

static void reply(unsigned proc, xdrproc_t fn, void *body, int status)
{
    struct ferry_header h = {
        FERRY_PROGRAM_ID, FERRY_PROTOCOL_VERSION, proc, FERRY_REPLY, serial, status
    };
    wire_send(&w, &h, fn, body, NULL, 0);
}

static void hello(unsigned version)
{
    struct ferry_header h = { FERRY_PROGRAM_ID, version, FERRY_EVENT_HELLO, FERRY_EVENT, 0, 0 };
    struct ferry_hello he = { version, "seed", "6.1", 3, 65536 };
    wire_send_word(&w, FERRY_WORD_LAUNCH, 0);
    wire_send(&w, &h, (xdrproc_t) xdr_ferry_hello, &he, NULL, 0);
}

int main(int argc, char **argv)
{
    char dd[512], dc[512];
    ferry_path_args p = { "/f" };
    ferry_ping_args ping = { { 4, "ping" } };
    ferry_void v;

    if (argc != 2)
        return 2;
    snprintf(dd, sizeof dd, "%s/corpus-daemon", argv[1]);
    snprintf(dc, sizeof dc, "%s/corpus-client", argv[1]);
    /* buffers need a descriptor to be made: each seed replaces it */
    if (wire_init(&w, open("/dev/null", O_WRONLY)) < 0)
        return 1;

    /* ---- client -> daemon */
    open_seed(dd, "ping");
    call(FERRY_PING, (xdrproc_t) xdr_ferry_ping_args, &ping);
    open_seed(dd, "metadata");
    call(FERRY_LSTAT, (xdrproc_t) xdr_ferry_path_args, &p);
    call(FERRY_STAT, (xdrproc_t) xdr_ferry_path_args, &(ferry_path_args){ "/l" });
    call(FERRY_READLINK, (xdrproc_t) xdr_ferry_path_args, &(ferry_path_args){ "/l" });
    call(FERRY_STATVFS, (xdrproc_t) xdr_ferry_path_args, &(ferry_path_args){ "/" });
    open_seed(dd, "list");
    call(FERRY_LIST, (xdrproc_t) xdr_ferry_list_args, &(ferry_list_args){ "/", 1 });
    open_seed(dd, "download-cancel");
    call(FERRY_DOWNLOAD, (xdrproc_t) xdr_ferry_download_args,
         &(ferry_download_args){ "/d/e/z", 1, 0, 1, 65536 });
    wire_send_word(&w, FERRY_WORD_CANCEL, 0);
    call(FERRY_PING, (xdrproc_t) xdr_ferry_ping_args, &ping);
    open_seed(dd, "upload");
    call(FERRY_UPLOAD, (xdrproc_t) xdr_ferry_upload_args, &(ferry_upload_args){ "/u", 0644 });
    wire_send_chunk(&w, FERRY_UPLOAD, serial, FERRY_CHUNK_DATA, 0, "data", 4);
    wire_send_chunk(&w, FERRY_UPLOAD, serial, FERRY_CHUNK_HOLE, 8192, NULL, 0);
    wire_send_chunk(&w, FERRY_UPLOAD, serial, FERRY_CHUNK_END, 0, NULL, 0);
    open_seed(dd, "upload-cancel");
    call(FERRY_UPLOAD, (xdrproc_t) xdr_ferry_upload_args, &(ferry_upload_args){ "/f", 0644 });
    wire_send_chunk(&w, FERRY_UPLOAD, serial, FERRY_CHUNK_DATA, 0, "data", 4);
    wire_send_chunk(&w, FERRY_UPLOAD, serial, FERRY_CHUNK_CANCEL, 0, NULL, 0);
    open_seed(dd, "tree");
    call(FERRY_MKDIR, (xdrproc_t) xdr_ferry_mkdir_args, &(ferry_mkdir_args){ "/x/y", 0755, 1 });
    call(FERRY_CHMOD, (xdrproc_t) xdr_ferry_chmod_args, &(ferry_chmod_args){ "/x", 0700 });
    call(FERRY_CHOWN, (xdrproc_t) xdr_ferry_chown_args, &(ferry_chown_args){ "/x", 0, 0, 1 });
    call(FERRY_RM, (xdrproc_t) xdr_ferry_rm_args, &(ferry_rm_args){ "/x", 1, 0 });
    open_seed(dd, "checksum");
    for (int alg = 0; alg < 4; alg++)
        call(FERRY_CHECKSUM, (xdrproc_t) xdr_ferry_checksum_args,
             &(ferry_checksum_args){ alg, "/f" });
    open_seed(dd, "registry");
    call(FERRY_REG_VALUES, (xdrproc_t) xdr_ferry_reg_args, &(ferry_reg_args){ "/f", "A\\B" });
    call(FERRY_REG_VALUES, (xdrproc_t) xdr_ferry_reg_args, &(ferry_reg_args){ "/d/e/z", "" });
    open_seed(dd, "garbage-then-sync");
    write_all(w.fd, "\x00\x00\x01\x00garbage", 11, -1);
    wire_send_word(&w, FERRY_WORD_SYNC, 42);
    call(FERRY_PING, (xdrproc_t) xdr_ferry_ping_args, &ping);
    open_seed(dd, "unknown-and-appliance-only");
    call(999, (xdrproc_t) xdr_ferry_void, &v);
    call(FERRY_LIST_DEVICES, (xdrproc_t) xdr_ferry_void, &v);
    call(FERRY_MOUNT, (xdrproc_t) xdr_ferry_mount_args,
         &(ferry_mount_args){ "/dev/vda", "/", "", "", 1 });
    call(FERRY_SHUTDOWN, (xdrproc_t) xdr_ferry_void, &v);

    /* ---- daemon -> client: replies to download, list, list_devices, ping */
    open_seed(dc, "session");
    hello(FERRY_PROTOCOL_VERSION);
    serial = 1;
    wire_send_chunk(&w, FERRY_DOWNLOAD, serial, FERRY_CHUNK_DATA, 0, "abc", 3);
    struct ferry_header ph = {
        FERRY_PROGRAM_ID, FERRY_PROTOCOL_VERSION, FERRY_EVENT_PROGRESS, FERRY_EVENT, serial, 0
    };
    struct ferry_progress pg = { 3, 100 };
    wire_send(&w, &ph, (xdrproc_t) xdr_ferry_progress, &pg, NULL, 0);
    wire_send_chunk(&w, FERRY_DOWNLOAD, serial, FERRY_CHUNK_HOLE, 97, NULL, 0);
    wire_send_chunk(&w, FERRY_DOWNLOAD, serial, FERRY_CHUNK_END, 0, NULL, 0);
    /* with extents, as a download the host reads itself is answered */
    ferry_extent ex[2] = { { 0, 4096, 3, false }, { 50, 8192, 50, true } };
    ferry_direct dv = { "sda", 1 << 20, 1 << 24, { 2, ex } };
    ferry_transfer_ret tr = { 100, &dv };
    reply(FERRY_DOWNLOAD, (xdrproc_t) xdr_ferry_transfer_ret, &tr, 0);
    serial = 2;
    {
        unsigned char buf[4096];
        ferry_dirent e[2] = { { "a", { 0 }, "" }, { "b/c", { 0 }, "../a" } };
        ferry_dirent_batch b = { { 2, e } };
        XDR x;
        xdrmem_create(&x, (char *) buf, sizeof buf, XDR_ENCODE);
        xdr_ferry_dirent_batch(&x, &b);
        wire_send_chunk(&w, FERRY_LIST, serial, FERRY_CHUNK_DATA, 0, buf, xdr_getpos(&x));
    }
    wire_send_chunk(&w, FERRY_LIST, serial, FERRY_CHUNK_END, 0, NULL, 0);
    reply(FERRY_LIST, (xdrproc_t) xdr_ferry_void, &v, 0);
    serial = 3;
    ferry_device dev = { "/dev/vda1", FERRY_DEV_PARTITION, "/dev/vda", 1, 1 << 20, "ext4",
                         "root",      "u-u-i-d",           "sda" };
    ferry_devices_ret dr = { { 1, &dev } };
    reply(FERRY_LIST_DEVICES, (xdrproc_t) xdr_ferry_devices_ret, &dr, 0);
    serial = 4;
    ferry_ping_ret pr = { { 4, "ping" } };
    reply(FERRY_PING, (xdrproc_t) xdr_ferry_ping_ret, &pr, 0);

    open_seed(dc, "errors");
    hello(FERRY_PROTOCOL_VERSION);
    serial = 1;
    wire_send_chunk(&w, FERRY_DOWNLOAD, serial, FERRY_CHUNK_CANCEL, 0, NULL, 0);
    struct ferry_error er = { "EIO", 5, "/f: Input/output error" };
    reply(FERRY_DOWNLOAD, (xdrproc_t) xdr_ferry_error, &er, 1);
    write_all(w.fd, "\xf5\xe4\xa0\x04\x00\x00\x00\x00\x00\x00\x00\x07", 12, -1);

    open_seed(dc, "wrong-version");
    hello(FERRY_PROTOCOL_VERSION + 1);
    close(w.fd);
    return 0;
}
