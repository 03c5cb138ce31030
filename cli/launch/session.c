/* session.c: bring the appliance up, shake hands, mount, and shut down. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "launch/session.h"
#include "output/output.h"

/* Start the other end and wait for its hello. Returns 0, or -1 with the
 * client's message set; *timed_out tells a silent guest from a failure. */
static int launch(struct session *s, int launch_ms, bool *timed_out, bool *failed_to_start)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(s->cl.msg, sizeof s->cl.msg, "socketpair: %s", strerror(errno));
        return -1;
    }
    if ((s->test_root ? launch_test_daemon(s, sv[1]) : launch_qemu(s, sv[1])) < 0) {
        close(sv[0]);
        close(sv[1]);
        *failed_to_start = true;
        return -1;
    }
    close(sv[1]);
    memset(&s->cl, 0, sizeof s->cl);
    s->cl.call_timeout_ms = s->timeout_s * 1000;
    s->cl.call_limit_ms = s->call_limit_s * 1000;
    s->cl.trace = s->trace;
    const char *chunk = getenv("FERRY_CHUNK_SIZE");
    if (chunk && atoi(chunk) > 0 && atoi(chunk) <= FERRY_MAX_CHUNK)
        s->cl.chunk_size = atoi(chunk);
    if (client_handshake(&s->cl, sv[0], launch_ms) == 0)
        return 0;
    *timed_out = s->cl.err == ETIMEDOUT;
    kill(session_child, SIGKILL);
    waitpid(session_child, NULL, 0);
    session_child = 0;
    close(sv[0]);
    client_free(&s->cl);
    return -1;
}

/* A KVM guest boots in a fraction of a second; one silent this long hangs
 * (some hosts expose a /dev/kvm whose guests never run). */
#define KVM_WATCHDOG_MS 5000

int session_start(struct session *s)
{
    int launch_ms = s->launch_timeout_s * 1000;
    bool timed_out = false, not_started = false;
    int r;

    if (!s->test_root && !strcmp(s->accel, "auto") && launch_would_use_kvm()) {
        r = launch(s, launch_ms < KVM_WATCHDOG_MS ? launch_ms : KVM_WATCHDOG_MS, &timed_out,
                   &not_started);
        if (r < 0 && !not_started) {
            if (timed_out)
                report("the KVM guest did not start within %d s; falling back to TCG",
                       KVM_WATCHDOG_MS / 1000);
            else
                report("KVM failed (%s); falling back to TCG", s->cl.msg);
            s->accel = "tcg";
            r = launch(s, launch_ms, &timed_out, &not_started);
        }
    } else {
        r = launch(s, launch_ms, &timed_out, &not_started);
    }
    /* qemu older than 4.2 has no microvm: the PC machine then */
    if (r < 0 && !not_started && !timed_out && !strcmp(s->machine, "microvm") && !s->test_root &&
        launch_qemu_said("machine type")) {
        if (s->verbose)
            report("qemu has no microvm machine; using q35");
        s->machine = "q35";
        r = launch(s, launch_ms, &timed_out, &not_started);
    }
    if (r < 0) {
        if (!not_started) {
            report("%s", s->cl.msg);
            launch_console_tail();
        }
        return EXIT_FAILED;
    }
    s->started = true;
    if (s->verbose)
        report("appliance up: ferryd %s, protocol %u, kernel %s", s->cl.daemon_version,
               s->cl.protocol_version, s->cl.kernel_version);
    return EXIT_OK;
}

/* Wait for the child at most ms milliseconds; 0 when it was reaped. */
static int reap(pid_t pid, int ms, int *status)
{
    for (int waited = 0; waited <= ms; waited += 10) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return 0;
        nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
    }
    return -1;
}

int session_end(struct session *s)
{
    int status = 0, ret = 0;

    if (!s->cl.broken && rpc_shutdown(&s->cl, NULL, NULL, NULL) < 0) {
        call_failed(s);
        ret = -1;
    }
    close(s->cl.w.fd);
    if (session_child > 0 && reap(session_child, 10000, &status) < 0) {
        report("the appliance did not power off; killing it");
        kill(session_child, SIGKILL);
        reap(session_child, 2000, &status);
        ret = -1;
    }
    session_child = 0;
    client_free(&s->cl);
    s->started = false;
    return ret;
}

void session_kill(void)
{
    if (session_child > 0)
        kill(session_child, SIGKILL);
}

int call_failed(struct session *s)
{
    report("%s: %s", s->command, s->cl.msg);
    if (s->cl.broken)
        launch_console_tail();
    return EXIT_FAILED;
}
