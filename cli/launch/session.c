/* session.c: bring the appliance up, shake hands, and shut it down.
 *
 * Choosing the accelerator: KVM when /dev/kvm works (a user who may not
 * open it is told how to get it), else TCG. A KVM attempt falls back to
 * TCG only when KVM itself failed: qemu said so, the guest burnt
 * KVM_HUNG_CPU_MS of processor time without a sign of life (some hosts
 * expose a /dev/kvm whose guests spin for ever), or it said nothing until
 * --launch-timeout. A qemu that is merely slow to start (a cold cache, a
 * loaded host) uses little processor time and is waited for, up to that.
 * Any other failure is qemu's own, said in its own words, and not retried. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "appliance.h"
#include "commands.h"
#include "launch/console.h"
#include "launch/launch.h"
#include "launch/session.h"
#include "output/output.h"
#include "wake.h"

#define KVM_HUNG_CPU_MS 5000
/* A saved appliance that has not said hello in this long never will: boot
 * instead (a resume takes a few tenths of a second under TCG). */
#define RESUME_LIMIT_MS 10000

enum outcome { UP, FAILED, TIMED_OUT, HUNG, BAD_STATE };

/* The processor time a process has used, in ms (all its threads). */
static long cpu_ms(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long utime, stime;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    if (!(f = fopen(path, "re")))
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the name may hold anything */
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (long) ((utime + stime) * 1000 / sysconf(_SC_CLK_TCK));
}

void session_client_init(struct session *s)
{
    memset(&s->cl, 0, sizeof s->cl);
    s->cl.call_timeout_ms = s->timeout_s * 1000;
    s->cl.call_limit_ms = s->call_limit_s * 1000;
    s->cl.trace = s->trace;
    const char *chunk = getenv("FERRY_CHUNK_SIZE");
    if (chunk && atoi(chunk) > 0 && atoi(chunk) <= FERRY_MAX_CHUNK)
        s->cl.chunk_size = atoi(chunk);
}

/* Wait for the first bytes on the channel, watching a KVM guest for signs
 * of life; then the handshake. */
static enum outcome await(struct session *s, int fd, bool watch, int launch_ms)
{
    int64_t deadline = wire_deadline(launch_ms);
    uint64_t heard = console_guest_bytes();
    long quiet_since = 0; /* the processor time when it last said something */
    struct pollfd p = { .fd = fd, .events = POLLIN };

    for (;;) {
        int left = wire_left_ms(deadline);
        if (left == 0)
            return TIMED_OUT;
        int r = poll(&p, 1, left < 100 ? left : 100);
        if (r > 0)
            break;
        if (r < 0 && errno != EINTR)
            return FAILED;
        if (!watch)
            continue;
        long cpu = cpu_ms(session_child);
        if (console_guest_bytes() != heard) {
            heard = console_guest_bytes();
            quiet_since = cpu;
        } else if (cpu >= 0 && cpu - quiet_since >= KVM_HUNG_CPU_MS) {
            return HUNG;
        }
    }
    session_client_init(s);
    int left = wire_left_ms(deadline);
    if (client_handshake(&s->cl, fd, left > 0 ? left : 1) == 0)
        return UP;
    return s->cl.err == ETIMEDOUT ? TIMED_OUT : FAILED;
}

/* What is new in this run, for the saved appliance: it waits for this
 * before anything else, and it is all that differs between runs. */
static int send_wake(struct session *s, int fd)
{
    struct ferry_wake w = { .disks = s->nimages, .flags = s->verbose ? FERRY_WAKE_VERBOSE : 0 };
    unsigned char rec[FERRY_WAKE_SIZE];
    struct timespec now;

    if (getrandom(w.seed, sizeof w.seed, 0) != sizeof w.seed)
        return -1;
    clock_gettime(CLOCK_REALTIME, &now);
    w.sec = now.tv_sec;
    w.nsec = now.tv_nsec;
    wake_encode(&w, rec);
    return write(fd, rec, sizeof rec) == sizeof rec ? 0 : -1;
}

/* One try: start the other end and wait for its hello. */
static enum outcome attempt(struct session *s, bool kvm, const char *machine, enum launch_mode mode)
{
    int sv[2], limit = s->launch_timeout_s * 1000;

