/* protocol.c: the RPC client against the real daemon (ferryd serving a
 * scratch directory over a socketpair), and against scripted fake daemons
 * for what a real one cannot be made to do on demand. No VM is needed.
 *
 *   protocol FERRYD [NAME-FILTER] */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "harness.h"

static const char *ferryd;
static char root[256];          /* the scratch directory the daemon serves */

/* ---- fixtures ---- */

struct peer {
    struct client cl;
    pid_t pid;
};

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fprintf(stderr, "setup command failed: %s\n", cmd);
}

static void fresh_root(void)
{
    if (root[0])
        sh("rm -rf '%s'", root);
    snprintf(root, sizeof root, "/tmp/ferry-protocol-XXXXXX");
    if (!mkdtemp(root))
        abort();
}

static char *in_root(const char *rel)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s%s", root, rel);
    return buf[i];
}

/* Start ferryd on a socketpair; extra arguments are passed to it. */
static int start_daemon_opts(struct peer *p, int fsize_limit, const char *chunk,
                             const char *progress_ms)
{
    int sv[2];

    memset(p, 0, sizeof *p);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    p->pid = fork();
    if (p->pid == 0) {
        dup2(sv[1], 3);
        if (fsize_limit) {
            struct rlimit rl = { fsize_limit, fsize_limit };
            signal(SIGXFSZ, SIG_IGN);
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        execl(ferryd, "ferryd", "--root", root, "--fd", "3", "--chunk-size", chunk,
              "--progress-ms", progress_ms, "--frame-timeout", "300", (char *) NULL);
        _exit(127);
    }
    close(sv[1]);
    p->cl.call_timeout_ms = 5000;
    p->cl.chunk_size = 65536;
    return client_handshake(&p->cl, sv[0], 5000);
}

static int start_daemon(struct peer *p)
{
    return start_daemon_opts(p, 0, "65536", "250");
}

/* The daemon's peak resident memory, in KiB, read before it exits. */
static long daemon_hwm_kb(pid_t pid)
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

static void stop(struct peer *p)
{
    if (!p->cl.broken)
        rpc_shutdown(&p->cl, NULL, NULL, NULL);
    close(p->cl.w.fd);
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    client_free(&p->cl);
}

static int ping(struct peer *p)
{
    ferry_ping_args a = { .payload = { 5, "hello" } };
    CLEANUP_XDR(ferry_ping_ret) r = { 0 };

    if (rpc_ping(&p->cl, &a, &r, NULL) < 0)
        return -1;
    return r.payload.payload_len == 5 && memcmp(r.payload.payload_val, "hello", 5) == 0 ? 0 : -1;
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, data, len) != (ssize_t) len)
        abort();
    close(fd);
}

static size_t read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, size);
    if (fd >= 0)
        close(fd);
    return n < 0 ? 0 : n;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* ---- sinks and sources ---- */

struct mem {
    unsigned char *buf;
    size_t len, cap;
    int fail_at;        /* fail on this call (1 = first), 0 never */
    int calls;
    int fail_errno;
    uint64_t holes;
};

static int mem_data(void *o, const void *buf, size_t len)
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

static int mem_hole(void *o, uint64_t len)
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

struct src {
    const unsigned char *data;
    size_t len, pos, piece;
    int fail_at, calls;
};

static ssize_t src_read(void *o, void *buf, size_t len, uint64_t *hole)
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

static unsigned char *pattern(size_t len)
{
    unsigned char *p = malloc(len);
    for (size_t i = 0; i < len; i++)
        p[i] = (i * 2654435761u) >> 13;
    return p;
}

/* ---- a scripted fake daemon, for the client's side of things ---- */

typedef void (*script_fn)(struct wire *w);

static pid_t fake_pid;

static int start_fake(struct client *cl, script_fn script, int launch_ms)
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
    cl->call_timeout_ms = 700;
    cl->chunk_size = 65536;
    return client_handshake(cl, sv[0], launch_ms);
}

static void stop_fake(struct client *cl)
{
    close(cl->w.fd);
    kill(fake_pid, SIGKILL);
    waitpid(fake_pid, NULL, 0);
    client_free(cl);
}

static void fake_hello(struct wire *w, unsigned version)
{
    struct ferry_header h = { FERRY_PROGRAM_ID, version, FERRY_EVENT_HELLO, FERRY_EVENT, 0, 0 };
    struct ferry_hello hello = { version, "fake", "none", 0, 65536 };
    wire_send_word(w, FERRY_WORD_LAUNCH, 0);
    wire_send(w, &h, (xdrproc_t) xdr_ferry_hello, &hello, NULL, 0);
}

static int fake_read_call(struct wire *w, struct wire_frame *f)
{
    while (wire_read_frame(w, f) == 0)
        if (f->kind == WIRE_MESSAGE && f->hdr.type == FERRY_CALL)
            return 0;
    return -1;
}

static void fake_reply(struct wire *w, const struct wire_frame *call, int err, const char *msg)
{
    struct ferry_header h = { FERRY_PROGRAM_ID, FERRY_PROTOCOL_VERSION, call->hdr.proc,
                              FERRY_REPLY, call->hdr.serial, err ? FERRY_ERROR : FERRY_OK };
    struct ferry_error e = { (char *) errno_name(err), err, (char *) msg };
    struct ferry_transfer_ret t = { 0 };
    if (err)
        wire_send(w, &h, (xdrproc_t) xdr_ferry_error, &e, NULL, 0);
    else
        wire_send(w, &h, (xdrproc_t) xdr_ferry_transfer_ret, &t, NULL, 0);
}

/* Answer a sync, if one comes. */
static void fake_answer_sync(struct wire *w)
{
    uint64_t id;
    if (wire_discard_until(w, FERRY_WORD_SYNC, NULL, &id) == 0)
        wire_send_word(w, FERRY_WORD_DELIM, id);
}

/* ======================= round trips ======================= */

