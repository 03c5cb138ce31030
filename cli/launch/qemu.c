/* qemu.c: starting qemu with the appliance, on one end of a socketpair.
 *
 * qemu is the wall between the image and the host, and it parses the image
 * (its format drivers), so it gets as little as it can use: the images as
 * descriptors ferry opened and checked (image.c, blockdev.c), no network,
 * no display, a seccomp sandbox, and, before it starts, Landlock rules that
 * let it open its own program and libraries and /dev/kvm, nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "appliance.h"
#include "launch/console.h"
#include "launch/launch.h"
#include "launch/session.h"
#include "output/output.h"
#include "wake.h"

pid_t session_child;

pid_t fork_child(void)
{
    pid_t parent = getpid();

    session_child = fork();
    if (session_child < 0)
        report("fork: %s", strerror(errno));
    if (session_child == 0) {
        /* it dies with ferry, whatever kills ferry: no orphaned qemu */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
    }
    return session_child;
}

/* The qemu --qemu ($FERRY_QEMU) names: a path, or a name looked up in
 * PATH as a shell would; NULL when there is none to run. */
static const char *find_qemu(const char *chosen)
{
    static char path[PATH_MAX];
    const char *p = getenv("PATH");

    if (strchr(chosen, '/'))
        return access(chosen, X_OK) == 0 ? chosen : NULL;
    if (!p)
        p = "/usr/local/bin:/usr/bin:/bin";
    while (*p) {
        size_t n = strcspn(p, ":");
        snprintf(path, sizeof path, "%.*s/%s", (int) n, p, chosen);
        if (n && access(path, X_OK) == 0)
            return path;
        p += n + (p[n] == ':');
    }
    return NULL;
}

/* What is prepared once for all the attempts of a run. */
static struct {
    bool ready;
    const char *qemu; /* a qemu of the system (--qemu), or NULL: ours */
    /* tests (FERRY_TEST_CARRIED_STANDIN): a program run in place of ours,
     * taken for ours (the saved appliance is resumed through it): how the
     * KVM path of a resume is tried on machines without KVM */
    const char *standin;
    int carried, bios; /* ours, and its firmware, as memory files */
    int kernel, initrd, console, qemu_err, null;
    int empty; /* /dev/null read-only: an empty disk slot of the saved appliance */
    struct image_file *images[MAX_IMAGES];
} run;

