/* roundtrip.c: every procedure against the real daemon, a round trip each;
 * large and sparse transfers in constant memory; progress events. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "protocol/lib.h"

/* ======================= round trips ======================= */

TEST(roundtrip_ping)
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

TEST(roundtrip_lstat_and_stat)
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
          "mtime with nanoseconds: %lld.%u vs %ld.%ld", (long long) s.st.mtime.sec, s.st.mtime.nsec,
          st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    stop(&p);
}

TEST(roundtrip_readlink)
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

TEST(roundtrip_list)
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
TEST(list_large_directory_streams)
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

TEST(roundtrip_upload_download)
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

TEST(roundtrip_tree_changes)
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

TEST(roundtrip_statvfs)
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

TEST(roundtrip_reg_values)
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
    ferry_reg_args a = { .hive = "/hive", .key = "KEY" }; /* names match without case */
    CLEANUP_XDR(ferry_reg_ret) r = { 0 };
    CHECK(rpc_reg_values(&p.cl, &a, &r, NULL) == 0, "%s", p.cl.msg);
    CHECK(r.values.values_len == 3, "%u values", r.values.values_len);
    ferry_reg_value *v = r.values.values_val;
    CHECK(!strcmp(v[0].name, "S") && v[0].type == 1 && v[0].data.data_len == 12 &&
              !memcmp(v[0].data.data_val, "h\0e\0l\0l\0o\0\0\0", 12),
          "string as UTF-16LE");
    CHECK(!strcmp(v[1].name, "D") && v[1].type == 4 && v[1].data.data_len == 4 &&
              !memcmp(v[1].data.data_val, "\7\0\0\0", 4) && !v[1].truncated,
          "dword");
    CHECK(!strcmp(v[2].name, "Big") && v[2].truncated && v[2].data.data_len == FERRY_MAX_REG_DATA &&
              (unsigned char) v[2].data.data_val[0] == 0xab,
          "a value over the limit is cut and says so");
    a.key = "Key\\Nope";
    CHECK(rpc_reg_values(&p.cl, &a, &r, NULL) < 0 && p.cl.err == ENOENT, "missing key: %s",
          p.cl.msg);
    write_file(in_root("/text"), "not a hive", 10);
    a.hive = "/text";
    CHECK(rpc_reg_values(&p.cl, &a, &r, NULL) < 0 && p.cl.err == EINVAL &&
              strstr(p.cl.msg, "not a registry hive"),
          "not a hive: %s", p.cl.msg);
    a.hive = "/../../etc/passwd";
    CHECK(rpc_reg_values(&p.cl, &a, &r, NULL) < 0 && p.cl.err == ENOENT,
          "hive path stays in the root: %s", p.cl.msg);
    stop(&p);
}

TEST(roundtrip_checksum_every_algorithm)
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

/* Long honest work outlives a short silence limit: hashing 4 GiB takes
 * seconds, sending nothing, and the daemon's keepalives (once a second)
 * carry the call past a client that gives up after 2.5 s of silence. */