static void roundtrip_ping(void)
{
    struct peer p;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    CHECK(ping(&p) == 0, "%s", p.cl.msg);
    CHECK(p.cl.protocol_version == FERRY_PROTOCOL_VERSION, "hello version");
    CHECK(strcmp(p.cl.daemon_version, "") != 0, "daemon version in hello");
    CHECK(p.cl.capabilities & FERRY_CAP_SPARSE, "capabilities");
    CHECK(!(p.cl.capabilities & FERRY_CAP_MOUNT), "host daemon claims mount");
    stop(&p);
}

static void roundtrip_lstat_and_stat(void)
{
    struct peer p;
    struct stat st;
    fresh_root();
    write_file(in_root("/f"), "12345", 5);
    symlink("/f", in_root("/link"));
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);

    ferry_path_args a = { .path = "/link" };
    CLEANUP_XDR(ferry_stat_ret) l = { 0 };
    CLEANUP_XDR(ferry_stat_ret) s = { 0 };
    CHECK(rpc_lstat(&p.cl, &a, &l, NULL) == 0, "%s", p.cl.msg);
    CHECK(S_ISLNK(l.st.mode), "lstat of a link: mode %o", l.st.mode);
    CHECK(rpc_stat(&p.cl, &a, &s, NULL) == 0, "%s", p.cl.msg);
    CHECK(S_ISREG(s.st.mode) && s.st.size == 5, "stat follows the link");
    stat(in_root("/f"), &st);
    CHECK(s.st.ino == st.st_ino, "inode");
    CHECK(s.st.mtime.sec == st.st_mtim.tv_sec && s.st.mtime.nsec == (unsigned) st.st_mtim.tv_nsec,
          "mtime with nanoseconds: %lld.%u vs %ld.%ld", (long long) s.st.mtime.sec,
          s.st.mtime.nsec, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    stop(&p);
}

static void roundtrip_readlink(void)
{
    struct peer p;
    fresh_root();
    symlink("some/where/else", in_root("/l"));
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_path_args a = { .path = "/l" };
    CLEANUP_XDR(ferry_readlink_ret) r = { 0 };
    CHECK(rpc_readlink(&p.cl, &a, &r, NULL) == 0, "%s", p.cl.msg);
    CHECK(strcmp(r.target, "some/where/else") == 0, "target %s", r.target);
    stop(&p);
}

/* Collect a listing's names. */
struct names {
    int count;
    bool saw_sub_file;
    uint64_t bytes;
};

static int names_batch(void *o, const void *buf, size_t len)
{
    struct names *n = o;
    ferry_dirent_batch b = { 0 };
    if (xdr_decode_bytes(buf, len, (xdrproc_t) xdr_ferry_dirent_batch, &b) < 0)
        return -1;
    for (u_int i = 0; i < b.entries.entries_len; i++) {
        n->count++;
        n->bytes += strlen(b.entries.entries_val[i].name);
        if (!strcmp(b.entries.entries_val[i].name, "sub/file"))
            n->saw_sub_file = true;
    }
    xdr_free((xdrproc_t) xdr_ferry_dirent_batch, (char *) &b);
    return 0;
}

static int names_hole(void *o, uint64_t len)
{
    (void) o;
    (void) len;
    return errno = EBADMSG, -1;
}

static void roundtrip_list(void)
{
    struct peer p;
    fresh_root();
    mkdir(in_root("/sub"), 0755);
    write_file(in_root("/sub/file"), "x", 1);
    write_file(in_root("/top"), "y", 1);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    struct names n = { 0 };
    struct xfer x = { .data = names_batch, .hole = names_hole, .opaque = &n };
    ferry_list_args a = { .path = "/", .recursive = false };
    ferry_void v;
    CHECK(rpc_list(&p.cl, &a, &v, &x) == 0, "%s", p.cl.msg);
    CHECK(n.count == 2 && !n.saw_sub_file, "plain listing: %d entries", n.count);
    memset(&n, 0, sizeof n);
    a.recursive = true;
    CHECK(rpc_list(&p.cl, &a, &v, &x) == 0, "%s", p.cl.msg);
    CHECK(n.count == 3 && n.saw_sub_file, "recursive listing: %d entries", n.count);
    stop(&p);
}

/* More than one chunk of entries and more than libguestfs's 4 MiB message:
 * the listing streams, with no cap. */
static void list_large_directory_streams(void)
{
    struct peer p;
    char name[512];
    fresh_root();
    mkdir(in_root("/big"), 0755);
    memset(name, 'n', 200);
    for (int i = 0; i < 25000; i++) {
        snprintf(name + 200, sizeof name - 200, "%06d", i);
        char *path = in_root("/big/");
        strcat(path, name);
        close(open(path, O_WRONLY | O_CREAT, 0644));
    }
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    struct names n = { 0 };
    struct xfer x = { .data = names_batch, .hole = names_hole, .opaque = &n };
    ferry_list_args a = { .path = "/big" };
    ferry_void v;
    CHECK(rpc_list(&p.cl, &a, &v, &x) == 0, "%s", p.cl.msg);
    CHECK(n.count == 25000, "%d entries", n.count);
    CHECK(n.bytes > 5000000, "names alone are %llu bytes", (unsigned long long) n.bytes);
    CHECK(ping(&p) == 0, "channel after a long listing");
    stop(&p);
}

static void roundtrip_upload_download(void)
{
    struct peer p;
    size_t len = 5 * 1000 * 1000 + 17;
    unsigned char *data = pattern(len);
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    struct src s = { .data = data, .len = len, .piece = SIZE_MAX };
    struct xfer up = { .read = src_read, .opaque = &s };
    ferry_upload_args ua = { .path = "/up.bin", .mode = 0640 };
    ferry_transfer_ret tr;
    CHECK(rpc_upload(&p.cl, &ua, &tr, &up) == 0, "%s", p.cl.msg);
    CHECK(tr.size == len, "upload size %llu", (unsigned long long) tr.size);
    struct stat st;
    CHECK(stat(in_root("/up.bin"), &st) == 0 && (st.st_mode & 0777) == 0640, "mode of new file");

    struct mem m = { 0 };
    struct xfer down = { .data = mem_data, .hole = mem_hole, .opaque = &m };
    ferry_download_args da = { .path = "/up.bin" };
    CHECK(rpc_download(&p.cl, &da, &tr, &down) == 0, "%s", p.cl.msg);
    CHECK(m.len == len && memcmp(m.buf, data, len) == 0, "downloaded %zu bytes, differ", m.len);
    free(m.buf);
    free(data);
    stop(&p);
}

