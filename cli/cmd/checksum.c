/* checksum.c: digests of files, printed as sha256sum and friends do. */
#include <ctype.h>
#include <string.h>

#include "cmd/cmd.h"
#include "output/output.h"

const char *const checksum_algs[] = { "md5", "sha1", "sha256", "sha512", NULL };

static const size_t hex_len[] = { 32, 40, 64, 128 };

int remote_digest(struct session *s, int alg, const char *path, char *hex, size_t size)
{
    ferry_checksum_args a = { .alg = alg, .path = (char *) path };
    CLEANUP_XDR(ferry_checksum_ret) r = { 0 };

    hex[0] = '\0';
    if (rpc_checksum(&s->cl, &a, &r, NULL) < 0)
        return call_failed(s), -1;
    /* what the appliance says is printed as a digest: it must look like one */
    size_t n = strlen(r.hex);
    bool ok = n == hex_len[alg] && n < size;
    for (size_t i = 0; ok && i < n; i++)
        ok = isdigit((unsigned char) r.hex[i]) || (r.hex[i] >= 'a' && r.hex[i] <= 'f');
    if (!ok) {
        report("%s: %s: the appliance's %s is not one", s->command, path, checksum_algs[alg]);
        return -1;
    }
    memcpy(hex, r.hex, n + 1);
    return 0;
}

int cmd_checksum(struct session *s, struct args *a)
{
    const char *alg = opt_val(a, "alg");
    int k = alg ? choice(checksum_algs, alg) : FERRY_SHA256, status = EXIT_OK;

    for (int i = 0; i < a->argc && !s->cl.broken; i++) {
        char hex[129];
        if (remote_digest(s, k, a->argv[i], hex, sizeof hex) < 0) {
            status = EXIT_FAILED;
            continue;
        }
        /* sha256sum's format: digest, two spaces, name */
        printf("%s  ", hex);
        put_name(stdout, a->argv[i], stdout_is_tty());
        putchar('\n');
    }
    return status;
}