TEST(long_work_outlives_a_short_timeout)
{
    struct peer p;
    struct timespec t0, t1;
    fresh_root();
    sh("truncate -s 4G '%s'", in_root("/big"));
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    p.cl.call_timeout_ms = p.cl.w.timeout_ms = p.cl.w.write_timeout_ms = 2500;
    ferry_checksum_args a = { .alg = FERRY_SHA256, .path = "/big" };
    CLEANUP_XDR(ferry_checksum_ret) r = { 0 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(rpc_checksum(&p.cl, &a, &r, NULL) == 0, "%s", p.cl.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(ms > 5000, "the hash took %ld ms: too quick to show anything", ms);
    stop(&p);
}

TEST(roundtrip_tar_in)
{
    struct peer p;
    fresh_root();
    sh("mkdir -p %s/src/d && echo one > %s/src/d/one && ln -s d/one %s/src/link && mkdir %s/dst"
       " && tar -C %s/src -cf %s/a.tar .",
       root, root, root, root, root, root);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    static char archive[1 << 16];
    size_t len = read_file(in_root("/a.tar"), archive, sizeof archive);
    CHECK(len >= 10240 && len % 512 == 0, "a tar archive: %zu bytes", len);
    ferry_tar_args a = { .path = "/dst" };
    ferry_void v;
    struct src s = { .data = (unsigned char *) archive, .len = len, .piece = 1000 };
    struct xfer up = { .read = src_read, .opaque = &s };
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
    stop(&p);
}

/* What a read_tree stream held, entry by entry: "name kind size sum;" */
struct tree_seen {
    char text[4096];
    int stream_left;   /* bytes of the file being streamed */
    unsigned long sum; /* of its bytes, holes as zeros */
    char name[256];
    int batches, fail_at; /* fail_at: cancel on this batch */
};

static void seen_entry(struct tree_seen *t, const char *name, const char *kind, uint64_t size,
                       unsigned long sum)
{
    size_t n = strlen(t->text);
    snprintf(t->text + n, sizeof t->text - n, "%s %s %llu %lu;", name, kind,
             (unsigned long long) size, sum);
}

static unsigned long sum_of(const void *buf, size_t len)
{
    unsigned long s = 0;
    for (size_t i = 0; i < len; i++)
        s = s * 31 + ((const unsigned char *) buf)[i];
    return s;
}

static int tree_data(void *o, const void *buf, size_t len)
{
    struct tree_seen *t = o;
    ferry_tree_batch b = { 0 };

    if (t->stream_left > 0) {
        for (size_t i = 0; i < len; i++)
            t->sum = t->sum * 31 + ((const unsigned char *) buf)[i];
        t->stream_left -= len;
        if (t->stream_left == 0)
            seen_entry(t, t->name, "stream", 0, t->sum);
        return 0;
    }
    if (++t->batches == t->fail_at)
        return errno = EPIPE, -1;
    if (xdr_decode_bytes(buf, len, (xdrproc_t) xdr_ferry_tree_batch, &b) < 0)
        return -1;
    for (u_int i = 0; i < b.entries.entries_len; i++) {
        ferry_tree_entry *e = &b.entries.entries_val[i];
        switch (e->content.kind) {
        case FERRY_CONTENT_INLINE:
            seen_entry(t, e->ent.name, "inline", e->ent.st.size,
                       sum_of(e->content.ferry_content_u.bytes.bytes_val,
                              e->content.ferry_content_u.bytes.bytes_len));
            break;
        case FERRY_CONTENT_STREAM:
            snprintf(t->name, sizeof t->name, "%s(%u ranges)", e->ent.name,
                     e->content.ferry_content_u.data.data_len);
            t->stream_left = e->ent.st.size;
            t->sum = 0;
            break;
        case FERRY_CONTENT_ERROR:
            seen_entry(t, e->ent.name, "error", 0, 0);
            break;
        default:
            seen_entry(t, e->ent.name, S_ISDIR(e->ent.st.mode) ? "dir" : "other", 0, 0);
        }
    }
    xdr_free((xdrproc_t) xdr_ferry_tree_batch, (char *) &b);
    return 0;
}

static int tree_hole(void *o, uint64_t len)
{
    struct tree_seen *t = o;
    for (uint64_t i = 0; i < len; i++)
        t->sum = t->sum * 31;
    t->stream_left -= len;
    if (t->stream_left == 0)
        seen_entry(t, t->name, "stream", 0, t->sum);
    return 0;
}

TEST(roundtrip_read_tree)
{
    struct peer p;
    fresh_root();
    sh("mkdir -p %s/t/d && printf small > %s/t/d/s && head -c 100000 /dev/zero | tr '\\0' x"
       " > %s/t/big && truncate -s 1M %s/t/sparse && printf end >> %s/t/sparse"
       " && ln -s d %s/t/l && : > %s/t/empty",
       root, root, root, root, root, root, root);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    struct tree_seen t = { 0 };
    struct xfer x = { .data = tree_data, .hole = tree_hole, .opaque = &t };
    ferry_read_tree_args a = { .path = "/t", .contents = true, .inline_max = 65536 };
    ferry_void v;
    CHECK(p.cl.capabilities & FERRY_CAP_TREE, "the daemon says it reads trees");
    CHECK(rpc_read_tree(&p.cl, &a, &v, &x) == 0, "%s", p.cl.msg);
    /* each file with its bytes, in the walk's order (readdir's), so look
     * for each one alone */
    char want[256];
    unsigned long big = 0, sparse = 0;
    for (int i = 0; i < 100000; i++)
        big = big * 31 + 'x';
    for (int i = 0; i < (1 << 20); i++)
        sparse = sparse * 31;
    sparse = ((sparse * 31 + 'e') * 31 + 'n') * 31 + 'd';
    const char *each[] = { "d dir 0 0;", "empty inline 0 0;", "l other 0 0;", want, NULL };
    snprintf(want, sizeof want, "d/s inline 5 %lu;", sum_of("small", 5));
    for (int i = 0; each[i]; i++)
        CHECK(strstr(t.text, each[i]), "'%s' in %s", each[i], t.text);
    snprintf(want, sizeof want, "big(1 ranges) stream 0 %lu;", big);
    CHECK(strstr(t.text, want), "'%s' in %s", want, t.text);
    snprintf(want, sizeof want, "sparse(1 ranges) stream 0 %lu;", sparse);
    CHECK(strstr(t.text, want), "'%s' in %s", want, t.text);
    /* entries alone: no bytes, no streams */
    memset(&t, 0, sizeof t);
    a.contents = false;
    CHECK(rpc_read_tree(&p.cl, &a, &v, &x) == 0, "%s", p.cl.msg);
    CHECK(strstr(t.text, "big other 0 0;") && !strstr(t.text, "stream"), "without contents: %s",
          t.text);
    /* the client gives up on the first batch: the channel stays in step */
    memset(&t, 0, sizeof t);
    t.fail_at = 1;
    a.contents = true;
    CHECK(rpc_read_tree(&p.cl, &a, &v, &x) < 0 && p.cl.err == EPIPE, "cancelled: %s", p.cl.msg);
    CHECK(ping(&p) == 0, "channel after a cancelled tree");
    stop(&p);
}

TEST(shutdown_ends_the_daemon)
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

TEST(sparse_1gib_download_keeps_holes_in_constant_memory)
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
TEST(dense_256mib_download_in_constant_memory)
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
    case 0:
        *hole = 300 << 20;
        return 0;
    case 1:
        memcpy(buf, "data", 4);
        return 4;
    case 2:
        *hole = 100 << 20;
        return 0;
    default:
        return 0;
    }
}

TEST(sparse_upload_keeps_holes)
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

TEST(progress_events_interleave_with_chunks)
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