static void roundtrip_tree_changes(void)
{
    struct peer p;
    struct stat st;
    ferry_void v;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_mkdir_args mk = { .path = "/a/b/c", .mode = 0750, .parents = true };
    CHECK(rpc_mkdir(&p.cl, &mk, &v, NULL) == 0, "%s", p.cl.msg);
    CHECK(stat(in_root("/a/b/c"), &st) == 0 && S_ISDIR(st.st_mode), "mkdir -p");
    CHECK(rpc_mkdir(&p.cl, &mk, &v, NULL) == 0, "mkdir -p of what exists: %s", p.cl.msg);
    mk.parents = false;
    CHECK(rpc_mkdir(&p.cl, &mk, &v, NULL) < 0 && p.cl.err == EEXIST, "mkdir of what exists");
    write_file(in_root("/a/b/c/f"), "x", 1);
    ferry_chmod_args cm = { .path = "/a/b/c/f", .mode = 0600 };
    CHECK(rpc_chmod(&p.cl, &cm, &v, NULL) == 0, "%s", p.cl.msg);
    CHECK(stat(in_root("/a/b/c/f"), &st) == 0 && (st.st_mode & 07777) == 0600, "chmod");
    ferry_chown_args co = { .path = "/a/b/c/f", .uid = getuid(), .gid = getgid() };
    CHECK(rpc_chown(&p.cl, &co, &v, NULL) == 0, "%s", p.cl.msg);
    ferry_rm_args rm = { .path = "/a" };
    CHECK(rpc_rm(&p.cl, &rm, &v, NULL) < 0 && p.cl.err == ENOTEMPTY, "rm of a full dir: %s",
          p.cl.msg);
    rm.recursive = true;
    CHECK(rpc_rm(&p.cl, &rm, &v, NULL) == 0, "%s", p.cl.msg);
    CHECK(stat(in_root("/a"), &st) < 0, "rm -r removed it");
    CHECK(rpc_rm(&p.cl, &rm, &v, NULL) < 0 && p.cl.err == ENOENT, "rm of nothing");
    rm.force = true;
    CHECK(rpc_rm(&p.cl, &rm, &v, NULL) == 0, "rm -f of nothing: %s", p.cl.msg);
    stop(&p);
}

static void roundtrip_statvfs(void)
{
    struct peer p;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_path_args a = { .path = "/" };
    ferry_statvfs_ret r;
    CHECK(rpc_statvfs(&p.cl, &a, &r, NULL) == 0, "%s", p.cl.msg);
    CHECK(r.blocks > 0 && r.bsize > 0 && r.namemax > 0, "plausible numbers");
    stop(&p);
}

static void roundtrip_reg_values(void)
{
    struct peer p;
    fresh_root();
    /* a hive made by tests/mkhive.py, filled by hivexregedit from a .reg */
    FILE *reg = fopen(in_root("/fill.reg"), "w");
    fprintf(reg, "Windows Registry Editor Version 5.00\r\n\r\n[\\Key]\r\n\"S\"=\"hello\"\r\n"
                 "\"D\"=dword:00000007\r\n\"Big\"=hex:ab");
    for (int i = 1; i < 20000; i++)
        fputs(",ab", reg);
    fputs("\r\n", reg);
    fclose(reg);
    sh("python3 tests/mkhive.py %s && hivexregedit --merge %s %s", in_root("/hive"),
       in_root("/hive"), in_root("/fill.reg"));
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_reg_args a = { .hive = "/hive", .key = "KEY" };   /* names match without case */
    CLEANUP_XDR(ferry_reg_ret) r = { 0 };
    CHECK(rpc_reg_values(&p.cl, &a, &r, NULL) == 0, "%s", p.cl.msg);
    CHECK(r.values.values_len == 3, "%u values", r.values.values_len);
    ferry_reg_value *v = r.values.values_val;
    CHECK(!strcmp(v[0].name, "S") && v[0].type == 1 && v[0].data.data_len == 12 &&
          !memcmp(v[0].data.data_val, "h\0e\0l\0l\0o\0\0\0", 12), "string as UTF-16LE");
    CHECK(!strcmp(v[1].name, "D") && v[1].type == 4 && v[1].data.data_len == 4 &&
          !memcmp(v[1].data.data_val, "\7\0\0\0", 4) && !v[1].truncated, "dword");
    CHECK(!strcmp(v[2].name, "Big") && v[2].truncated &&
          v[2].data.data_len == FERRY_MAX_REG_DATA && (unsigned char) v[2].data.data_val[0] == 0xab,
          "a value over the limit is cut and says so");
    a.key = "Key\\Nope";
    CHECK(rpc_reg_values(&p.cl, &a, &r, NULL) < 0 && p.cl.err == ENOENT, "missing key: %s",
          p.cl.msg);
    write_file(in_root("/text"), "not a hive", 10);
    a.hive = "/text";
    CHECK(rpc_reg_values(&p.cl, &a, &r, NULL) < 0 && p.cl.err == EINVAL &&
          strstr(p.cl.msg, "not a registry hive"), "not a hive: %s", p.cl.msg);
    a.hive = "/../../etc/passwd";
    CHECK(rpc_reg_values(&p.cl, &a, &r, NULL) < 0 && p.cl.err == ENOENT,
          "hive path stays in the root: %s", p.cl.msg);
    stop(&p);
}

static void roundtrip_checksum_every_algorithm(void)
{
    static const char *const want[] = {
        "900150983cd24fb0d6963f7d28e17f72",
        "a9993e364706816aba3e25717850c26c9cd0d89d",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    };
    struct peer p;
    fresh_root();
    write_file(in_root("/abc"), "abc", 3);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    for (int alg = FERRY_MD5; alg <= FERRY_SHA512; alg++) {
        ferry_checksum_args a = { .alg = alg, .path = "/abc" };
        CLEANUP_XDR(ferry_checksum_ret) r = { 0 };
        CHECK(rpc_checksum(&p.cl, &a, &r, NULL) == 0, "%s", p.cl.msg);
        CHECK(strcmp(r.hex, want[alg]) == 0, "alg %d: %s", alg, r.hex);
    }
    stop(&p);
}

