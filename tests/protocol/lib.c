/* lib.c: the fixtures of the protocol tests (lib.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "protocol/lib.h"

const char *ferryd;
char root[256]; /* the scratch directory the daemon serves */

/* ---- fixtures ---- */

void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fprintf(stderr, "setup command failed: %s\n", cmd);
}

void fresh_root(void)
{
    if (root[0])
        sh("rm -rf '%s'", root);
    snprintf(root, sizeof root, "/tmp/ferry-protocol-XXXXXX");
    if (!mkdtemp(root))
        abort();
}

char *in_root(const char *rel)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s%s", root, rel);
    return buf[i];
}

/* What tests started and have not stopped: killed by fixtures_teardown. */
static struct {
    pid_t pid;
    int fd;
} running[8];

static void track(pid_t pid, int fd)
{
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (!running[i].pid) {
            running[i].pid = pid;
            running[i].fd = fd;
            return;
        }
}

static void untrack(pid_t pid)
{
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (running[i].pid == pid)
            running[i].pid = 0;
}

void fixtures_teardown(void)
{
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (running[i].pid) {
            kill(running[i].pid, SIGKILL);
            waitpid(running[i].pid, NULL, 0);
            close(running[i].fd);
            running[i].pid = 0;
        }
    fake_pid = 0;
}

static int start(struct peer *p, int fsize_limit, const char *chunk, const char *progress_ms,
                 const char *const *wrapper)
{
    const char *argv[32];
    int sv[2], n = 0;

    memset(p, 0, sizeof *p);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    for (; wrapper && wrapper[n]; n++)
        argv[n] = wrapper[n];
    const char *args[] = { ferryd,      "--root",          root,  "--fd",
                           "3",         "--chunk-size",    chunk, "--progress-ms",
                           progress_ms, "--frame-timeout", "300", NULL };
    memcpy(argv + n, args, sizeof args);
    p->pid = fork();
    if (p->pid == 0) {
        dup2(sv[1], 3);
        if (fsize_limit) {
            struct rlimit rl = { fsize_limit, fsize_limit };
            signal(SIGXFSZ, SIG_IGN);
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        execvp(argv[0], (char **) argv);
        _exit(127);
    }
    close(sv[1]);
    track(p->pid, sv[0]);
    p->cl.call_timeout_ms = 5000;
    p->cl.chunk_size = 65536;
    return client_handshake(&p->cl, sv[0], 5000);
}

int start_daemon_opts(struct peer *p, int fsize_limit, const char *chunk, const char *progress_ms)
{
    return start(p, fsize_limit, chunk, progress_ms, NULL);
}

int start_daemon_wrapped(struct peer *p, const char *const *wrapper)
{
    return start(p, 0, "65536", "250", wrapper);
}

int start_daemon(struct peer *p)
{
    return start(p, 0, "65536", "250", NULL);
}

/* The daemon's peak resident memory, in KiB, read before it exits. */
long daemon_hwm_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

void stop(struct peer *p)
{
    untrack(p->pid);
    if (!p->cl.broken)
        rpc_shutdown(&p->cl, NULL, NULL, NULL);
    close(p->cl.w.fd);
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    client_free(&p->cl);
}

int ping(struct peer *p)
{
    ferry_ping_args a = { .payload = { 5, "hello" } };
    CLEANUP_XDR(ferry_ping_ret) r = { 0 };

    if (rpc_ping(&p->cl, &a, &r, NULL) < 0)
        return -1;
    return r.payload.payload_len == 5 && memcmp(r.payload.payload_val, "hello", 5) == 0 ? 0 : -1;
}

void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, data, len) != (ssize_t) len)
        abort();
    close(fd);
}

size_t read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, size);
    if (fd >= 0)
        close(fd);
    return n < 0 ? 0 : n;
}

double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* ---- sinks and sources ---- */

int mem_data(void *o, const void *buf, size_t len)
{
    struct mem *m = o;
    if (++m->calls == m->fail_at) {
        errno = m->fail_errno ? m->fail_errno : EPIPE;
        return -1;
    }
    if (m->len + len > m->cap) {
        m->cap = (m->len + len) * 2;
        m->buf = realloc(m->buf, m->cap);
    }
    memcpy(m->buf + m->len, buf, len);
    m->len += len;
    return 0;
}

