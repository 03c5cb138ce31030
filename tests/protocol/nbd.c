/* nbd.c: ferry's NBD client (cli/launch/nbd.c) against a scripted server,
 * and its QMP commands (cli/launch/monitor.c) against a scripted monitor:
 * what qemu would send if the image had taken it over. Every lie is an
 * error, never bytes; a server that goes quiet, or talks without end, is
 * a timeout. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch/launch.h"
#include "launch/nbd.h"
#include "protocol/lib.h"

enum fake { FAKE_GOOD, FAKE_OTHER_HANDLE, FAKE_SHORT, FAKE_SILENT, FAKE_ERROR, FAKE_ODD_ERROR };

#define FAKE_SIZE (1u << 20)

static void put(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = v;
}

static uint64_t get(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static int full(int fd, void *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = read(fd, (char *) buf + got, len - got);
        if (n <= 0)
            return -1;
        got += n;
    }
    return 0;
}

/* The byte at offset off of the fake disk. */
static unsigned char byte_at(uint64_t off)
{
    return (unsigned char) (off * 7 + (off >> 12));
}

/* The server's side: the handshake (the export is "disk1" alone), then
 * one answer per request as `how` says. */
static void fake_server(int fd, enum fake how)
{
    unsigned char h[18], o[16], name[64], r[20 + 12];

    memcpy(h, "NBDMAGICIHAVEOPT", 16);
    put(h + 16, 3, 2);
    if (write(fd, h, 18) != 18 || full(fd, h, 4) < 0 || full(fd, o, 16) < 0 ||
        get(o + 12, 4) > sizeof name + 8 || full(fd, name, get(o + 12, 4)) < 0)
        _exit(1);
    bool ours = get(name, 4) == 5 && !memcmp(name + 4, "disk1", 5);
    put(r, 0x0003e889045565a9ull, 8);
    put(r + 8, 7, 4);
    if (!ours) {
        put(r + 12, 0x80000006u, 4); /* NBD_REP_ERR_UNKNOWN */
        put(r + 16, 0, 4);
        write(fd, r, 20);
        _exit(0);
    }
    put(r + 12, 3, 4); /* INFO */
    put(r + 16, 12, 4);
    put(r + 20, 0, 2); /* INFO_EXPORT */
    put(r + 22, FAKE_SIZE, 8);
    put(r + 30, 3, 2);
    if (write(fd, r, 32) != 32)
        _exit(1);
    put(r + 12, 1, 4); /* ACK */
    put(r + 16, 0, 4);
    if (write(fd, r, 20) != 20)
        _exit(1);
    for (;;) {
        unsigned char q[28], a[16];
        if (full(fd, q, 28) < 0)
            _exit(0);
        uint64_t off = get(q + 16, 8);
        uint32_t len = get(q + 24, 4);
        unsigned char *data = malloc(len);
        for (uint32_t i = 0; i < len; i++)
            data[i] = byte_at(off + i);
        put(a, 0x67446698u, 4);
        put(a + 4, how == FAKE_ERROR ? 5 : how == FAKE_ODD_ERROR ? EPROTO : 0, 4);
        memcpy(a + 8, q + 8, 8);
        if (how == FAKE_OTHER_HANDLE)
            a[15] ^= 1;
        if (how == FAKE_SILENT) {
            pause();
            _exit(0);
        }
        write(fd, a, 16);
        if (how == FAKE_SHORT) {
            write(fd, data, len / 2);
            _exit(0);
        }
        if (how != FAKE_ERROR && how != FAKE_ODD_ERROR)
            write(fd, data, len);
        free(data);
    }
}

static pid_t server_pid;

/* A connection to a fake server; the client's end. */
static int serve_fake(enum fake how)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    if ((server_pid = fork()) == 0) {
        close(sv[0]);
        fake_server(sv[1], how);
        _exit(0);
    }
    close(sv[1]);
    return sv[0];
}

static void end_fake(int fd)
{
    close(fd);
    kill(server_pid, SIGKILL);
    waitpid(server_pid, NULL, 0);
}

/* A connection to a fake server, its handshake done ("disk1"): the
 * client's end, or -1 with errno. */
static int opened(enum fake how)
{
    uint64_t size;
    int fd = serve_fake(how);

    if (fd >= 0 && nbd_client_open(fd, "disk1", &size, 2000) < 0) {
        int err = errno;
        end_fake(fd);
        return errno = err, -1;
    }
    return fd;
}

TEST(nbd_client_reads_the_bytes_asked)
{
    int fd = serve_fake(FAKE_GOOD);
    uint64_t size = 0;
    unsigned char buf[8192];
    CHECK(nbd_client_open(fd, "disk1", &size, 2000) == 0, "open: %s", strerror(errno));
    CHECK(size == FAKE_SIZE, "size %llu", (unsigned long long) size);
    int r = nbd_client_read(fd, buf, sizeof buf, 12345, 2000);
    CHECK(r == 0, "read: %d %s", r, strerror(errno));
    for (size_t i = 0; i < sizeof buf; i++)
        CHECK(buf[i] == byte_at(12345 + i), "byte %zu", i);
    end_fake(fd);
}

