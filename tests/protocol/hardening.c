/* hardening.c: what a hostile image cannot make the daemon do: leave the
 * served root (touch, tar-in), hang on a fifo, pass a read error as data,
 * lose bytes when O_DIRECT is refused midway. Faults are injected into the
 * real daemon with strace (-e inject). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "protocol/lib.h"

/* A directory outside the served root, for symlinks to point at. */
static char *outside(void)
{
    static char dir[300];
    snprintf(dir, sizeof dir, "%s.outside", root);
    sh("rm -rf '%s' && mkdir -p '%s'", dir, dir);
    return dir;
}

TEST(touch_stays_inside_the_root)
{
    struct peer p;
    ferry_void v;
    fresh_root();
    char *out = outside(), target[512];
    snprintf(target, sizeof target, "%s/made", out);
    symlink(target, in_root("/esc"));
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_touch_args t = { .path = "/esc", .create = true, .now = true };
    rpc_touch(&p.cl, &t, &v, NULL);
    CHECK(access(target, F_OK) < 0, "touch created %s, outside the root", target);
    t.nofollow = true;
    t.create = false;
    CHECK(rpc_touch(&p.cl, &t, &v, NULL) == 0, "touch -h of the link: %s", p.cl.msg);
    stop(&p);
}

/* touch of a device node in the image sets its times without opening it
 * (inotify sees every open, even of /dev/null's twin) */
TEST(touch_opens_no_device_node)
{
    struct peer p;
    ferry_void v;
    char ev[4096];
    fresh_root();
    CHECK(mknod(in_root("/null"), S_IFCHR | 0666, makedev(1, 3)) == 0, "mknod: %s",
          strerror(errno));
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    CHECK(in >= 0 && inotify_add_watch(in, in_root("/null"), IN_OPEN) >= 0, "inotify: %s",
          strerror(errno));
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_touch_args t = { .path = "/null", .create = true, .now = true };
    CHECK(rpc_touch(&p.cl, &t, &v, NULL) == 0, "touch: %s", p.cl.msg);
    stop(&p);
    ssize_t n = read(in, ev, sizeof ev);
    close(in);
    CHECK(n < 0 && errno == EAGAIN, "the daemon opened the device node (%zd bytes of events)", n);
}

TEST(tar_in_stays_inside_the_root)
{
    struct peer p;
    ferry_void v;
    fresh_root();
    char *out = outside();
    mkdir(in_root("/d"), 0755);
    symlink(out, in_root("/d/a"));
    /* a member below the link, without a directory entry of its own */
    sh("python3 -c \"import io,tarfile; t=tarfile.open('%s.tar','w'); i=tarfile.TarInfo('a/x');"
       " i.size=3; t.addfile(i, io.BytesIO(b'bad')); t.close()\"",
       root);
    char tarname[300], data[16384];
    snprintf(tarname, sizeof tarname, "%s.tar", root);
    size_t n = read_file(tarname, data, sizeof data);
    unlink(tarname);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    struct src s = { .data = (unsigned char *) data, .len = n, .piece = SIZE_MAX };
    struct xfer x = { .read = src_read, .opaque = &s };
    ferry_tar_args a = { .path = "/d" };
    rpc_tar_in(&p.cl, &a, &v, &x);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "%s/x", out);
    CHECK(access(cmd, F_OK) < 0, "tar wrote %s, outside the root", cmd);
    CHECK(ping(&p) == 0, "next call: %s", p.cl.msg);
    stop(&p);
}

TEST(registry_refuses_a_fifo)
{
    struct peer p;
    fresh_root();
    mkfifo(in_root("/SOFTWARE"), 0644);
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    ferry_reg_args a = { .hive = "/SOFTWARE", .key = "" };
    CLEANUP_XDR(ferry_reg_ret) r = { 0 };
    double t0 = now();
    CHECK(rpc_reg_values(&p.cl, &a, &r, NULL) < 0 && p.cl.err == EINVAL && p.cl.remote,
          "a fifo as a hive: %s", p.cl.msg);
    CHECK(now() - t0 < 2, "took %.1f s", now() - t0);
    stop(&p);
}