int mem_hole(void *o, uint64_t len)
{
    struct mem *m = o;
    m->holes += len;
    if (m->len + len > m->cap) {
        m->cap = (m->len + len) * 2;
        m->buf = realloc(m->buf, m->cap);
    }
    memset(m->buf + m->len, 0, len);
    m->len += len;
    return 0;
}

ssize_t src_read(void *o, void *buf, size_t len, uint64_t *hole)
{
    struct src *s = o;
    (void) hole;
    if (++s->calls == s->fail_at) {
        errno = EIO;
        return -1;
    }
    if (len > s->piece)
        len = s->piece;
    if (len > s->len - s->pos)
        len = s->len - s->pos;
    memcpy(buf, s->data + s->pos, len);
    s->pos += len;
    return len;
}

unsigned char *pattern(size_t len)
{
    unsigned char *p = malloc(len);
    for (size_t i = 0; i < len; i++)
        p[i] = (i * 2654435761u) >> 13;
    return p;
}

/* ---- a scripted fake daemon, for the client's side of things ---- */

pid_t fake_pid;

int start_fake(struct client *cl, script_fn script, int launch_ms)
{
    int sv[2];

    memset(cl, 0, sizeof *cl);
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    fake_pid = fork();
    if (fake_pid == 0) {
        struct wire w;
        close(sv[0]);
        wire_init(&w, sv[1]);
        w.timeout_ms = 10000;
        script(&w);
        _exit(0);
    }
    close(sv[1]);
    track(fake_pid, sv[0]);
    cl->call_timeout_ms = 700;
    cl->chunk_size = 65536;
    return client_handshake(cl, sv[0], launch_ms);
}

void stop_fake(struct client *cl)
{
    untrack(fake_pid);
    close(cl->w.fd);
    kill(fake_pid, SIGKILL);
    waitpid(fake_pid, NULL, 0);
    client_free(cl);
}

void fake_hello(struct wire *w, unsigned version)
{
    struct ferry_header h = { FERRY_PROGRAM_ID, version, FERRY_EVENT_HELLO, FERRY_EVENT, 0, 0 };
    struct ferry_hello hello = { version, "fake", "none", 0, 65536 };
    wire_send_word(w, FERRY_WORD_LAUNCH, 0);
    wire_send(w, &h, (xdrproc_t) xdr_ferry_hello, &hello, NULL, 0);
}

int fake_read_call(struct wire *w, struct wire_frame *f)
{
    while (wire_read_frame(w, f) == 0)
        if (f->kind == WIRE_MESSAGE && f->hdr.type == FERRY_CALL)
            return 0;
    return -1;
}

void fake_reply(struct wire *w, const struct wire_frame *call, int err, const char *msg)
{
    struct ferry_header h = {
        FERRY_PROGRAM_ID, FERRY_PROTOCOL_VERSION, call->hdr.proc,
        FERRY_REPLY,      call->hdr.serial,       err ? FERRY_ERROR : FERRY_OK
    };
    struct ferry_error e = { (char *) errno_name(err), err, (char *) msg };
    struct ferry_transfer_ret t = { 0 };
    if (err)
        wire_send(w, &h, (xdrproc_t) xdr_ferry_error, &e, NULL, 0);
    else
        wire_send(w, &h, (xdrproc_t) xdr_ferry_transfer_ret, &t, NULL, 0);
}

/* Answer a sync, if one comes. */
void fake_answer_sync(struct wire *w)
{
    uint64_t id;
    if (wire_discard_until(w, FERRY_WORD_SYNC, NULL, &id) == 0)
        wire_send_word(w, FERRY_WORD_DELIM, id);
}

/* ======================= sparse files, memory ======================= */

int out_data(void *op, const void *buf, size_t len)
{
    struct out *q = op;
    if (pwrite(q->fd, buf, len, q->pos) != (ssize_t) len)
        return -1;
    q->pos += len;
    return 0;
}

int out_hole(void *op, uint64_t len)
{
    struct out *q = op;
    q->pos += len;
    q->holes += len;
    return 0;
}

int count_data(void *op, const void *buf, size_t len)
{
    (void) buf;
    *(uint64_t *) op += len;
    return 0;
}

int count_hole(void *op, uint64_t len)
{
    *(uint64_t *) op += len;
    return 0;
}

/* ======================= cancellation ======================= */

/* Bytes the daemon has read from files so far. */
long long daemon_rchar(pid_t pid)
{
    char path[64], line[128];
    long long n = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/io", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "rchar: %lld", &n) == 1)
            break;
    fclose(f);
    return n;
}
