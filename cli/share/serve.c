/* serve.c: the ferry behind a session. It starts the appliance as any
 * command would, then lends its channel to one joining command at a time
 * (share.h), and ends it when told to stop, when idle too long, or on
 * SIGTERM; an appliance that died is said to the next command to join. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "io/transfer.h"
#include "launch/console.h"
#include "launch/launch.h"
#include "launch/session.h"
#include "output/output.h"
#include "share/share.h"
#include "signals.h"

/* A joining command has this long to say what it wants. */
#define REQUEST_LIMIT_MS 10000
/* A resync after a command that died mid-frame: the daemon gives up on the
 * frame after 5 s and then looks for the next sync. A daemon still busy
 * with the dead command's call sends keepalives: it is waited for as long
 * as a call may run (--call-limit); one silent for a whole try is dead. */
#define RESYNC_TRY_MS 7000

struct server {
    struct session *s;
    int listen_fd;
    char path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
    int idle_ms; /* 0: no limit */
    char *images;
    size_t images_len;
    bool dead;
    char why[512];
    bool has_plan; /* what is mounted: plan, else nothing */
    char plan[SHARE_PLAN_MAX];
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static void remove_socket(struct server *sv)
{
    char dir[sizeof sv->path];

    if (!sv->path[0])
        return;
    unlink(sv->path);
    memcpy(dir, sv->path, sizeof dir);
    *strrchr(dir, '/') = '\0';
    rmdir(dir); /* when no other session is there */
    sv->path[0] = '\0';
}

static void appliance_died(struct server *sv, const char *what)
{
    char line[400];

    if (sv->dead)
        return;
    sv->dead = true;
    console_drain();
    console_guest_line("Kernel panic", line, sizeof line);
    if (line[0])
        snprintf(sv->why, sizeof sv->why, "%s; its kernel crashed: %s", what, line);
    else
        snprintf(sv->why, sizeof sv->why, "%s", what);
    if (session_child > 0) {
        kill(session_child, SIGKILL);
        waitpid(session_child, NULL, 0);
        session_child = 0;
    }
}

/* Nothing mounted, for the next command. */
static void unmount_all(struct server *sv)
{
    ferry_release_args a = { .unmount = true };
    ferry_void r;

    sv->has_plan = false;
    if (!sv->dead && rpc_release(&sv->s->cl, &a, &r, NULL) < 0 && sv->s->cl.broken)
        appliance_died(sv, sv->s->cl.msg);
}

/* After a command that ended without a word (killed): the channel may
 * hold the rest of anything. */
static void repair(struct server *sv)
{
    struct client *cl = &sv->s->cl;
    int timeout = cl->w.timeout_ms;
    int64_t limit = wire_now_ms() + (cl->call_limit_ms > 0 ? cl->call_limit_ms : 3600000);
    const char *try_ms =
        getenv("FERRY_TEST_RESYNC_MS"); /* tests: a long call without waiting long */

    cl->w.timeout_ms = try_ms ? atoi(try_ms) : RESYNC_TRY_MS;
    while (!sv->dead) {
        uint64_t heard = cl->w.received;
        if (client_resync(cl) == 0)
            break;
        if (errno != ETIMEDOUT || cl->w.received == heard || wire_now_ms() > limit)
            appliance_died(sv, "the appliance did not answer a resync after a command was killed");
        cl->broken = false;
    }
    cl->w.timeout_ms = timeout;
}

static int send_greeting(struct server *sv, int conn, struct share_greeting *g, int fd)
{
    struct iovec iov[2] = { { g, sizeof *g }, { sv->images, sv->images_len } };
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(SHARE_MAX_FDS * sizeof(int))];
    } u = { 0 };
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
    int fds[SHARE_MAX_FDS], n = 0;
    uint64_t size;

    share_magic(g->magic);
    if (fd >= 0) {
        /* the channel, then the raw images: the command reads their files'
         * bytes itself, as a run of its own would */
        fds[n++] = fd;
        for (int i = 0; i < sv->s->nimages && n < SHARE_MAX_FDS; i++)
            if ((fds[n] = direct_image(i, &size)) >= 0) {
                g->raw_images |= 1u << i;
                n++;
            }
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n * sizeof(int));
    }
    return sendmsg(conn, &m, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* Wait for one message on conn; its length, 0 at the end, -1 when
 * nothing came within ms (-1: no limit) or a signal stops the server. */
static ssize_t receive(struct server *sv, int conn, struct share_request *q, int ms)
{
    struct pollfd p[2] = { { .fd = conn, .events = POLLIN }, { .fd = sv->s->cl.w.fd } };

    for (;;) {
        int r = poll(p, sv->dead ? 1 : 2, ms);
        if (r < 0 && errno == EINTR)
            continue; /* a stop waits for the command to end */
        if (r <= 0)
            return -1;
        if (!sv->dead && p[1].revents)
            appliance_died(sv, "the appliance exited");
        if (p[0].revents) {
            ssize_t n = recv(conn, q, sizeof *q, MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            return n < 0 ? 0 : n;
        }
    }
}

/* One command: lend it the channel and wait until it gives it back.
 * true when it was told the appliance is dead (the server's last word). */
static bool lend(struct server *sv, int conn, const struct share_request *q)
{
    struct share_greeting g = { .status = SHARE_OK };
    struct session *s = sv->s;
    struct share_request done;

    if (q->want == SHARE_WANT_PLAN && sv->has_plan && !strcmp(q->plan, sv->plan))
        g.mounted = 1;
    else if (q->want != SHARE_WANT_ANY && sv->has_plan)
        unmount_all(sv);
    if (sv->dead) {
        g.status = SHARE_DEAD;
        snprintf(g.message, sizeof g.message, "%s", sv->why);
        remove_socket(sv);
        send_greeting(sv, conn, &g, -1);
        return true;
    }
    g.rw = s->rw;
    g.kvm = s->kvm;
    g.resumed = s->resumed;
    g.protocol_version = s->cl.protocol_version;
    g.capabilities = s->cl.capabilities;
    memcpy(g.daemon_version, s->cl.daemon_version, sizeof g.daemon_version);
    memcpy(g.kernel_version, s->cl.kernel_version, sizeof g.kernel_version);
    g.nimages = s->nimages;
    if (send_greeting(sv, conn, &g, s->cl.w.fd) < 0)
        return false;
    /* the command has the channel now: until it is back, only watch it */
    enum share_left left = SHARE_LEFT_UNKNOWN;
    bool said = false;
    for (;;) {
        ssize_t n = receive(sv, conn, &done, -1);
        if (n == (ssize_t) sizeof done && share_magic_ok(done.magic) && done.op == SHARE_DONE) {
            left = done.want;
            said = true;
            continue;
        }
        if (n <= 0)
            break;
    }
    if (sv->dead)
        return false; /* the command saw it die; the next one hears why */
    if (!said)
        repair(sv);
    if (left == SHARE_LEFT_PLAN && q->want == SHARE_WANT_PLAN) {
        sv->has_plan = true;
        memcpy(sv->plan, q->plan, sizeof sv->plan);
    } else if (left != SHARE_LEFT_UNCHANGED || !said) {
        unmount_all(sv);
    }
    return false;
}

/* One connection: a command joining, or a stop. true: stop the server. */
static bool answer(struct server *sv, int conn)
{
    struct share_request q;
    struct ucred cred;
    socklen_t len = sizeof cred;

    if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != geteuid())
        return false; /* the directory keeps others out; this is the second wall */
    ssize_t n = receive(sv, conn, &q, REQUEST_LIMIT_MS);
    if (n != (ssize_t) sizeof q)
        return false;
    if (!share_magic_ok(q.magic)) {
        struct share_greeting g = { .status = SHARE_REFUSED };
        snprintf(g.message, sizeof g.message,
                 "the session was started by another version of ferry (%s, protocol %u)",
                 FERRY_VERSION, FERRY_PROTOCOL_VERSION);
        send_greeting(sv, conn, &g, -1);
        return false;
    }
    q.plan[sizeof q.plan - 1] = '\0';
    if (q.op == SHARE_STOP) {
        struct share_greeting g = { .status = sv->dead ? SHARE_DEAD : SHARE_STOPPED };
        snprintf(g.message, sizeof g.message, "%s", sv->why);
        if (!sv->dead && session_end(sv->s) < 0)
            snprintf(g.message, sizeof g.message, "%s", "the appliance did not stop cleanly");
        sv->dead = true;
        remove_socket(sv); /* gone when the stop returns */
        send_greeting(sv, conn, &g, -1);
        return true;
    }
    if (q.op != SHARE_JOIN)
        return false;
    return lend(sv, conn, &q);
}

/* SIGTERM stops the server between commands. It is blocked but while the
 * server waits for the next one (ppoll): none is lost between a look at
 * stop_signal and the wait. */
static void serve(struct server *sv, const sigset_t *waiting)
{
    int64_t idle_until = sv->idle_ms ? wire_now_ms() + sv->idle_ms : -1;

    while (!stop_signal) {
        struct pollfd p[2] = { { .fd = sv->listen_fd, .events = POLLIN },
                               { .fd = sv->s->cl.w.fd } };
        int64_t ms = idle_until < 0 ? -1 : idle_until - wire_now_ms();
        if (idle_until >= 0 && ms <= 0)
            break;
        struct timespec t = { ms / 1000, ms % 1000 * 1000000 };
        int r = ppoll(p, sv->dead ? 1 : 2, ms < 0 ? NULL : &t, waiting);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        if (!sv->dead && p[1].revents)
            appliance_died(sv, "the appliance exited while the session was idle");
        if (!(p[0].revents & POLLIN))
            continue;
        int conn = accept4(sv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
            continue;
        bool stop = answer(sv, conn);
        close(conn);
        if (stop)
            return;
        if (sv->idle_ms)
            idle_until = wire_now_ms() + sv->idle_ms;
    }
    if (!sv->dead)
        session_end(sv->s);
}

/* The images as paths from /: a command joining from another directory
 * must name the same files (--log hashes them). */
static int absolute_images(struct server *sv, struct session *s)
{
    sv->images_len = 0;
    sv->images = NULL;
    for (int i = 0; i < s->nimages; i++) {
        char *abs = realpath(s->images[i].path, NULL);
        if (!abs) {
            report("%s: %s", s->images[i].path, strerror(errno));
            return -1;
        }
        size_t n = strlen(abs) + 1;
        char *grown = realloc(sv->images, sv->images_len + n);
        if (!grown)
            return free(abs), -1;
        memcpy(grown + sv->images_len, abs, n);
        sv->images = grown;
        sv->images_len += n;
        s->images[i].path = abs;
    }
    return 0;
}

/* Print what sets FERRY_SESSION, for `eval "$(ferry session start ...)"`. */
static void say_variable(const char *path)
{
    fputs("FERRY_SESSION='", stdout);
    for (const char *p = path; *p; p++)
        if (*p == '\'')
            fputs("'\\''", stdout);
        else
            fputc(*p, stdout);
    fputs("'; export FERRY_SESSION;\n", stdout);
    fflush(stdout);
}

/* Signals from here on: SIGTERM during the boot kills the appliance and
 * removes the socket (signals.c, the socket as the partial file); once up,
 * it stops the server (serve). */
static void server_signals(sigset_t *waiting)
{
    struct sigaction sa = { .sa_handler = on_stop }; /* no SA_RESTART */
    sigset_t term;

    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, waiting);
    sigdelset(waiting, SIGTERM);
    partial_file(NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (ferry_interrupted)
        stop_signal = ferry_interrupted;
}

int share_start(struct session *s, int idle_timeout_s)
{
    static struct server sv;
    sigset_t waiting;
    int ready[2];
    char ok;

    sv.s = s;
    sv.idle_ms = idle_timeout_s * 1000;
    if (absolute_images(&sv, s) < 0 || (sv.listen_fd = share_listen(sv.path, sizeof sv.path)) < 0)
        return EXIT_FAILED;
    if (pipe2(ready, O_CLOEXEC) < 0)
        return EXIT_FAILED;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        report("fork: %s", strerror(errno));
        remove_socket(&sv);
        return EXIT_FAILED;
    }
    if (pid > 0) {
        /* the caller's shell waits for our standard output to close: say
         * the variable once the appliance is up, and go */
        close(ready[1]);
        close(sv.listen_fd);
        ssize_t n = read(ready[0], &ok, 1);
        int st = 0;
        if (n != 1 && ferry_interrupted) /* ours to end: its appliance and socket go too */
            kill(pid, SIGTERM);
        if (n != 1 && waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && !ferry_interrupted)
            report("the session ended while its appliance started: %s", strsignal(WTERMSIG(st)));
        if (n != 1)
            return EXIT_FAILED; /* else the server said why */
        say_variable(sv.path);
        return EXIT_OK;
    }
    close(ready[0]);
    /* the server holds nothing of its parent's: an inherited lock or pipe
     * would outlive the command that started it */
    close_all_but((int[]){ sv.listen_fd, ready[1] }, 2);
    setsid(); /* the terminal's signals are not ours now */
    signals_graceful(false);
    partial_file(sv.path);
    if (ferry_interrupted || session_start(s) != EXIT_OK) {
        remove_socket(&sv);
        _exit(EXIT_FAILED);
    }
    server_signals(&waiting);
    if (s->verbose)
        report("session %s: %d image%s, %s, ends after %d s idle (0: never)", sv.path, s->nimages,
               s->nimages == 1 ? "" : "s", s->rw ? "read-write" : "read-only", idle_timeout_s);
    /* nothing of the terminal stays open: the shell's $(...) ends */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        close(null);
    }
    if (chdir("/") < 0) {
        /* nothing: the images are open and named from / */
    }
    ok = 'y';
    if (stop_signal || write(ready[1], &ok, 1) != 1) {
        /* the command that started it is gone: nobody has the name */
        session_end(s);
        remove_socket(&sv);
        _exit(EXIT_FAILED);
    }
    close(ready[1]);
    serve(&sv, &waiting);
    remove_socket(&sv);
    _exit(EXIT_OK);
}