static void roundtrip_tar_out_and_in(void)
{
    struct peer p;
    fresh_root();
    sh("mkdir -p %s/src/d && echo one > %s/src/d/one && ln -s d/one %s/src/link && mkdir %s/dst",
       root, root, root, root);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    struct mem m = { 0 };
    struct xfer down = { .data = mem_data, .hole = mem_hole, .opaque = &m };
    ferry_tar_args a = { .path = "/src" };
    ferry_void v;
    CHECK(rpc_tar_out(&p.cl, &a, &v, &down) == 0, "%s", p.cl.msg);
    CHECK(m.len >= 10240 && m.len % 512 == 0, "a tar archive: %zu bytes", m.len);
    struct src s = { .data = m.buf, .len = m.len, .piece = 1000 };
    struct xfer up = { .read = src_read, .opaque = &s };
    a.path = "/dst";
    CHECK(rpc_tar_in(&p.cl, &a, &v, &up) == 0, "%s", p.cl.msg);
    char buf[16] = "";
    read_file(in_root("/dst/d/one"), buf, sizeof buf);
    CHECK(strcmp(buf, "one\n") == 0, "extracted file: '%s'", buf);
    CHECK(readlink(in_root("/dst/link"), buf, sizeof buf) == 5, "extracted symlink");
    /* a broken archive: tar's own complaint comes back */
    unsigned char junk[2048];
    memset(junk, 'j', sizeof junk);
    s = (struct src){ .data = junk, .len = sizeof junk, .piece = SIZE_MAX };
    CHECK(rpc_tar_in(&p.cl, &a, &v, &up) < 0 && strstr(p.cl.msg, "tar"), "junk archive: %s",
          p.cl.msg);
    CHECK(ping(&p) == 0, "channel after a failed tar-in");
    free(m.buf);
    stop(&p);
}

static void appliance_procedures_refused_on_host(void)
{
    struct peer p;
    ferry_void v;
    fresh_root();
    mkdir(in_root("/mnt"), 0755);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_mount_args m = { "/dev/vda", "/mnt", "", "", true };
    CHECK(rpc_mount(&p.cl, &m, &v, NULL) < 0 && p.cl.err == ENOTSUP && p.cl.remote, "mount: %s",
          p.cl.msg);
    ferry_path_args u = { .path = "/mnt" };
    CHECK(rpc_umount(&p.cl, &u, &v, NULL) < 0 && p.cl.err == ENOTSUP, "umount: %s", p.cl.msg);
    CLEANUP_XDR(ferry_devices_ret) d = { 0 };
    CHECK(rpc_list_devices(&p.cl, &v, &d, NULL) < 0 && p.cl.err == ENOTSUP, "devices: %s",
          p.cl.msg);
    stop(&p);
}

static void error_reply_carries_errno_and_message(void)
{
    struct peer p;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_path_args a = { .path = "/nope" };
    CLEANUP_XDR(ferry_stat_ret) r = { 0 };
    CHECK(rpc_lstat(&p.cl, &a, &r, NULL) < 0, "lstat of nothing succeeded");
    CHECK(p.cl.err == ENOENT && p.cl.remote, "errno %d", p.cl.err);
    CHECK(strcmp(p.cl.msg, "/nope: No such file or directory") == 0, "message '%s'", p.cl.msg);
    a.path = "relative";
    CHECK(rpc_lstat(&p.cl, &a, &r, NULL) < 0 && p.cl.err == EINVAL, "relative path");
    stop(&p);
}

static void shutdown_ends_the_daemon(void)
{
    struct peer p;
    int status;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    CHECK(rpc_shutdown(&p.cl, NULL, NULL, NULL) == 0, "%s", p.cl.msg);
    CHECK(waitpid(p.pid, &status, 0) == p.pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "daemon exit status %x", status);
    close(p.cl.w.fd);
    client_free(&p.cl);
}

/* ======================= sparse files, memory ======================= */

struct out {
    int fd;
    uint64_t pos, holes;
};

static int out_data(void *op, const void *buf, size_t len)
{
    struct out *q = op;
    if (pwrite(q->fd, buf, len, q->pos) != (ssize_t) len)
        return -1;
    q->pos += len;
    return 0;
}

static int out_hole(void *op, uint64_t len)
{
    struct out *q = op;
    q->pos += len;
    q->holes += len;
    return 0;
}

static int count_data(void *op, const void *buf, size_t len)
{
    (void) buf;
    *(uint64_t *) op += len;
    return 0;
}

static int count_hole(void *op, uint64_t len)
{
    *(uint64_t *) op += len;
    return 0;
}

static void sparse_1gib_download_keeps_holes_in_constant_memory(void)
{
    struct peer p;
    struct stat st;
    fresh_root();
    int fd = open(in_root("/sparse"), O_WRONLY | O_CREAT, 0644);
    CHECK(ftruncate(fd, 1L << 30) == 0, "truncate");
    pwrite(fd, "middle", 6, 500L << 20);
    pwrite(fd, "end", 3, (1L << 30) - 3);
    close(fd);
    CHECK(start_daemon_opts(&p, 0, "1048576", "250") == 0, "%s", p.cl.msg);

    /* into a local file: holes are seeked over, as the CLI's sink does */
    struct out o = { .fd = open(in_root("/copy"), O_RDWR | O_CREAT, 0644) };
    struct xfer x = { .data = out_data, .hole = out_hole, .opaque = &o };
    ferry_download_args a = { .path = "/sparse" };
    ferry_transfer_ret r;
    CHECK(rpc_download(&p.cl, &a, &r, &x) == 0, "%s", p.cl.msg);
    CHECK(ftruncate(o.fd, o.pos) == 0, "truncate copy");
    CHECK(o.pos == 1L << 30 && r.size == 1L << 30, "size %llu", (unsigned long long) o.pos);
    CHECK(o.holes > 1000L << 20, "holes travelled as holes: %llu", (unsigned long long) o.holes);
    fstat(o.fd, &st);
    CHECK(st.st_blocks * 512 < 1 << 20, "copy is sparse: %lld blocks", (long long) st.st_blocks);
    char buf[8] = "";
    pread(o.fd, buf, 6, 500L << 20);
    CHECK(memcmp(buf, "middle", 6) == 0, "data in the middle");
    pread(o.fd, buf, 3, (1L << 30) - 3);
    CHECK(memcmp(buf, "end", 3) == 0, "data at the end");
    close(o.fd);
    long dkb = daemon_hwm_kb(p.pid);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    CHECK(dkb > 0 && dkb < 32 * 1024, "daemon peak memory %ld KiB", dkb);
    CHECK(ru.ru_maxrss < 64 * 1024, "client peak memory %ld KiB", ru.ru_maxrss);
    stop(&p);
}