int launch_prepare(struct session *s)
{
    char err[256];

    if (run.ready)
        return 0;
    run.carried = run.bios = -1;
    if (s->qemu && !(run.qemu = find_qemu(s->qemu))) {
        report("%s: no qemu to run there (--qemu, or $FERRY_QEMU)", s->qemu);
        return -1;
    }
    run.standin = s->qemu ? NULL : getenv("FERRY_TEST_CARRIED_STANDIN");
    if (!s->qemu && appliance_unpack_qemu(&run.carried, &run.bios, err, sizeof err) < 0) {
        report("%s", err);
        return -1;
    }
    for (int i = 0; i < s->nimages; i++)
        if (!(run.images[i] = image_open(s->images[i].path, s->images[i].format, s->rw, s->external,
                                         s->verbose)))
            return -1;
    run.kernel = run.initrd = -1; /* unpacked for a boot only */
    if (console_start(s->verbose, &run.console, &run.qemu_err) < 0 ||
        (run.null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 ||
        (run.empty = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        report("the console: %s", strerror(errno));
        return -1;
    }
    run.ready = true;
    return 0;
}

const struct image_file *launch_image(int i)
{
    return run.ready && i >= 0 && i < MAX_IMAGES ? run.images[i] : NULL;
}

/* What qemu may open (the rest is descriptors). A qemu of the system is
 * dynamically linked: its libraries, its modules (TCG itself is one in
 * Debian's) and its firmware are read from the system's directories. */
static void allow_system(struct confine *c, const char *qemu, bool kvm)
{
    static char real[PATH_MAX];
    static const char *const dirs[] = { "/usr",    "/lib", "/lib64", "/lib32",
                                        "/libx32", "/bin", "/sbin" };

    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        confine_allow(c, dirs[i], CONFINE_READ | CONFINE_EXEC);
    confine_allow(c, "/etc/ld.so.cache", CONFINE_READ);
    confine_allow(c, "/etc/ld.so.preload", CONFINE_READ);
    confine_allow(c, "/etc/localtime", CONFINE_READ);
    confine_allow(c, "/dev/null", CONFINE_READ | CONFINE_WRITE);
    confine_allow(c, "/dev/urandom", CONFINE_READ);
    /* its own /proc entries, as the child that opens them is qemu-to-be */
    confine_allow(c, "/proc/self", CONFINE_READ);
    confine_allow(c, "/sys/devices/system", CONFINE_READ);
    if (realpath(qemu, real))
        confine_allow(c, real, CONFINE_READ | CONFINE_EXEC);
    if (kvm)
        confine_allow(c, kvm_device(), CONFINE_READ | CONFINE_WRITE | CONFINE_DEVICE);
}

/* In the child: every descriptor where the map says, nothing else open. */
static void place_fds(const struct fdmap *m)
{
    int tmp[LAUNCH_MAX_FDS];

    for (int i = 0; i < m->n; i++)
        if ((tmp[i] = fcntl(m->from[i], F_DUPFD, 512)) < 0)
            _exit(126);
    for (int i = 0; i < m->n; i++)
        if (dup2(tmp[i], m->to[i]) < 0)
            _exit(126);
    /* what ferry's parent left open without close-on-exec is not qemu's */
    close_all_but(m->to, m->n);
}

/* ferry's own qemu: static, so it reads nothing of the system's. */
static void allow_carried(struct confine *c, bool kvm)
{
    confine_allow(c, "/dev/null", CONFINE_READ | CONFINE_WRITE);
    confine_allow(c, "/dev/urandom", CONFINE_READ);
    confine_allow(c, "/proc/self", CONFINE_READ);
    confine_allow(c, "/sys/devices/system", CONFINE_READ);
    if (kvm)
        confine_allow(c, kvm_device(), CONFINE_READ | CONFINE_WRITE | CONFINE_DEVICE);
}

/* The kernel, its initramfs and its arguments. */
static void kernel_args(struct session *s, bool kvm, enum launch_mode mode, struct argv *a)
{
    char tsc[48] = "";
    const char *chunk = getenv("FERRY_CHUNK_SIZE"), *ra = getenv("FERRY_READAHEAD_KB");
    const char *extra = getenv("FERRY_APPEND");

    arg(a, "-kernel");
    arg(a, "/proc/self/fd/%d", FD_KERNEL);
    arg(a, "-initrd");
    arg(a, "/proc/self/fd/%d", FD_INITRD);
    if (!kvm)
        snprintf(tsc, sizeof tsc, " tsc_early_khz=%lu", host_tsc_khz());
    /* an oops is a kernel that cannot be trusted to read on: it panics,
     * qemu exits, and ferry says the kernel crashed */
    arg(a, "-append");
    arg(a,
        "console=ttyS0 panic=-1 oops=panic reboot=t tsc=reliable no_timer_check%s %s%s%s%s%s %s%s",
        tsc, s->verbose && mode != LAUNCH_SAVE ? "loglevel=7" : "quiet loglevel=3",
        chunk && *chunk ? " ferry.chunk_size=" : "", chunk && *chunk ? chunk : "",
        ra && *ra ? " ferry.readahead_kb=" : "", ra && *ra ? ra : "", extra ? extra : "",
        mode == LAUNCH_SAVE ? " ferry.wake clocksource=jiffies" : "");
}

static void append(struct session *s, bool kvm, const char *machine, enum launch_mode mode,
                   struct argv *a)
{
    bool micro = !strcmp(machine, "microvm");
    const char *bus = micro ? "device" : "pci";

    arg(a, "-nodefaults");
    arg(a, "-no-user-config");
    arg(a, "-display");
    arg(a, "none");
    arg(a, "-machine");
    arg(a, micro ? "microvm,x-option-roms=off,isa-serial=on,acpi=on,rtc=on" : "%s", machine);
    arg(a, "-accel");
    arg(a, kvm ? "kvm" : "tcg");
    arg(a, "-cpu");
    arg(a, "%s", mode == LAUNCH_BOOT ? cpu_model(kvm, s->verbose) : SAVED_CPU);
    arg(a, "-m");
    arg(a, "%u", s->memsize_mb);
    arg(a, "-no-reboot");
    /* seccomp: no spawning, no privileges, no obsolete calls */
    arg(a, "-sandbox");
    arg(a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    /* /proc/self/fd rather than /dev/fd: an empty root has no /dev/fd */
    if (run.bios >= 0) {
        arg(a, "-bios");
        arg(a, "/proc/self/fd/%d", FD_BIOS);
    }
    /* a resumed kernel is in the state, its arguments read long ago */
    if (mode != LAUNCH_RESUME)
        kernel_args(s, kvm, mode, a);
    arg(a, "-chardev");
    arg(a, "socket,id=con,fd=%d", FD_CONSOLE);
    arg(a, "-serial");
    arg(a, "chardev:con");
    arg(a, "-chardev");
    arg(a, "socket,id=channel,fd=%d", FD_CHANNEL);
    arg(a, "-device");
    arg(a, "virtio-serial-%s,max_ports=2", bus);
    arg(a, "-device");
    arg(a, "virtserialport,chardev=channel,name=" FERRY_CHANNEL_NAME);
    if (mode == LAUNCH_RESUME) {
        arg(a, "-incoming");
        arg(a, "fd:%d", FD_STATE);
    }
}

/* The machine a saved state belongs to: the command line that resumes it,
 * images aside (no kernel arguments, the saved CPU; nothing measured). The
 * save records it, and a run resumes only when its own is the same: same
 * devices, memory, CPU, firmware. */
static void signature(struct session *s, char *out, size_t size)
{
    struct argv a = { 0 };
    size_t o = 0;

    append(s, false, "microvm", LAUNCH_RESUME, &a);
    out[0] = '\0';
    for (int i = 0; i < a.n && o < size; i++)
        o += snprintf(out + o, size - o, "%s%s", o ? " " : "", a.v[i]);
    for (int i = 0; i < a.n; i++)
        free(a.v[i]);
    if (o < size)
        snprintf(out + o, size - o, " (%d disk slots)", SAVED_DISKS);
}

bool launch_carried(void)
{
    return !run.qemu;
}

const char *launch_signature(struct session *s)
{
    static char sig[2048];

    signature(s, sig, sizeof sig);
    return sig;
}

/* A qemu that will not be started: what was made for it goes. */
static void abandon(struct argv *a, struct fdmap *m, int state, int feed)
{
    for (int i = 0; i < m->nclose; i++)
        close(m->close_after[i]);
    if (state >= 0)
        close(state);
    if (feed >= 0)
        close(feed);
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
}

int launch_qemu(struct session *s, int fd, bool kvm, const char *machine, enum launch_mode mode)
{
    struct argv a = { 0 };
    struct fdmap m = { 0 };
    struct confine c;
    bool micro = !strcmp(machine, "microvm");
    int state = -1;
    char err[256];

    const char *test_state = getenv("FERRY_TEST_STATE"); /* tests: a state of their own */
    int feed = -1;
    if (mode == LAUNCH_RESUME && test_state) {
        if ((state = open(test_state, O_RDONLY | O_CLOEXEC)) < 0) {
            report("%s: %s", test_state, strerror(errno));
            return -1;
        }
    } else if (mode == LAUNCH_RESUME) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
            report("pipe: %s", strerror(errno));
            return -1;
        }
        state = p[0];
        feed = p[1];
        fcntl(feed, F_SETPIPE_SZ, 1 << 20); /* fewer trips between the two */
    }
    if (mode != LAUNCH_RESUME && run.kernel < 0 &&
        appliance_unpack(&run.kernel, &run.initrd, err, sizeof err) < 0) {
        report("%s", err);
        return -1;
    }

    confine_init(&c);
    if (run.qemu || run.standin)
        allow_system(&c, run.qemu ? run.qemu : run.standin, kvm);
    else
        allow_carried(&c, kvm);
    char standin_dir[PATH_MAX];
    if (run.standin && realpath(run.standin, standin_dir)) {
        *strrchr(standin_dir, '/') = '\0'; /* what it runs lies beside it */
        confine_allow(&c, standin_dir, CONFINE_READ | CONFINE_EXEC);
    }
    int fixed[][2] = { { run.null, 0 },
                       { run.null, 1 },
                       { run.qemu_err, 2 },
                       { fd, FD_CHANNEL },
                       { run.console, FD_CONSOLE },
                       { run.kernel, FD_KERNEL },
                       { run.initrd, FD_INITRD } };
    /* a resumed kernel is in the state: no kernel or initramfs to unpack */
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] - (mode == LAUNCH_RESUME ? 2 : 0); i++) {
        m.from[m.n] = fixed[i][0];
        m.to[m.n++] = fixed[i][1];
    }
    if (run.bios >= 0) {
        m.from[m.n] = run.bios;
        m.to[m.n++] = FD_BIOS;
        m.from[m.n] = run.carried;
        m.to[m.n++] = FD_PROGRAM;
    }
    if (mode == LAUNCH_RESUME) {
        m.from[m.n] = state;
        m.to[m.n++] = FD_STATE;
    }
    arg(&a, "%s", run.qemu ? run.qemu : "qemu-system-x86_64");
    append(s, kvm, machine, mode, &a);
    /* a monitor for the build's save, and for exporting the disks of
     * images that are not raw (export.c), unless files are to come
     * through the appliance alone */
    bool plain = true;
    for (int i = 0; i < s->nimages; i++)
        plain = plain && image_plain(run.images[i]);
    if (monitor_args(mode == LAUNCH_SAVE || (!plain && !s->no_direct), &a, &m) < 0) {
        report("socketpair: %s", strerror(errno));
        abandon(&a, &m, state, feed);
        return -1;
    }
    for (int i = 0; i < (mode == LAUNCH_BOOT ? s->nimages : SAVED_DISKS); i++) {
        if (i < s->nimages && blockdev_args(&a, &m, &c, run.images[i], i, s->rw) < 0) {
            abandon(&a, &m, state, feed);
            return -1;
        }
        if (i >= s->nimages)
            blockdev_empty(&a, &m, run.empty, i);
        arg(&a, "-device");
        if (i < s->nimages)
            arg(&a, "virtio-blk-%s,drive=disk%d,serial=sd%c", micro ? "device" : "pci", i, 'a' + i);
        else
            arg(&a, "virtio-blk-device,drive=disk%d,serial=" FERRY_WAKE_EMPTY, i);
    }
    if (s->verbose) {
        fprintf(stderr, "ferry: qemu:");
        for (int i = 0; i < a.n; i++)
            fprintf(stderr, " %s", a.v[i]);
        fputc('\n', stderr);
        if (!run.qemu)
            report("qemu: the one ferry carries, %s", appliance_qemu_version());
        if (c.abi)
            report("qemu is confined by Landlock (ABI %d): it may read %s%s, and open nothing "
                   "else",
                   c.abi, run.qemu ? "its program and libraries" : "/dev/null",
                   kvm ? " and use /dev/kvm" : "");
        else
            report("this kernel has no Landlock: qemu is confined by its seccomp sandbox, and "
                   "gets the images as descriptors");
    }
    if (fork_child() < 0) {
        abandon(&a, &m, state, feed);
        return -1;
    }
    if (session_child == 0) {
        static const char cant[] = "ferry: cannot confine qemu\n";
        place_fds(&m);
        if (confine_apply(&c) < 0) {
            write(2, cant, sizeof cant - 1);
            _exit(126);
        }
        if (run.qemu || run.standin)
            execv(run.qemu ? run.qemu : run.standin, a.v);
        else if (fcntl(FD_PROGRAM, F_SETFD, FD_CLOEXEC) == 0)
            fexecve(FD_PROGRAM, a.v, environ);
        /* strerror is a table lookup in musl: fine after fork */
        const char *why = strerror(errno);
        static const char noexec[] = "ferry: cannot run qemu: ";
        write(2, noexec, sizeof noexec - 1);
        write(2, why, strlen(why));
        write(2, "\n", 1);
        _exit(127);
    }
    if (state >= 0)
        close(state);
    for (int i = 0; i < m.nclose; i++)
        close(m.close_after[i]);
    /* the state is decompressed while qemu starts and reads it (after the
     * fork: a thread must not hold a lock the child would need) */
    if (feed >= 0 && resume_feed(feed) < 0) {
        close(feed); /* qemu, started, is stopped here: nobody else reaps it */
        kill(session_child, SIGKILL);
        waitpid(session_child, NULL, 0);
        session_child = 0;
        for (int i = 0; i < a.n; i++)
            free(a.v[i]);
        return -1;
    }
    for (int i = 0; i < a.n; i++)
        free(a.v[i]);
    return 0;
}

bool launch_would_use_kvm(void)
{
    return kvm_state() == KVM_USABLE;
}
