/* checksum.c: digests of files, computed with libmd (Debian's libmd-dev). */
#include <errno.h>
#include <fcntl.h>
#include <md5.h>
#include <sha1.h>
#include <sha2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

/* One interface over libmd's four families. */
union digest_ctx {
    MD5_CTX md5;
    SHA1_CTX sha1;
    SHA2_CTX sha2;
};

struct digest {
    const char *name;
    size_t len;
    void (*init)(union digest_ctx *);
    void (*update)(union digest_ctx *, const unsigned char *, size_t);
    void (*final)(unsigned char *, union digest_ctx *);
};

#define ADAPT(fam, ctxmember)                                                                      \
    static void fam##_init(union digest_ctx *x)                                                    \
    {                                                                                              \
        fam##Init(&x->ctxmember);                                                                  \
    }                                                                                              \
    static void fam##_update(union digest_ctx *x, const unsigned char *p, size_t n)                \
    {                                                                                              \
        fam##Update(&x->ctxmember, p, n);                                                          \
    }                                                                                              \
    static void fam##_final(unsigned char *out, union digest_ctx *x)                               \
    {                                                                                              \
        fam##Final(out, &x->ctxmember);                                                            \
    }
ADAPT(MD5, md5)
ADAPT(SHA1, sha1)
ADAPT(SHA256, sha2)
ADAPT(SHA512, sha2)

static const struct digest digests[] = {
    [FERRY_MD5] = { "md5", MD5_DIGEST_LENGTH, MD5_init, MD5_update, MD5_final },
    [FERRY_SHA1] = { "sha1", SHA1_DIGEST_LENGTH, SHA1_init, SHA1_update, SHA1_final },
    [FERRY_SHA256] = { "sha256", SHA256_DIGEST_LENGTH, SHA256_init, SHA256_update, SHA256_final },
    [FERRY_SHA512] = { "sha512", SHA512_DIGEST_LENGTH, SHA512_init, SHA512_update, SHA512_final },
};

int do_checksum(struct call *c, ferry_checksum_args *a, ferry_checksum_ret *r)
{
    static unsigned char buf[1 << 20];
    unsigned char sum[SHA512_DIGEST_LENGTH];
    union digest_ctx ctx;
    const struct digest *dg;
    ssize_t n;
    CLEANUP_CLOSE int fd = -1;

    if ((unsigned) a->alg >= sizeof digests / sizeof digests[0])
        return call_fail(c, EINVAL, "unknown checksum algorithm %d", a->alg);
    dg = &digests[a->alg];
    fd = open_regular(c, a->path);
    if (fd < 0)
        return -1;
    dg->init(&ctx);
    for (uint64_t pos = 0; (n = read(fd, buf, sizeof buf)) != 0; pos += n) {
        if (n < 0 && errno == EINTR) {
            n = 0;
            continue;
        }
        if (n < 0)
            return call_fail(c, errno, "%s: %s at offset %llu", a->path, strerror(errno),
                             (unsigned long long) pos);
        dg->update(&ctx, buf, n);
    }
    dg->final(sum, &ctx);
    r->hex = malloc(dg->len * 2 + 1);
    if (!r->hex)
        return call_fail(c, ENOMEM, "out of memory");
    for (size_t i = 0; i < dg->len; i++)
        sprintf(r->hex + 2 * i, "%02x", sum[i]);
    return 0;
}