    launch_exports_end(); /* a former qemu's */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(s->cl.msg, sizeof s->cl.msg, "socketpair: %s", strerror(errno));
        return FAILED;
    }
    int r = s->test_root ? launch_test_daemon(s, sv[1]) : launch_qemu(s, sv[1], kvm, machine, mode);
    close(sv[1]);
    if (r == 0 && mode == LAUNCH_RESUME) {
        limit = limit < RESUME_LIMIT_MS ? limit : RESUME_LIMIT_MS;
        r = send_wake(s, sv[0]);
    }
    if (r < 0) {
        close(sv[0]);
        snprintf(s->cl.msg, sizeof s->cl.msg, "the appliance could not be started");
        return FAILED;
    }
    enum outcome o = await(s, sv[0], kvm, limit);
    if (o == UP) {
        launch_resume_end(); /* qemu has read all of the state */
        return UP;
    }
    if (o == TIMED_OUT)
        snprintf(s->cl.msg, sizeof s->cl.msg, "the appliance did not start within %d s",
                 limit / 1000);
    else if (o == FAILED && !s->cl.msg[0])
        snprintf(s->cl.msg, sizeof s->cl.msg, "the appliance exited before it said hello");
    kill(session_child, SIGKILL);
    waitpid(session_child, NULL, 0);
    session_child = 0;
    close(sv[0]);
    console_drain(); /* all qemu said is in, before it is searched */
    const char *damaged = launch_resume_end();
    if (damaged) {
        report("%s; booting instead", damaged);
        o = BAD_STATE;
    }
    client_free(&s->cl);
    return o;
}