TEST(upload_over_a_symlink_takes_the_new_mode)
{
    struct peer p;
    struct stat st;
    fresh_root();
    write_file(in_root("/f"), "old", 3);
    symlink("/f", in_root("/l"));
    CHECK(start_daemon(&p) == 0, "%s", p.cl.msg);
    struct src s = { .data = (unsigned char *) "new", .len = 3, .piece = SIZE_MAX };
    struct xfer x = { .read = src_read, .opaque = &s };
    ferry_upload_args a = { .path = "/l", .mode = 0640 };
    ferry_transfer_ret r;
    CHECK(rpc_upload(&p.cl, &a, &r, &x) == 0, "%s", p.cl.msg);
    CHECK(lstat(in_root("/l"), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0640,
          "mode %o", st.st_mode);
    stop(&p);
}

/* The first O_DIRECT write of an upload is refused (EINVAL, as some
 * filesystems do midway): what was staged must still all be written. */
TEST(direct_write_refused_midway_loses_nothing)
{
    static const char *const strace[] = { "strace",
                                          "-f",
                                          "-qq",
                                          "-o",
                                          "/dev/null",
                                          "-e",
                                          "trace=pwrite64",
                                          "-e",
                                          "inject=pwrite64:error=EINVAL:when=1",
                                          NULL };
    struct peer p;
    size_t len = 3 * 1000 * 1000 + 333;
    unsigned char *data = pattern(len);
    fresh_root();
    CHECK(start_daemon_wrapped(&p, strace) == 0, "%s", p.cl.msg);
    /* pieces that are no multiple of a block leave a partial one staged */
    struct src s = { .data = data, .len = len, .piece = 1000 };
    struct xfer x = { .read = src_read, .opaque = &s };
    ferry_upload_args a = { .path = "/up", .mode = 0644 };
    ferry_transfer_ret r;
    CHECK(rpc_upload(&p.cl, &a, &r, &x) == 0, "%s", p.cl.msg);
    unsigned char *got = malloc(len + 1);
    size_t n = read_file(in_root("/up"), (char *) got, len + 1);
    CHECK(n == len && memcmp(got, data, len) == 0, "%zu bytes written of %zu, or they differ", n,
          len);
    free(got);
    free(data);
    stop(&p);
}

static const char *const eio_from_the_third_read[] = { "strace",
                                                       "-f",
                                                       "-qq",
                                                       "-o",
                                                       "/dev/null",
                                                       "-e",
                                                       "trace=pread64",
                                                       "-e",
                                                       "inject=pread64:error=EIO:when=3+",
                                                       NULL };

/* A real daemon meeting a read error: the bytes before it, then the error
 * with its offset; never bytes that were not read. */
TEST(read_error_mid_download_is_an_error_at_its_offset)
{
    struct peer p;
    size_t len = 1 << 20;
    unsigned char *data = pattern(len);
    fresh_root();
    write_file(in_root("/f"), data, len);
    CHECK(start_daemon_wrapped(&p, eio_from_the_third_read) == 0, "%s", p.cl.msg);
    struct mem m = { 0 };
    struct xfer x = { .data = mem_data, .hole = mem_hole, .opaque = &m };
    ferry_download_args a = { .path = "/f" };
    ferry_transfer_ret r;
    CHECK(rpc_download(&p.cl, &a, &r, &x) < 0, "the download went through");
    CHECK(p.cl.err == EIO && p.cl.remote && strstr(p.cl.msg, "at offset 131072"), "%s", p.cl.msg);
    CHECK(m.len == 131072 && !memcmp(m.buf, data, m.len), "%zu bytes before the error", m.len);
    CHECK(ping(&p) == 0, "next call: %s", p.cl.msg);
    free(m.buf);
    free(data);
    stop(&p);
}

static uint64_t bad_bytes;
static int count_bad(void *o, uint64_t len)
{
    bad_bytes += len;
    return mem_hole(o, len);
}

TEST(read_error_with_zeros_goes_on)
{
    struct peer p;
    size_t len = 1 << 20;
    unsigned char *data = pattern(len);
    fresh_root();
    write_file(in_root("/f"), data, len);
    CHECK(start_daemon_wrapped(&p, eio_from_the_third_read) == 0, "%s", p.cl.msg);
    struct mem m = { 0 };
    struct xfer x = { .data = mem_data, .hole = mem_hole, .bad = count_bad, .opaque = &m };
    ferry_download_args a = { .path = "/f", .unreadable_as_zeros = true };
    ferry_transfer_ret r;
    bad_bytes = 0;
    CHECK(rpc_download(&p.cl, &a, &r, &x) == 0, "%s", p.cl.msg);
    CHECK(m.len == len && bad_bytes == len - 131072 && !memcmp(m.buf, data, 131072),
          "%zu bytes, %llu unreadable", m.len, (unsigned long long) bad_bytes);
    free(m.buf);
    free(data);
    stop(&p);
}
