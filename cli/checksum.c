/* checksum.c: digests of files, printed as sha256sum and friends do. */
#include <getopt.h>
#include <string.h>

#include "ferry.h"

int cmd_checksum(struct session *s, int argc, char **argv)
{
    static const struct option opts[] = { { "alg", required_argument, 0, 'a' }, { 0, 0, 0, 0 } };
    static const char *const names[] = {
        [FERRY_MD5] = "md5", [FERRY_SHA1] = "sha1",
        [FERRY_SHA256] = "sha256", [FERRY_SHA512] = "sha512",
    };
    ferry_checksum_args a = { .alg = FERRY_SHA256 };
    int c, status = EXIT_OK;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'a')
            return EXIT_USAGE;
        size_t i;
        for (i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcmp(optarg, names[i]) == 0)
                break;
        if (i == sizeof names / sizeof names[0])
            die(EXIT_USAGE, "checksum: --alg takes md5, sha1, sha256 or sha512");
        a.alg = i;
    }
    if (optind >= argc)
        die(EXIT_USAGE, "checksum: which path?");
    for (int i = optind; i < argc; i++) {
        CLEANUP_XDR(ferry_checksum_ret) r = { 0 };
        a.path = argv[i];
        if (rpc_checksum(&s->cl, &a, &r, NULL) < 0) {
            status = call_failed(s);
            continue;
        }
        /* sha256sum's format: digest, two spaces, name */
        printf("%s  ", r.hex);
        put_name(stdout, argv[i], stdout_is_tty());
        putchar('\n');
    }
    return status;
}