/* Did this attempt fail because of KVM? qemu says so in one of these. */
static bool kvm_said_no(uint64_t mark)
{
    static const char *const words[] = {
        "failed to initialize kvm",
        "failed to initialize KVM",
        "Could not access KVM",
        "KVM kernel module",
        "requires KVM",
        "KVM is not supported",
        "kvm_init",
        "/dev/kvm",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (console_qemu_said(words[i], mark))
            return true;
    return false;
}

/* Whether this run can resume the saved appliance; if not, and verbose,
 * say why. */
static bool can_resume(struct session *s, const char *machine)
{
    static const char *const knobs[] = { "FERRY_CPU", "FERRY_APPEND", "FERRY_CHUNK_SIZE",
                                         "FERRY_READAHEAD_KB", "FERRY_NO_RESUME" };
    const char *saved = appliance_state_signature(), *why = NULL;

    if (!launch_carried())
        why = "a qemu of the system was chosen";
    else if (!saved)
        why = "this ferry carries no saved appliance";
    else if (strcmp(machine, "microvm"))
        why = "the machine is not microvm";
    for (size_t i = 0; !why && i < sizeof knobs / sizeof knobs[0]; i++)
        if (getenv(knobs[i]) && *getenv(knobs[i]))
            why = knobs[i];
    /* its disk slots are read-only, and qemu will not load a writable
     * disk into a slot saved read-only (the device's features differ) */
    if (!why && s->rw)
        why = "--rw (the saved appliance's disks are read-only)";
    if (!why && s->nimages > SAVED_DISKS)
        why = "more images than the saved appliance has slots for";
    if (!why) {
        if (strcmp(launch_signature(s), saved))
            why = "the machine differs from the saved one (--memsize?)";
    }
    if (why && s->verbose)
        report("booting the appliance: %s", why);
    return !why;
}

/* Did a resume fail because of the saved state, so that a boot may do
 * better? Not when qemu refused something else (an image): a boot would
 * only fail the same way, later. */
static bool resume_failed(enum outcome o, uint64_t mark)
{
    static const char *const words[] = { "migration", "savevm",   "vmstate", "section",
                                         "RAM block", "ramblock", "incoming" };
    if (o == TIMED_OUT || o == BAD_STATE)
        return true;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (console_qemu_said(words[i], mark))
            return true;
    return false;
}

/* auto: KVM if it works here; a user denied /dev/kvm hears how to get it. */
static bool choose_kvm(struct session *s)
{
    if (!strcmp(s->accel, "kvm"))
        return true;
    if (strcmp(s->accel, "auto") || s->test_root)
        return false;
    switch (kvm_state()) {
    case KVM_USABLE:
        return true;
    case KVM_DENIED:
        report("%s: permission denied, so the appliance runs without KVM, about ten times slower; "
               "for KVM, add yourself to the kvm group (sudo usermod -aG kvm $USER, then log in "
               "again)",
               kvm_device());
        return false;
    case KVM_ABSENT:
        return false;
    }
    return false;
}

/* A channel that broke: did the kernel crash? Its last words say so. */
static void crash_or_console(void)
{
    static bool told;
    char line[512];

    if (told)
        return;
    told = true;
    console_guest_line("Kernel panic", line, sizeof line);
    if (!line[0])
        console_guest_line("BUG:", line, sizeof line);
    if (line[0])
        report("the appliance's kernel crashed: %s", line);
    console_tail();
}

/* Resume the saved appliance when this run can, else boot it. A resume
 * that failed because of the state boots instead; one that spun under KVM
 * is KVM's failure, left to the caller's fallback. */
static enum outcome start(struct session *s, bool kvm, const char *machine, uint64_t *mark)
{
    enum outcome o;

    if (s->test_root || !can_resume(s, machine))
        return attempt(s, kvm, machine, LAUNCH_BOOT);
    o = attempt(s, kvm, machine, LAUNCH_RESUME);
    s->resumed = o == UP;
    if (o == UP || o == HUNG || !resume_failed(o, *mark))
        return o;
    if (s->verbose) {
        report("the saved appliance did not start (%s); booting it", s->cl.msg);
        console_tail();
    }
    *mark = console_qemu_mark();
    return attempt(s, kvm, machine, LAUNCH_BOOT);
}

int session_start(struct session *s)
{
    const char *machine = s->machine;
    enum outcome o;

    /* the images first: a run that cannot open them needs no advice on KVM */
    if (!s->test_root && launch_prepare(s) < 0)
        return EXIT_FAILED;
    bool kvm = choose_kvm(s);
    uint64_t mark = s->test_root ? 0 : console_qemu_mark();
    o = start(s, kvm, machine, &mark);
    /* qemu older than 4.2 has no microvm: the PC machine then, with the
     * same accelerator */
    if (o == FAILED && !s->test_root && !strcmp(machine, "microvm") &&
        console_qemu_said("machine type", mark)) {
        if (s->verbose)
            report("qemu has no microvm machine; using q35");
        machine = s->machine = "q35";
        mark = console_qemu_mark();
        o = attempt(s, kvm, machine, LAUNCH_BOOT);
    }
    if (kvm && !strcmp(s->accel, "auto") &&
        (o == HUNG || o == TIMED_OUT || (o == FAILED && kvm_said_no(mark)))) {
        if (o == HUNG)
            report("the KVM guest used %d s of processor time without a sign of life; falling "
                   "back to TCG",
                   KVM_HUNG_CPU_MS / 1000);
        else if (o == TIMED_OUT)
            report("%s under KVM; falling back to TCG", s->cl.msg);
        else
            report("KVM failed (qemu's words follow); falling back to TCG");
        if (o == FAILED)
            console_tail();
        kvm = false;
        o = start(s, kvm, machine, &mark);
    }
    if (o != UP) {
        report("%s", o == HUNG ? "the guest spun without a word" : s->cl.msg);
        crash_or_console();
        return EXIT_FAILED;
    }
    s->started = true;
    s->kvm = kvm;
    if (s->verbose)
        report("appliance up (%s, %s, %s): ferryd %s, protocol %u, kernel %s", kvm ? "KVM" : "TCG",
               machine, s->resumed ? "resumed" : "booted", s->cl.daemon_version,
               s->cl.protocol_version, s->cl.kernel_version);
    return EXIT_OK;
}

/* Wait for the child at most ms milliseconds; 0 when it was reaped. */
static int reap(pid_t pid, int ms, int *status)
{
    for (int waited = 0; waited <= ms; waited += 2) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return 0;
        nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
    }
    return -1;
}

int session_end(struct session *s)
{
    int status = 0, ret = 0;

    launch_exports_end();
    if (!s->cl.broken && rpc_shutdown(&s->cl, NULL, NULL, NULL) < 0) {
        call_failed(s);
        ret = -1;
    }
    close(s->cl.w.fd);
    /* a lost appliance will not power off: it was reported already. A
     * read-only one has unmounted everything when it answers, and its
     * qemu writes nothing: its power-off (20 ms under TCG) is not waited for */
    if ((s->cl.broken || (ret == 0 && !s->rw)) && session_child > 0)
        kill(session_child, SIGKILL);
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
    if (s->cl.broken && !s->test_root && !s->joined)
        crash_or_console();
    return EXIT_FAILED;
}