/* A 1 GiB file of real data (not holes) streams in bounded memory too. */
static void dense_256mib_download_in_constant_memory(void)
{
    struct peer p;
    fresh_root();
    sh("head -c 268435456 /dev/urandom > %s/dense", root);
    CHECK(start_daemon_opts(&p, 0, "1048576", "250") == 0, "%s", p.cl.msg);
    uint64_t total = 0;
    struct xfer x = { .data = count_data, .hole = count_hole, .opaque = &total };
    ferry_download_args a = { .path = "/dense" };
    ferry_transfer_ret r;
    CHECK(rpc_download(&p.cl, &a, &r, &x) == 0, "%s", p.cl.msg);
    CHECK(total == 268435456, "got %llu", (unsigned long long) total);
    long dkb = daemon_hwm_kb(p.pid);
    CHECK(dkb > 0 && dkb < 32 * 1024, "daemon peak memory %ld KiB", dkb);
    stop(&p);
}

/* 300 MiB of hole, 4 bytes of data, 100 MiB of hole */
static ssize_t holey_read(void *o, void *buf, size_t len, uint64_t *hole)
{
    (void) len;
    switch ((*(int *) o)++) {
    case 0: *hole = 300 << 20; return 0;
    case 1: memcpy(buf, "data", 4); return 4;
    case 2: *hole = 100 << 20; return 0;
    default: return 0;
    }
}

static void sparse_upload_keeps_holes(void)
{
    struct peer p;
    struct stat st;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    int step = 0;
    struct xfer x = { .read = holey_read, .opaque = &step };
    ferry_upload_args a = { .path = "/holey", .mode = 0644 };
    ferry_transfer_ret r;
    CHECK(rpc_upload(&p.cl, &a, &r, &x) == 0, "%s", p.cl.msg);
    CHECK(stat(in_root("/holey"), &st) == 0 && st.st_size == (400 << 20) + 4, "size %lld",
          (long long) st.st_size);
    CHECK(st.st_blocks * 512 < 1 << 20, "stored sparse: %lld blocks", (long long) st.st_blocks);
    stop(&p);
}

/* ======================= cancellation ======================= */

/* Bytes the daemon has read from files so far. */
static long long daemon_rchar(pid_t pid)
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

/* The receiver (client) cancels a download at chunk `at`: the daemon stops
 * reading soon after, the same channel serves the next call, and the error
 * is the local one. */
static void cancel_download_by_receiver_at(int at)
{
    struct peer p;
    size_t len = 16 << 20;     /* 256 chunks of 64 KiB */
    unsigned char *data = pattern(len);
    fresh_root();
    write_file(in_root("/f"), data, len);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    long long before = daemon_rchar(p.pid);
    struct mem m = { .fail_at = at, .fail_errno = ENOSPC };
    struct xfer x = { .data = mem_data, .hole = mem_hole, .opaque = &m };
    ferry_download_args a = { .path = "/f" };
    ferry_transfer_ret r;
    CHECK(rpc_download(&p.cl, &a, &r, &x) < 0, "download went through");
    CHECK(p.cl.err == ENOSPC && !p.cl.remote && !p.cl.broken, "error %d (%s)", p.cl.err, p.cl.msg);
    long long read = daemon_rchar(p.pid) - before;
    if (at < 256)
        CHECK(read < (long long) len - (4 << 20), "the daemon read %lld of %zu bytes after the cancel",
              read, len);
    CHECK(ping(&p) == 0, "next call on the channel: %s", p.cl.msg);
    m = (struct mem){ 0 };
    CHECK(rpc_download(&p.cl, &a, &r, &x) == 0 && m.len == len && !memcmp(m.buf, data, len),
          "a full download after the cancel");
    free(m.buf);
    free(data);
    stop(&p);
}
static void cancel_download_by_receiver_at_start(void) { cancel_download_by_receiver_at(1); }
static void cancel_download_by_receiver_in_middle(void) { cancel_download_by_receiver_at(128); }
static void cancel_download_by_receiver_at_end(void) { cancel_download_by_receiver_at(256); }

/* The sender (client) cancels an upload at read `at`; the old file stays
 * as it was and nothing is left beside it. */
static void cancel_upload_by_sender_at(int at)
{
    struct peer p;
    size_t len = 1 << 20;
    unsigned char *data = pattern(len);
    fresh_root();
    write_file(in_root("/target"), "old contents", 12);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    struct src s = { .data = data, .len = len, .piece = 65536, .fail_at = at };
    struct xfer x = { .read = src_read, .opaque = &s };
    ferry_upload_args a = { .path = "/target", .mode = 0644 };
    ferry_transfer_ret r;
    CHECK(rpc_upload(&p.cl, &a, &r, &x) < 0, "upload went through");
    CHECK(p.cl.err == EIO && !p.cl.remote && !p.cl.broken, "error %d (%s)", p.cl.err, p.cl.msg);
    char buf[64] = "";
    read_file(in_root("/target"), buf, sizeof buf);
    CHECK(strcmp(buf, "old contents") == 0, "old file changed: '%s'", buf);
    CHECK(ping(&p) == 0, "next call: %s", p.cl.msg);
    sh("ls -A %s > %s.ls", root, root);
    char ls[256] = "";
    char lsname[300];
    snprintf(lsname, sizeof lsname, "%s.ls", root);
    read_file(lsname, ls, sizeof ls);
    unlink(lsname);
    CHECK(strcmp(ls, "target\n") == 0, "left behind: %s", ls);
    free(data);
    stop(&p);
}
static void cancel_upload_by_sender_at_start(void) { cancel_upload_by_sender_at(1); }
static void cancel_upload_by_sender_in_middle(void) { cancel_upload_by_sender_at(8); }
static void cancel_upload_by_sender_at_end(void) { cancel_upload_by_sender_at(17); }