TEST(nbd_client_asks_for_its_export_by_name)
{
    int fd = serve_fake(FAKE_GOOD);
    uint64_t size;
    CHECK(nbd_client_open(fd, "disk0", &size, 2000) < 0, "another export's name was taken");
    end_fake(fd);
}

TEST(nbd_answer_to_another_request_is_refused)
{
    int fd = opened(FAKE_OTHER_HANDLE);
    unsigned char buf[4096];
    CHECK(fd >= 0, "open: %s", strerror(errno));
    int r = nbd_client_read(fd, buf, sizeof buf, 0, 2000);
    CHECK(r < 0 && errno == EBADMSG, "read gave %d (%s)", r, strerror(errno));
    end_fake(fd);
}

TEST(nbd_answer_cut_short_is_an_error)
{
    int fd = opened(FAKE_SHORT);
    unsigned char buf[4096];
    CHECK(fd >= 0, "open: %s", strerror(errno));
    CHECK(nbd_client_read(fd, buf, sizeof buf, 0, 2000) < 0, "half an answer was taken");
    end_fake(fd);
}

TEST(nbd_silent_server_is_a_timeout)
{
    int fd = opened(FAKE_SILENT);
    unsigned char buf[4096];
    CHECK(fd >= 0, "open: %s", strerror(errno));
    double t0 = now();
    int r = nbd_client_read(fd, buf, sizeof buf, 0, 300);
    CHECK(r < 0 && errno == ETIMEDOUT, "read gave %d (%s)", r, strerror(errno));
    CHECK(now() - t0 < 5, "it waited %.1f s", now() - t0);
    end_fake(fd);
}

TEST(nbd_server_error_is_not_data)
{
    int fd = opened(FAKE_ERROR);
    unsigned char buf[4096];
    CHECK(fd >= 0, "open: %s", strerror(errno));
    CHECK(nbd_client_read(fd, buf, sizeof buf, 0, 2000) == EIO, "no EIO");
    end_fake(fd);
}

/* an errno NBD does not define (here one ferry gives a meaning of its
 * own) is an I/O error: the server cannot choose what ferry says */
TEST(nbd_server_errno_outside_nbds_is_eio)
{
    int fd = opened(FAKE_ODD_ERROR);
    unsigned char buf[4096];
    CHECK(fd >= 0, "open: %s", strerror(errno));
    int r = nbd_client_read(fd, buf, sizeof buf, 0, 2000);
    CHECK(r == EIO, "gave %d", r);
    end_fake(fd);
}

/* A monitor that answers a command with events, for ever. */
TEST(qmp_command_ends_when_the_monitor_talks_without_end)
{
    int sv[2];
    char reply[256];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    pid_t pid = fork();
    if (pid == 0) {
        static const char ev[] = "{\"event\": \"BLOCK_IO_ERROR\"}\n";
        close(sv[0]);
        while (write(sv[1], ev, sizeof ev - 1) > 0) /* never a pause */
            ;
        _exit(0);
    }
    close(sv[1]);
    double t0 = now();
    alarm(20); /* a loop for ever ends the tests, loudly */
    int r = qmp_command(sv[0], "{\"execute\":\"query-status\"}\n", -1, reply, sizeof reply, 300);
    alarm(0);
    double took = now() - t0;
    close(sv[0]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK(r < 0, "an event was taken for the answer: %s", reply);
    CHECK(took < 5, "it took %.1f s", took);
}

TEST(qmp_answer_split_across_reads_is_found)
{
    int sv[2];
    char reply[256];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    pid_t pid = fork();
    if (pid == 0) {
        char cmd[64];
        close(sv[0]);
        read(sv[1], cmd, sizeof cmd);
        write(sv[1], "{\"event\": \"X\"}\n{\"ret", 20);
        usleep(50000);
        write(sv[1], "urn\": {}}\n", 10);
        pause();
        _exit(0);
    }
    close(sv[1]);
    int r = qmp_command(sv[0], "{\"execute\":\"query-status\"}\n", -1, reply, sizeof reply, 2000);
    close(sv[0]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK(r == 0, "the answer was missed: %s", reply);
}

/* The same, made certain: events waiting, the time already up. Reading
 * on while anything is there would drain them all. */
TEST(qmp_command_reads_nothing_past_its_deadline)
{
    int sv[2], queued = 0, left = 0;
    char reply[256];
    static const char ev[] = "{\"event\": \"BLOCK_IO_ERROR\"}\n";
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    while (send(sv[1], ev, sizeof ev - 1, MSG_DONTWAIT) > 0) /* till the socket is full */
        ;
    ioctl(sv[0], FIONREAD, &queued);
    int r = qmp_command(sv[0], "{\"execute\":\"query-status\"}\n", -1, reply, sizeof reply, 0);
    ioctl(sv[0], FIONREAD, &left);
    close(sv[0]);
    close(sv[1]);
    CHECK(r < 0, "an event was taken for the answer: %s", reply);
    CHECK(queued > 1000 && left == queued, "%d of %d bytes of events read after the deadline",
          queued - left, queued);
}
