/* audit.c: the audit record of --log: which ferry, which command as typed,
 * when, with what result, each image's sha256 and size before and after
 * the run (so that an examiner can show an image was not changed), and the
 * ranges that could not be read. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "appliance.h"
#include "audit.h"
#include "io/transfer.h"
#include "launch/session.h"
#include "output/output.h"

int hash_file(const char *path, char out[65], uint64_t *size)
{
    static unsigned char buf[1 << 20];
    struct digest d;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    digest_init(&d, FERRY_SHA256);
    *size = 0;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return -1;
        }
        digest_update(&d, buf, n);
        *size += n;
    }
    close(fd);
    digest_hex(&d, out, 65);
    return 0;
}

/* ---- --log ---- */

static struct {
    const char *file;
    struct session *s;
    int argc;
    char **argv; /* a copy: the command line as typed */
    char start[32];
    char before[MAX_IMAGES][65];
    uint64_t size_before[MAX_IMAGES];
    struct unreadable {
        char *path;
        uint64_t offset, length;
    } * bad;
    size_t nbad;
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

void audit_unreadable(const char *path, uint64_t offset, uint64_t length)
{
    struct unreadable *v;

    if (!audit.file || !(v = realloc(audit.bad, (audit.nbad + 1) * sizeof *v)))
        return;
    audit.bad = v;
    v[audit.nbad++] = (struct unreadable){ strdup(path), offset, length };
}

void audit_end(int exit_status)
{
    struct session *s = audit.s;
    char end[32], *rec = NULL;
    size_t len = 0;
    FILE *f;

    if (!audit.file)
        return;
    /* the images are hashed again once qemu can no longer touch them */
    if (session_child > 0) {
        kill(session_child, SIGKILL);
        waitpid(session_child, NULL, 0);
        session_child = 0;
    }
    utc_now(end);
    /* the record is made in memory and appended in one write, so that the
     * records of runs in parallel never mix */
    if (!(f = open_memstream(&rec, &len))) {
        report("--log %s: %s", audit.file, strerror(errno));
        return;
    }
    fprintf(f, "{\"ferry\":\"%s\",\"protocol\":%u,\"appliance_kernel\":", FERRY_VERSION,
            FERRY_PROTOCOL_VERSION);
    json_string(f, appliance_kernel_version());
    fprintf(f, ",\"command\":[");
    for (int i = 0; i < audit.argc; i++) {
        if (i)
            fputc(',', f);
        json_string(f, audit.argv[i]);
    }
    fprintf(f, "],\"start\":\"%s\",\"end\":\"%s\",\"exit_status\":%d,\"images\":[", audit.start,
            end, exit_status);
    for (int i = 0; i < s->nimages; i++) {
        char after[65] = "";
        uint64_t size = 0;
        bool ok = hash_file(s->images[i].path, after, &size) == 0;
        fprintf(f, "%s{\"path\":", i ? "," : "");
        json_string(f, s->images[i].path);
        fprintf(f,
                ",\"size_before\":%llu,\"sha256_before\":\"%s\",\"size_after\":%llu,"
                "\"sha256_after\":\"%s\",\"unchanged\":%s}",
                (unsigned long long) audit.size_before[i], audit.before[i],
                (unsigned long long) size, ok ? after : "",
                ok && !strcmp(after, audit.before[i]) && size == audit.size_before[i] ? "true"
                                                                                      : "false");
    }
    fprintf(f, "],\"unreadable\":[");
    for (size_t i = 0; i < audit.nbad; i++) {
        fprintf(f, "%s{\"path\":", i ? "," : "");
        json_string(f, audit.bad[i].path ? audit.bad[i].path : "");
        fprintf(f, ",\"offset\":%llu,\"length\":%llu}", (unsigned long long) audit.bad[i].offset,
                (unsigned long long) audit.bad[i].length);
    }
    fprintf(f, "]}\n");
    if (fclose(f) != 0) {
        report("--log %s: %s", audit.file, strerror(errno));
        free(rec);
        return;
    }
    int fd = open(audit.file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        report("--log %s: %s", audit.file, strerror(errno));
    } else {
        ssize_t n = write(fd, rec, len);
        if (n != (ssize_t) len)
            report("--log %s: %s", audit.file, n < 0 ? strerror(errno) : "short write");
        else if (close(fd) != 0)
            report("--log %s: %s", audit.file, strerror(errno));
        if (n != (ssize_t) len)
            close(fd);
    }
    free(rec);
}

int audit_begin(struct session *s, const char *file, int argc, char **argv)
{
    audit.s = s;
    audit.argc = argc;
    audit.argv = argv;
    utc_now(audit.start);
    for (int i = 0; i < s->nimages; i++)
        if (hash_file(s->images[i].path, audit.before[i], &audit.size_before[i]) < 0) {
            report("--log: %s: %s", s->images[i].path, strerror(errno));
            return -1;
        }
    audit.file = file;
    return 0;
}
