/* version.c: version, ping and hash-image: what ferry is, whether its
 * appliance answers, and the hashes of image files. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "appliance.h"
#include "audit.h"
#include "cmd/cmd.h"
#include "output/output.h"

int cmd_version(struct session *s, struct args *a)
{
    (void) s;
    (void) a;
    printf("ferry %s\nprotocol %u\nkernel %s\nqemu %s\n", FERRY_VERSION, FERRY_PROTOCOL_VERSION,
           appliance_kernel_version(), appliance_qemu_version());
    return EXIT_OK;
}

static double ms_since(const struct timespec *t0, const struct timespec *t1)
{
    return (t1->tv_sec - t0->tv_sec) * 1e3 + (t1->tv_nsec - t0->tv_nsec) / 1e6;
}

int cmd_ping(struct session *s, struct args *a)
{
    struct timespec t0, t1;
    ferry_ping_args args = { .payload = { 4, "ping" } };
    CLEANUP_XDR(ferry_ping_ret) r = { 0 };
    bool tty = stdout_is_tty();

    (void) a;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rpc_ping(&s->cl, &args, &r, NULL) < 0)
        return call_failed(s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (r.payload.payload_len != 4 || memcmp(r.payload.payload_val, "ping", 4) != 0) {
        report("ping: the appliance echoed something else");
        return EXIT_FAILED;
    }
    /* the versions come from the guest: escaped like anything it says */
    printf("pong from ferryd ");
    put_name(stdout, s->cl.daemon_version, tty);
    printf(" (kernel ");
    put_name(stdout, s->cl.kernel_version, tty);
    printf(") in %.3f ms; first reply %.0f ms after ferry started\n", ms_since(&t0, &t1),
           ms_since(&s->began, &t1));
    return EXIT_OK;
}

int cmd_hash_image(struct session *s, struct args *a)
{
    int status = EXIT_OK;

    (void) s;
    for (int i = 0; i < a->argc; i++) {
        char hex[65];
        uint64_t size;
        if (hash_file(a->argv[i], hex, &size) < 0) {
            report("hash-image: %s: %s", a->argv[i], strerror(errno));
            status = EXIT_FAILED;
            continue;
        }
        printf("%s  ", hex);
        put_name(stdout, a->argv[i], stdout_is_tty());
        putchar('\n');
    }
    return status;
}
