/* digest.c: digests made on the host, of bytes as they arrive. Under TCG
 * the guest's CPU hashes at a tenth of the host's speed, and the bytes
 * cross the channel faster than the guest can hash them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io/transfer.h"

static const unsigned char zeros[64 * 1024];

void digest_init(struct digest *d, int alg)
{
    d->alg = alg;
    switch (alg) {
    case FERRY_MD5:
        MD5Init(&d->u.md5);
        break;
    case FERRY_SHA1:
        SHA1Init(&d->u.sha1);
        break;
    case FERRY_SHA256:
        SHA256Init(&d->u.sha2);
        break;
    default:
        SHA512Init(&d->u.sha2);
        break;
    }
}

static void update(struct digest *d, const void *buf, size_t len)
{
    switch (d->alg) {
    case FERRY_MD5:
        MD5Update(&d->u.md5, buf, len);
        break;
    case FERRY_SHA1:
        SHA1Update(&d->u.sha1, buf, len);
        break;
    case FERRY_SHA256:
        SHA256Update(&d->u.sha2, buf, len);
        break;
    default:
        SHA512Update(&d->u.sha2, buf, len);
        break;
    }
}

void digest_hex(struct digest *d, char *hex, size_t size)
{
    unsigned char sum[SHA512_DIGEST_LENGTH];
    size_t n;

    switch (d->alg) {
    case FERRY_MD5:
        MD5Final(sum, &d->u.md5);
        n = MD5_DIGEST_LENGTH;
        break;
    case FERRY_SHA1:
        SHA1Final(sum, &d->u.sha1);
        n = SHA1_DIGEST_LENGTH;
        break;
    case FERRY_SHA256:
        SHA256Final(sum, &d->u.sha2);
        n = SHA256_DIGEST_LENGTH;
        break;
    default:
        SHA512Final(sum, &d->u.sha2);
        n = SHA512_DIGEST_LENGTH;
        break;
    }
    hex[0] = '\0';
    for (size_t i = 0; i < n && 2 * i + 2 < size; i++)
        snprintf(hex + 2 * i, 3, "%02x", sum[i]);
}

static int data(void *opaque, const void *buf, size_t len)
{
    if (ferry_interrupted) {
        errno = EINTR;
        return -1;
    }
    update(opaque, buf, len);
    return 0;
}

static int hole(void *opaque, uint64_t len)
{
    while (len) {
        if (ferry_interrupted) {
            errno = EINTR;
            return -1;
        }
        size_t n = len < sizeof zeros ? len : sizeof zeros;
        update(opaque, zeros, n);
        len -= n;
    }
    return 0;
}

struct xfer digest_xfer(struct digest *d)
{
    return (struct xfer){ .data = data, .hole = hole, .opaque = d };
}
