/* verify.c: `ferry verify IMAGE...`: an E01's media read again, every
 * chunk checked by libewf, and hashed on the host against the hashes the
 * acquisition stored in it (MD5, and SHA1 where present), as ewfverify
 * does. No appliance: the media comes from ferry's E01 reader (ewf.c)
 * over the same NBD connection qemu would use. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "io/transfer.h"
#include "launch/ewf.h"
#include "launch/nbd.h"
#include "output/output.h"
#include "signals.h"

/* Damaged chunks named one by one; past this many, only counted. */
#define VERIFY_MAX_NAMED 20
#define VERIFY_READ (1u << 20)

struct tally {
    const char *path;
    uint64_t bad_chunks;
    uint64_t bad_bytes;
};

static void damaged(struct tally *t, uint64_t off, uint32_t len, int err)
{
    if (t->bad_chunks++ < VERIFY_MAX_NAMED)
        report("verify: %s: bytes %llu-%llu: %s", t->path, (unsigned long long) off,
               (unsigned long long) (off + len - 1),
               err == EIO ? "damaged (the chunk's checksum does not match)" : strerror(err));
    t->bad_bytes += len;
}

/* One range, or each of its chunks when the range as a whole fails: 0,
 * 1 (damaged chunks, counted), or -1 (the reader is gone, reported). */
static int read_range(int fd, unsigned char *buf, uint32_t len, uint64_t off, uint32_t chunk,
                      struct tally *t)
{
    int err = nbd_client_read(fd, buf, len, off, -1);
    if (err == 0)
        return 0;
    if (err < 0) {
        report("verify: %s: the image's reader ended at byte %llu (%s)", t->path,
               (unsigned long long) off, errno ? strerror(errno) : "it took too long or crashed");
        return -1;
    }
    for (uint32_t o = 0; o < len; o += chunk) {
        uint32_t n = len - o < chunk ? len - o : chunk;
        if ((err = nbd_client_read(fd, buf + o, n, off + o, -1)) < 0)
            return read_range(fd, buf, n, off + o, chunk, t); /* says it */
        if (err)
            damaged(t, off + o, n, err);
    }
    return 1;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* Compare one stored digest with the one computed; true when they match. */
static bool compare(const char *name, const unsigned char *stored, size_t n, struct digest *d)
{
    char want[2 * 20 + 1], got[2 * 64 + 1];

    hex(stored, n, want);
    digest_hex(d, got, sizeof got);
    bool same = !strcmp(want, got);
    printf("  %-5s stored   %s\n  %-5s computed %s  %s\n", name, want, name, got,
           same ? "match" : "MISMATCH");
    return same;
}

static int verify_one(const char *path)
{
    unsigned char magic[EWF_MAGIC_SIZE];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? pread(fd, magic, sizeof magic, 0) : -1;
    int saved = errno;

    if (fd >= 0)
        close(fd);
    if (got < 0) {
        report("verify: %s: %s", path, strerror(saved));
        return EXIT_FAILED;
    }
    if (got != sizeof magic || memcmp(magic, EWF_MAGIC, sizeof magic)) {
        report("verify: %s: not an E01 (EWF) image; only those carry the hashes to verify "
               "against (ferry hash-image prints any file's sha256)",
               path);
        return EXIT_FAILED;
    }
    struct ewf_server *srv = ewf_start(path);
    if (!srv)
        return EXIT_FAILED;
    const struct ewf_info *info = &srv->info;
    uint64_t size = 0;
    int conn = ewf_connect(srv);
    if (conn < 0 || nbd_client_open(conn, "", &size, -1) < 0 || size != info->size) {
        report("verify: %s: its reader does not answer", path);
        if (conn >= 0)
            close(conn);
        ewf_stop(srv);
        return EXIT_FAILED;
    }
    printf("%s: %u segment%s, %llu bytes of media\n", path, info->segments,
           info->segments == 1 ? "" : "s", (unsigned long long) size);
    if (!info->has_md5 && !info->has_sha1)
        report("verify: %s: stores no hash of its media; its chunks are checked all the same",
               path);

    struct digest md5, sha1;
    struct tally t = { path, 0, 0 };
    struct progress_bar bar;
    unsigned char *buf = malloc(VERIFY_READ);
    int status = buf ? EXIT_OK : EXIT_FAILED;
    digest_init(&md5, FERRY_MD5);
    digest_init(&sha1, FERRY_SHA1);
    progress_begin(&bar);
    for (uint64_t off = 0; buf && off < size && !ferry_interrupted;) {
        uint32_t n = size - off < VERIFY_READ ? size - off : VERIFY_READ;
        int r = read_range(conn, buf, n, off, info->chunk_size, &t);
        if (r < 0) {
            status = EXIT_FAILED;
            break;
        }
        if (!t.bad_chunks) { /* once a chunk is lost, no digest can match */
            digest_update(&md5, buf, n);
            digest_update(&sha1, buf, n);
        }
        off += n;
        progress_hook(&bar, off, size);
    }
    progress_end(&bar);
    free(buf);
    close(conn);
    ewf_stop(srv);
    if (ferry_interrupted)
        return EXIT_FAILED;
    if (status != EXIT_OK)
        return status;
    if (t.bad_chunks) {
        report("verify: %s: FAILED: %llu damaged chunk%s (%llu bytes); the media cannot be "
               "hashed",
               path, (unsigned long long) t.bad_chunks, t.bad_chunks == 1 ? "" : "s",
               (unsigned long long) t.bad_bytes);
        return EXIT_FAILED;
    }
    bool ok = true;
    if (info->has_md5)
        ok &= compare("MD5", info->md5, sizeof info->md5, &md5);
    if (info->has_sha1)
        ok &= compare("SHA1", info->sha1, sizeof info->sha1, &sha1);
    if (!info->has_md5 && !info->has_sha1) {
        printf("%s: every chunk's checksum matches; no stored hash to compare\n", path);
        return EXIT_FAILED;
    }
    if (!ok) {
        report("verify: %s: FAILED: a stored hash does not match the media", path);
        return EXIT_FAILED;
    }
    printf("%s: verified\n", path);
    return EXIT_OK;
}

int cmd_verify(struct session *s, struct args *a)
{
    int status = EXIT_OK;

    (void) s;
    for (int i = 0; i < a->argc && !ferry_interrupted; i++) {
        int r = verify_one(a->argv[i]);
        if (r != EXIT_OK)
            status = r;
        fflush(stdout);
    }
    return status;
}