/* The receiver (daemon) gives up on an upload: at the start (no such
 * directory), in the middle and at the end (the file size limit). */
static void cancel_upload_by_receiver(const char *path, int limit, int want_err)
{
    struct peer p;
    size_t len = 1 << 20;
    unsigned char *data = pattern(len);
    fresh_root();
    write_file(in_root("/target"), "old contents", 12);
    CHECK(start_daemon_opts(&p, limit, "65536", "250") == 0, "%s", p.cl.msg);
    struct src s = { .data = data, .len = len, .piece = 65536 };
    struct xfer x = { .read = src_read, .opaque = &s };
    ferry_upload_args a = { .path = (char *) path, .mode = 0644 };
    ferry_transfer_ret r;
    CHECK(rpc_upload(&p.cl, &a, &r, &x) < 0, "upload went through");
    CHECK(p.cl.err == want_err && p.cl.remote, "error %d: %s", p.cl.err, p.cl.msg);
    CHECK(strstr(p.cl.msg, strerror(want_err)) != NULL, "message names the cause: %s", p.cl.msg);
    char buf[64] = "";
    read_file(in_root("/target"), buf, sizeof buf);
    CHECK(strcmp(buf, "old contents") == 0, "old file changed: '%s'", buf);
    CHECK(ping(&p) == 0, "next call: %s", p.cl.msg);
    free(data);
    stop(&p);
}
static void cancel_upload_by_receiver_at_start(void)
{
    cancel_upload_by_receiver("/no/such/dir/target", 0, ENOENT);
}
static void cancel_upload_by_receiver_in_middle(void)
{
    cancel_upload_by_receiver("/target", 512 << 10, EFBIG);
}
static void cancel_upload_by_receiver_at_end(void)
{
    cancel_upload_by_receiver("/target", (1 << 20) - 100, EFBIG);
}

/* The sender (daemon) cancels a download: a fake daemon sends some data,
 * a CANCEL chunk and the real error, which the client reports as such. */
static int fake_cancel_after;
static void script_download_error(struct wire *w)
{
    struct wire_frame f;
    static unsigned char block[1000];
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    if (fake_read_call(w, &f) < 0)
        return;
    struct wire_frame call = f;
    for (int i = 0; i < fake_cancel_after; i++)
        wire_send_chunk(w, call.hdr.proc, call.hdr.serial, FERRY_CHUNK_DATA, 0, block, sizeof block);
    wire_send_chunk(w, call.hdr.proc, call.hdr.serial, FERRY_CHUNK_CANCEL, 0, NULL, 0);
    fake_reply(w, &call, EIO, "/f: read at offset 1000: Input/output error");
    /* then serve a ping */
    if (fake_read_call(w, &f) == 0) {
        struct ferry_header h = { FERRY_PROGRAM_ID, FERRY_PROTOCOL_VERSION, f.hdr.proc,
                                  FERRY_REPLY, f.hdr.serial, FERRY_OK };
        ferry_ping_ret pr = { { 5, "hello" } };
        wire_send(w, &h, (xdrproc_t) xdr_ferry_ping_ret, &pr, NULL, 0);
    }
    sleep(5);
}

static void cancel_download_by_sender_at(int after)
{
    struct client cl;
    fake_cancel_after = after;
    CHECK(start_fake(&cl, script_download_error, 2000) == 0, "%s", cl.msg);
    struct mem m = { 0 };
    struct xfer x = { .data = mem_data, .hole = mem_hole, .opaque = &m };
    ferry_download_args a = { .path = "/f" };
    ferry_transfer_ret r;
    CHECK(rpc_download(&cl, &a, &r, &x) < 0, "download succeeded");
    CHECK(cl.err == EIO && cl.remote, "error %d", cl.err);
    CHECK(strcmp(cl.msg, "/f: read at offset 1000: Input/output error") == 0,
          "the daemon's error, not just 'cancelled': %s", cl.msg);
    CHECK(m.len == (size_t) after * 1000, "data before the cancel: %zu", m.len);
    ferry_ping_args pa = { { 5, "hello" } };
    CLEANUP_XDR(ferry_ping_ret) pr = { 0 };
    CHECK(rpc_ping(&cl, &pa, &pr, NULL) == 0, "next call: %s", cl.msg);
    free(m.buf);
    stop_fake(&cl);
}
static void cancel_download_by_sender_at_start(void) { cancel_download_by_sender_at(0); }
static void cancel_download_by_sender_in_middle(void) { cancel_download_by_sender_at(5); }
static void cancel_download_by_sender_at_end(void) { cancel_download_by_sender_at(10); }

/* ======================= events ======================= */

struct prog {
    int count;
    uint64_t last, total;
    bool monotonic;
};

static void on_progress(void *o, uint64_t pos, uint64_t total)
{
    struct prog *p = o;
    if (pos < p->last)
        p->monotonic = false;
    p->last = pos;
    p->total = total;
    p->count++;
}

static void progress_events_interleave_with_chunks(void)
{
    struct peer p;
    size_t len = 8 << 20;
    unsigned char *data = pattern(len);
    fresh_root();
    write_file(in_root("/f"), data, len);
    CHECK(start_daemon_opts(&p, 0, "65536", "0") == 0, "%s", p.cl.msg);
    struct prog pr = { .monotonic = true };
    p.cl.progress = on_progress;
    p.cl.progress_opaque = &pr;
    struct mem m = { 0 };
    struct xfer x = { .data = mem_data, .hole = mem_hole, .opaque = &m };
    ferry_download_args a = { .path = "/f", .progress = true };
    ferry_transfer_ret r;
    CHECK(rpc_download(&p.cl, &a, &r, &x) == 0, "%s", p.cl.msg);
    CHECK(m.len == len && !memcmp(m.buf, data, len), "data intact between events");
    CHECK(pr.count >= 100, "%d progress events", pr.count);
    CHECK(pr.monotonic && pr.last == len && pr.total == len, "positions up to %llu of %llu",
          (unsigned long long) pr.last, (unsigned long long) pr.total);
    /* not wanted: ignored */
    p.cl.progress = NULL;
    m.len = 0;
    CHECK(rpc_download(&p.cl, &a, &r, &x) == 0 && m.len == len, "without a listener");
    free(m.buf);
    free(data);
    stop(&p);
}

