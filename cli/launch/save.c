/* save.c: making the saved appliance, at build time.
 *
 * The build runs FERRY_SAVE_STATE=FILE ferry: this boots the appliance
 * with the qemu ferry carries, as a run would but with no disks and with
 * "ferry.wake" for the kernel; ferryd zeroes its free memory and says it is
 * ready (proto/wake.h); then qemu's monitor, on a socketpair, migrates the
 * running machine into FILE, a descriptor handed over with SCM_RIGHTS (the
 * sandbox lets qemu start nothing, and Landlock open nothing). FILE.sig gets
 * the machine signature, which a run compares with its own before it
 * resumes. build.sh compresses FILE and links it in. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "launch/console.h"
#include "launch/launch.h"
#include "launch/session.h"
#include "output/output.h"
#include "wake.h"

#define SAVE_LIMIT_MS 120000

static int save(int chan, int mon, int out)
{
    char buf[4096];

    if (read_until(chan, FERRY_WAKE_READY, buf, sizeof buf, SAVE_LIMIT_MS) < 0) {
        report("save: the appliance never said it was ready");
        return -1;
    }
    if (read_until(mon, "\n", buf, sizeof buf, SAVE_LIMIT_MS) < 0 ||
        qmp_command(mon, "{\"execute\":\"qmp_capabilities\"}\n", -1, buf, sizeof buf,
                    SAVE_LIMIT_MS) < 0 ||
        qmp_command(mon,
                    "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"max-bandwidth\":"
                    "107374182400}}\n",
                    -1, buf, sizeof buf, SAVE_LIMIT_MS) < 0 ||
        qmp_command(mon, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"state\"}}\n", out, buf,
                    sizeof buf, SAVE_LIMIT_MS) < 0 ||
        qmp_command(mon, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:state\"}}\n", -1,
                    buf, sizeof buf, SAVE_LIMIT_MS) < 0) {
        report("save: qemu's monitor said: %s", buf);
        return -1;
    }
    /* the machine runs on while it is copied (the guest only waits); the
     * state records it running, so that a resume runs it at once */
    for (int i = 0; i < SAVE_LIMIT_MS / 50; i++) {
        if (qmp_command(mon, "{\"execute\":\"query-migrate\"}\n", -1, buf, sizeof buf,
                        SAVE_LIMIT_MS) < 0)
            break;
        if (strstr(buf, "\"completed\""))
            return qmp_command(mon, "{\"execute\":\"quit\"}\n", -1, buf, sizeof buf,
                               SAVE_LIMIT_MS) < 0
                       ? -1
                       : 0;
        if (strstr(buf, "\"failed\"") || strstr(buf, "\"cancelled\""))
            break;
        nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
    }
    report("save: the migration did not complete: %s", buf);
    return -1;
}

int launch_save_state(struct session *s, const char *path)
{
    int chan[2], out, ok = -1;
    char sigpath[4096];

    s->accel = "tcg";
    if (launch_prepare(s) < 0)
        return EXIT_FAILED;
    snprintf(sigpath, sizeof sigpath, "%s.sig", path);
    if ((out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        report("%s: %s", path, strerror(errno));
        return EXIT_FAILED;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) < 0) {
        report("socketpair: %s", strerror(errno));
        return EXIT_FAILED;
    }
    if (launch_qemu(s, chan[1], false, "microvm", LAUNCH_SAVE) == 0) {
        close(chan[1]);
        ok = save(chan[0], launch_monitor(), out);
        int status;
        if (ok < 0) {
            kill(session_child, SIGKILL);
            console_tail();
        }
        waitpid(session_child, &status, 0);
    }
    close(out);
    FILE *f = ok == 0 ? fopen(sigpath, "we") : NULL;
    if (f) {
        fprintf(f, "%s", launch_signature(s));
        ok = fclose(f) == 0 ? 0 : -1;
    }
    if (ok < 0) {
        unlink(path);
        report("save: %s: failed", path);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}
