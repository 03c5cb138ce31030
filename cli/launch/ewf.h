/* ewf.h: EnCase (E01) images, read by libewf on the host in a confined
 * child of ferry's and served over NBD: to qemu (a disk like any other)
 * and to `ferry verify` (which hashes the media). */
#ifndef FERRY_EWF_H
#define FERRY_EWF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* An EWF (E01) segment's first bytes. */
#define EWF_MAGIC "EVF\x09\x0d\x0a\xff\x00"
#define EWF_MAGIC_SIZE 8

/* What the child learnt when it opened the image; sent once, as is (the
 * two ends are the same program). */
struct ewf_info {
    uint64_t size;       /* the media's bytes */
    uint32_t chunk_size; /* the unit libewf checks (Adler-32) and caches */
    uint32_t segments;   /* .E01, .E02, ... */
    bool has_md5, has_sha1;
    unsigned char md5[16], sha1[20];
    char error[512]; /* why it could not be opened; "" when it was */
};

struct ewf_server {
    pid_t pid;
    int control; /* connections go to the child over it (SCM_RIGHTS) */
    struct ewf_info info;
};

/* Start the server of the E01 whose first segment is path: it finds the
 * other segments, opens them all, gives up every other file and waits for
 * connections. NULL with the reason reported. No other thread may run:
 * the child goes on without exec. */
struct ewf_server *ewf_start(const char *path);
/* A new connection to the server's export: ferry's end of a socketpair,
 * whose other end the child serves (the previous connection, if any, is
 * dropped). -1 with errno. */
int ewf_connect(struct ewf_server *srv);
/* Ends the child and frees. */
void ewf_stop(struct ewf_server *srv);

#endif