/* ======================= broken streams, resync ======================= */

static void garbage_then_sync_recovers(void)
{
    struct peer p;
    unsigned char junk[5000];
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (i * 7919) >> 3;
    CHECK(write_all(p.cl.w.fd, junk, sizeof junk, 1000) == 0, "write junk");
    CHECK(client_resync(&p.cl) == 0, "resync");
    CHECK(ping(&p) == 0, "call after the resync: %s", p.cl.msg);
    stop(&p);
}

static void truncated_message_then_sync_recovers(void)
{
    struct peer p;
    unsigned char part[] = { 0, 0, 0, 100, 0x46, 0x45, 0x52, 0x59, 0, 0, 0 };
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    CHECK(write_all(p.cl.w.fd, part, sizeof part, 1000) == 0, "write part");
    usleep(400 * 1000);     /* past the daemon's 300 ms frame timeout */
    CHECK(client_resync(&p.cl) == 0, "resync");
    CHECK(ping(&p) == 0, "call after the resync: %s", p.cl.msg);
    /* and a sync that lands inside a half-sent message also recovers */
    CHECK(write_all(p.cl.w.fd, part, sizeof part, 1000) == 0, "write part");
    CHECK(client_resync(&p.cl) == 0, "resync inside a message");
    CHECK(ping(&p) == 0, "call after the resync: %s", p.cl.msg);
    stop(&p);
}

static void overlong_length_is_rejected_without_allocating(void)
{
    struct peer p;
    unsigned char word[] = { 0x7f, 0xff, 0xff, 0xff };
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    long before = daemon_hwm_kb(p.pid);
    CHECK(write_all(p.cl.w.fd, word, 4, 1000) == 0, "write");
    CHECK(client_resync(&p.cl) == 0, "resync");
    CHECK(ping(&p) == 0, "call after: %s", p.cl.msg);
    long after = daemon_hwm_kb(p.pid);
    CHECK(after - before < 1024, "daemon grew from %ld to %ld KiB", before, after);
    stop(&p);
}

static void unknown_procedure_gets_enosys(void)
{
    struct peer p;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_void v;
    CHECK(client_call(&p.cl, 999, (xdrproc_t) xdr_ferry_void, &v, (xdrproc_t) xdr_ferry_void, &v,
                      FERRY_XFER_NONE, NULL) < 0, "proc 999 succeeded");
    CHECK(p.cl.err == ENOSYS && p.cl.remote, "error %d: %s", p.cl.err, p.cl.msg);
    CHECK(ping(&p) == 0, "daemon still serves: %s", p.cl.msg);
    stop(&p);
}

static void malformed_arguments_get_einval(void)
{
    struct peer p;
    fresh_root();
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    /* lstat wants a string; send a length that runs past the body */
    unsigned char junk[8] = { 0, 0, 0x10, 0, 'a', 'b', 'c', 'd' };
    struct ferry_header h = { FERRY_PROGRAM_ID, FERRY_PROTOCOL_VERSION, FERRY_LSTAT, FERRY_CALL,
                              4242, FERRY_OK };
    CHECK(wire_send(&p.cl.w, &h, NULL, NULL, junk, sizeof junk) == 0, "send");
    struct wire_frame f;
    CHECK(wire_read_frame(&p.cl.w, &f) == 0 && f.hdr.serial == 4242 &&
          f.hdr.status == FERRY_ERROR, "an error reply");
    CLEANUP_XDR(ferry_error) e = { 0 };
    CHECK(wire_decode(&f, (xdrproc_t) xdr_ferry_error, &e) == 0 && e.errnum == EINVAL &&
          !strcmp(e.errno_name, "EINVAL"), "EINVAL");
    CHECK(ping(&p) == 0, "daemon still serves: %s", p.cl.msg);
    stop(&p);
}

static int killer(void *o, const void *buf, size_t len)
{
    (void) buf;
    (void) len;
    kill(*(pid_t *) o, SIGKILL);
    return 0;
}

static void daemon_killed_mid_transfer_is_reported_promptly(void)
{
    struct peer p;
    fresh_root();
    sh("head -c 67108864 /dev/zero > %s/big", root);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    struct xfer x = { .data = killer, .hole = count_hole, .opaque = &p.pid };
    ferry_download_args a = { .path = "/big" };
    ferry_transfer_ret r;
    double t0 = now();
    CHECK(rpc_download(&p.cl, &a, &r, &x) < 0, "download succeeded");
    CHECK(now() - t0 < 3, "took %.1f s", now() - t0);
    CHECK(p.cl.broken && strstr(p.cl.msg, "closed the channel"), "%s", p.cl.msg);
    CHECK(ping(&p) < 0 && strstr(p.cl.msg, "lost"), "later calls fail at once: %s", p.cl.msg);
    stop(&p);
}

/* ---- the client facing a bad or silent daemon ---- */

static void script_wrong_version(struct wire *w) { fake_hello(w, 2); sleep(5); }

static void handshake_rejects_other_protocol_version(void)
{
    struct client cl;
    CHECK(start_fake(&cl, script_wrong_version, 2000) < 0, "handshake succeeded");
    CHECK(cl.err == EPROTONOSUPPORT && strstr(cl.msg, "protocol version 2"), "%s", cl.msg);
    stop_fake(&cl);
}

static void script_silent(struct wire *w) { (void) w; sleep(10); }

static void launch_timeout_when_no_hello(void)
{
    struct client cl;
    double t0 = now();
    CHECK(start_fake(&cl, script_silent, 500) < 0, "handshake succeeded");
    CHECK(cl.err == ETIMEDOUT && now() - t0 < 2, "err %d after %.1f s: %s", cl.err, now() - t0,
          cl.msg);
    stop_fake(&cl);
}

