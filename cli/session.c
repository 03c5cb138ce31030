/* session.c: bring the appliance up, shake hands, mount, and shut down. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ferry.h"

void session_start(struct session *s, int flags)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        die(EXIT_FAILED, "socketpair: %s", strerror(errno));
    if ((s->test_root ? launch_test_daemon(s, sv[1]) : launch_qemu(s, sv[1])) < 0)
        exit(EXIT_FAILED);
    close(sv[1]);
    s->cl.call_timeout_ms = s->timeout_s * 1000;
    s->cl.trace = s->trace;
    if (client_handshake(&s->cl, sv[0], s->launch_timeout_s * 1000) < 0) {
        warnx_("%s", s->cl.msg);
        launch_console_tail(s);
        if (child_pid > 0)
            kill(child_pid, SIGKILL);
        exit(EXIT_FAILED);
    }
    s->started = true;
    if (s->verbose)
        warnx_("appliance up: ferryd %s, protocol %u, kernel %s", s->cl.daemon_version,
               s->cl.protocol_version, s->cl.kernel_version);
    if (!(flags & CMD_NO_MOUNT) && !s->test_root)
        mount_filesystems(s);
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
        call_error(s);
        ret = -1;
    }
    close(s->cl.w.fd);
    if (child_pid > 0 && reap(child_pid, 10000, &status) < 0) {
        warnx_("the appliance did not power off; killing it");
        kill(child_pid, SIGKILL);
        reap(child_pid, 2000, &status);
        ret = -1;
    }
    child_pid = 0;
    client_free(&s->cl);
    return ret;
}
