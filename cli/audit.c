/* audit.c: hash-image, and the audit record of --log: which ferry, which
 * command, when, with what result, and each image's sha256 and size before
 * and after the run, so that an examiner can show an image was not changed. */
#include <errno.h>
#include <fcntl.h>
#include <sha2.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "appliance.h"
#include "ferry.h"

static int exit_status;

void ferry_exit(int status)
{
    exit_status = status;
    exit(status);
}

/* sha256 of a file, as hex, into out[65]; its size into *size. */
static int hash_file(const char *path, char out[65], uint64_t *size)
{
    static unsigned char buf[1 << 20];
    unsigned char sum[SHA256_DIGEST_LENGTH];
    SHA2_CTX ctx;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    SHA256Init(&ctx);
    *size = 0;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return -1;
        }
        SHA256Update(&ctx, buf, n);
        *size += n;
    }
    close(fd);
    SHA256Final(sum, &ctx);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        sprintf(out + 2 * i, "%02x", sum[i]);
    return 0;
}

int cmd_hash_image(struct session *s, int argc, char **argv)
{
    int status = EXIT_OK;

    (void) s;
    if (argc < 2)
        die(EXIT_USAGE, "usage: ferry hash-image IMAGE...");
    for (int i = 1; i < argc; i++) {
        char hex[65];
        uint64_t size;
        if (hash_file(argv[i], hex, &size) < 0) {
            warnx_("hash-image: %s: %s", argv[i], strerror(errno));
            status = EXIT_FAILED;
            continue;
        }
        printf("%s  ", hex);
        put_name(stdout, argv[i], stdout_is_tty());
        putchar('\n');
    }
    return status;
}

/* ---- --log ---- */

static struct {
    const char *file;
    struct session *s;
    int argc;
    char **argv;
    char start[32];
    char before[MAX_IMAGES][65];
    uint64_t size_before[MAX_IMAGES];
} audit;

static void utc_now(char out[32])
{
    struct timespec t;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &t);
    gmtime_r(&t.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", t.tv_nsec / 1000000);
}

static void write_record(void)
{
    struct session *s = audit.s;
    char end[32];
    FILE *f;

    /* the images are hashed again once qemu can no longer touch them */
    if (child_pid > 0) {
        kill(child_pid, SIGKILL);
        waitpid(child_pid, NULL, 0);
        child_pid = 0;
    }
    utc_now(end);
    f = fopen(audit.file, "a");
    if (!f) {
        fprintf(stderr, "ferry: --log %s: %s\n", audit.file, strerror(errno));
        return;
    }
    fprintf(f, "{\"ferry\":\"%s\",\"protocol\":%u,\"appliance_kernel\":", FERRY_VERSION,
            FERRY_PROTOCOL_VERSION);
    put_json_string(f, appliance_kernel_version());
    fprintf(f, ",\"command\":[");
    for (int i = 0; i < audit.argc; i++) {
        if (i)
            fputc(',', f);
        put_json_string(f, audit.argv[i]);
    }
    fprintf(f, "],\"start\":\"%s\",\"end\":\"%s\",\"exit_status\":%d,\"images\":[", audit.start,
            end, exit_status);
    for (int i = 0; i < s->nimages; i++) {
        char after[65] = "";
        uint64_t size = 0;
        bool ok = hash_file(s->images[i].path, after, &size) == 0;
        fprintf(f, "%s{\"path\":", i ? "," : "");
        put_json_string(f, s->images[i].path);
        fprintf(f, ",\"size_before\":%llu,\"sha256_before\":\"%s\",\"size_after\":%llu,"
                   "\"sha256_after\":\"%s\",\"unchanged\":%s}",
                (unsigned long long) audit.size_before[i], audit.before[i],
                (unsigned long long) size, ok ? after : "",
                ok && !strcmp(after, audit.before[i]) && size == audit.size_before[i] ? "true"
                                                                                       : "false");
    }
    fprintf(f, "]}\n");
    fclose(f);
}

void audit_begin(struct session *s, const char *file, int argc, char **argv)
{
    audit.file = file;
    audit.s = s;
    audit.argc = argc;
    audit.argv = argv;
    utc_now(audit.start);
    for (int i = 0; i < s->nimages; i++)
        if (hash_file(s->images[i].path, audit.before[i], &audit.size_before[i]) < 0)
            die(EXIT_FAILED, "--log: %s: %s", s->images[i].path, strerror(errno));
    atexit(write_record);
}