static void script_ignore_call_answer_sync(struct wire *w)
{
    struct wire_frame f;
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    fake_read_call(w, &f);
    fake_answer_sync(w);
    sleep(5);
}

static void call_timeout_then_resync(void)
{
    struct client cl;
    CHECK(start_fake(&cl, script_ignore_call_answer_sync, 2000) == 0, "%s", cl.msg);
    ferry_ping_args pa = { { 1, "x" } };
    CLEANUP_XDR(ferry_ping_ret) pr = { 0 };
    double t0 = now();
    CHECK(rpc_ping(&cl, &pa, &pr, NULL) < 0, "ping answered");
    CHECK(cl.err == ETIMEDOUT && !cl.broken, "err %d broken %d: %s", cl.err, cl.broken, cl.msg);
    CHECK(now() - t0 < 2, "took %.1f s", now() - t0);
    stop_fake(&cl);
}

static void script_ignore_everything(struct wire *w)
{
    struct wire_frame f;
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    fake_read_call(w, &f);
    sleep(10);
}

static void failed_resync_gives_up_on_the_appliance(void)
{
    struct client cl;
    CHECK(start_fake(&cl, script_ignore_everything, 2000) == 0, "%s", cl.msg);
    ferry_ping_args pa = { { 1, "x" } };
    CLEANUP_XDR(ferry_ping_ret) pr = { 0 };
    CHECK(rpc_ping(&cl, &pa, &pr, NULL) < 0, "ping answered");
    CHECK(cl.broken && strstr(cl.msg, "not responding"), "%s", cl.msg);
    stop_fake(&cl);
}

static void script_overlong_reply(struct wire *w)
{
    struct wire_frame f;
    unsigned char word[] = { 0x7f, 0xff, 0xff, 0xff };
    fake_hello(w, FERRY_PROTOCOL_VERSION);
    fake_read_call(w, &f);
    write_all(w->fd, word, 4, 1000);
    fake_answer_sync(w);
    sleep(5);
}

static void client_rejects_overlong_length(void)
{
    struct client cl;
    CHECK(start_fake(&cl, script_overlong_reply, 2000) == 0, "%s", cl.msg);
    ferry_ping_args pa = { { 1, "x" } };
    CLEANUP_XDR(ferry_ping_ret) pr = { 0 };
    double t0 = now();
    CHECK(rpc_ping(&cl, &pa, &pr, NULL) < 0, "ping answered");
    CHECK(cl.err == EPROTO && !cl.broken && now() - t0 < 0.5, "err %d after %.2f s: %s", cl.err,
          now() - t0, cl.msg);
    stop_fake(&cl);
}

/* ======================= the served root ======================= */

static void paths_stay_inside_the_root(void)
{
    struct peer p;
    fresh_root();
    sh("mkdir -p %s/etc %s/d && echo inside > %s/etc/passwd && ln -s /etc/passwd %s/d/abs && "
       "ln -s ../../../../../../etc/passwd %s/d/rel",
       root, root, root, root, root);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    const char *paths[] = { "/d/abs", "/d/rel", "/../../etc/passwd", "/d/../../etc/passwd" };
    for (size_t i = 0; i < 4; i++) {
        struct mem m = { 0 };
        struct xfer x = { .data = mem_data, .hole = mem_hole, .opaque = &m };
        ferry_download_args a = { .path = (char *) paths[i] };
        ferry_transfer_ret r;
        CHECK(rpc_download(&p.cl, &a, &r, &x) == 0, "%s: %s", paths[i], p.cl.msg);
        CHECK(m.len == 7 && !memcmp(m.buf, "inside\n", 7), "%s escaped the root", paths[i]);
        free(m.buf);
    }
    stop(&p);
}

int main(int argc, char **argv)
{
    ferryd = getenv("FERRYD") ? getenv("FERRYD") : "build/ferryd";
    signal(SIGPIPE, SIG_IGN);

    RUN(roundtrip_ping);
    RUN(roundtrip_lstat_and_stat);
    RUN(roundtrip_readlink);
    RUN(roundtrip_list);
    RUN(list_large_directory_streams);
    RUN(roundtrip_upload_download);
    RUN(roundtrip_tree_changes);
    RUN(roundtrip_statvfs);
    RUN(roundtrip_reg_values);
    RUN(roundtrip_checksum_every_algorithm);
    RUN(roundtrip_tar_out_and_in);
    RUN(appliance_procedures_refused_on_host);
    RUN(error_reply_carries_errno_and_message);
    RUN(shutdown_ends_the_daemon);
    RUN(sparse_1gib_download_keeps_holes_in_constant_memory);
    RUN(dense_256mib_download_in_constant_memory);
    RUN(sparse_upload_keeps_holes);
    RUN(cancel_download_by_receiver_at_start);
    RUN(cancel_download_by_receiver_in_middle);
    RUN(cancel_download_by_receiver_at_end);
    RUN(cancel_download_by_sender_at_start);
    RUN(cancel_download_by_sender_in_middle);
    RUN(cancel_download_by_sender_at_end);
    RUN(cancel_upload_by_sender_at_start);
    RUN(cancel_upload_by_sender_in_middle);
    RUN(cancel_upload_by_sender_at_end);
    RUN(cancel_upload_by_receiver_at_start);
    RUN(cancel_upload_by_receiver_in_middle);
    RUN(cancel_upload_by_receiver_at_end);
    RUN(progress_events_interleave_with_chunks);
    RUN(garbage_then_sync_recovers);
    RUN(truncated_message_then_sync_recovers);
    RUN(overlong_length_is_rejected_without_allocating);
    RUN(unknown_procedure_gets_enosys);
    RUN(malformed_arguments_get_einval);
    RUN(daemon_killed_mid_transfer_is_reported_promptly);
    RUN(handshake_rejects_other_protocol_version);
    RUN(launch_timeout_when_no_hello);
    RUN(call_timeout_then_resync);
    RUN(failed_resync_gives_up_on_the_appliance);
    RUN(client_rejects_overlong_length);
    RUN(paths_stay_inside_the_root);

    if (root[0])
        sh("rm -rf '%s'", root);
    return SUMMARY();
}
