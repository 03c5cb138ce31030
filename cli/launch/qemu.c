/* qemu.c: starting qemu with the appliance, on one end of a socketpair. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "appliance.h"
#include "launch/image.h"
#include "launch/session.h"
#include "output/output.h"

pid_t session_child;

static bool is_block(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISBLK(st.st_mode);
}

/* Fork the other end into session_child. The child dies with ferry,
 * whatever kills it (no orphaned qemu). Returns fork's value. */
pid_t fork_child(void)
{
    pid_t parent = getpid();

    session_child = fork();
    if (session_child < 0)
        report("fork: %s", strerror(errno));
    if (session_child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
    }
    return session_child;
}

/* ---- qemu ---- */

/* qemu-system-x86_64 from --qemu ($FERRY_QEMU) or PATH, or NULL. */
static const char *find_qemu(const char *chosen)
{
    static char path[PATH_MAX];
    const char *p = getenv("PATH");

    if (chosen)
        return access(chosen, X_OK) == 0 ? chosen : NULL;
    if (!p)
        p = "/usr/local/bin:/usr/bin:/bin";
    while (*p) {
        size_t n = strcspn(p, ":");
        snprintf(path, sizeof path, "%.*s/qemu-system-x86_64", (int) n, p);
        if (n && access(path, X_OK) == 0)
            return path;
        p += n + (p[n] == ':');
    }
    return NULL;
}

/* KVM when /dev/kvm opens read-write and the CPU says it can.
 * FERRY_TEST_KVM=usable makes it say yes regardless: the tests use it to
 * reach the watchdog on hosts whose KVM hangs. */
static bool kvm_usable(void)
{
    const char *force = getenv("FERRY_TEST_KVM");
    if (force && !strcmp(force, "usable"))
        return true;
    char line[4096];
    bool flag = false;
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    FILE *f;

    if (fd < 0)
        return false;
    close(fd);
    if (!(f = fopen("/proc/cpuinfo", "r")))
        return false;
    while (!flag && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5))
            flag = strstr(line, " vmx") || strstr(line, " svm");
    fclose(f);
    return flag;
}

/* A JSON string for qemu's -blockdev, quotes included. */
static void json_quote(char *out, size_t size, const char *s)
{
    size_t o = 0;

    out[o++] = '"';
    for (; *s && o + 8 < size; s++) {
        if (*s == '"' || *s == '\\')
            o += snprintf(out + o, size - o, "\\%c", *s);
        else if ((unsigned char) *s < 0x20)
            o += snprintf(out + o, size - o, "\\u%04x", *s);
        else
            out[o++] = *s;
    }
    out[o++] = '"';
    out[o] = '\0';
}

struct argv {
    char *v[64 + 4 * MAX_IMAGES];
    int n;
};

static void arg(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(struct argv *a, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort(); /* out of memory building a command line: nothing to save */
    va_end(ap);
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

/* The guest's console and qemu's own messages are kept in memory, to be
 * shown with -v or when a launch fails. */
static int console_fd = -1, qemu_err_fd = -1;

/* Did qemu say this on its standard error? */
bool launch_qemu_said(const char *needle)
{
    char buf[8192];
    ssize_t n = qemu_err_fd >= 0 ? pread(qemu_err_fd, buf, sizeof buf - 1, 0) : -1;

    if (n <= 0)
        return false;
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

void launch_console_tail(void)
{
    char buf[4096];
    int fds[2] = { qemu_err_fd, console_fd };
    const char *what[2] = { "qemu said", "the appliance's console ended with" };

    for (int i = 0; i < 2; i++) {
        off_t end = fds[i] >= 0 ? lseek(fds[i], 0, SEEK_END) : 0;
        if (end <= 0)
            continue;
        off_t from = end > (off_t) sizeof buf - 1 ? end - (off_t) sizeof buf + 1 : 0;
        ssize_t n = pread(fds[i], buf, sizeof buf - 1, from);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        /* the last dozen lines are enough */
        char *p = buf + n;
        for (int lines = 0; p > buf && lines < 13; p--)
            if (p[-1] == '\n')
                lines++;
        fprintf(stderr, "ferry: %s:\n", what[i]);
        for (char *line = strtok(p, "\n"); line; line = strtok(NULL, "\n")) {
            fputs("  | ", stderr);
            put_name(stderr, line, true);
            fputc('\n', stderr);
        }
    }
}

/* Formats that can name a backing file: opened only with --backing. */
static bool has_backing_option(const char *format)
{
    return !strcmp(format, "qcow2") || !strcmp(format, "qcow") || !strcmp(format, "qed") ||
           !strcmp(format, "vmdk");
}

bool launch_would_use_kvm(void)
{
    return kvm_usable();
}

/* Under TCG the guest's TSC ticks at the host's rate, and the guest kernel
 * calibrates it against an emulated PIT: on a busy host that calibration
 * fails and the boot stalls. So measure the rate here (2 ms) and tell the
 * kernel (tsc_early_khz). */
static unsigned long host_tsc_khz(void)
{
    struct timespec a, b;
    unsigned lo, hi;
    uint64_t t0, t1;
    double ns;

    clock_gettime(CLOCK_MONOTONIC_RAW, &a);
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    t0 = (uint64_t) hi << 32 | lo;
    do
        clock_gettime(CLOCK_MONOTONIC_RAW, &b);
    while ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec) < 2e6);
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    t1 = (uint64_t) hi << 32 | lo;
    ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    return (unsigned long) ((t1 - t0) / ns * 1e6);
}

int launch_qemu(struct session *s, int fd)
{
    const char *qemu = find_qemu(s->qemu);
    const char *machine = s->machine;
    bool verbose = s->verbose;
    struct argv a = { 0 };
    char err[256], quoted[PATH_MAX * 2 + 8];
    int kernel_fd, initrd_fd;

    if (!qemu) {
        report("qemu-system-x86_64 not found%s: install it (Debian, Ubuntu: apt-get install "
               "qemu-system-x86; Fedora: dnf install qemu-system-x86-core) or name it with --qemu",
               s->qemu ? " at --qemu (or $FERRY_QEMU)" : " in PATH");
        return -1;
    }
    for (int i = 0; i < s->nimages; i++) {
        struct image *im = &s->images[i];
        if (!im->format && !(im->format = image_detect(im->path)))
            return -1;
        if (access(im->path, s->rw ? R_OK | W_OK : R_OK) < 0) {
            report("%s: %s", im->path, strerror(errno));
            return -1;
        }
    }
    if (appliance_unpack(&kernel_fd, &initrd_fd, err, sizeof err) < 0) {
        report("%s", err);
        return -1;
    }
    console_fd = memfd_create("ferry-console", MFD_CLOEXEC);
    qemu_err_fd = memfd_create("ferry-qemu-stderr", MFD_CLOEXEC);

    bool micro = !strcmp(machine, "microvm");
    bool kvm = !strcmp(s->accel, "kvm") || (!strcmp(s->accel, "auto") && kvm_usable());
    const char *bus = micro ? "device" : "pci";

    arg(&a, "%s", qemu);
    arg(&a, "-nodefaults");
    arg(&a, "-no-user-config");
    arg(&a, "-display");
    arg(&a, "none");
    arg(&a, "-machine");
    arg(&a, micro ? "microvm,x-option-roms=off,isa-serial=on,acpi=on,rtc=on" : "%s", machine);
    arg(&a, "-accel");
    arg(&a, kvm ? "kvm" : "tcg");
    /* Under TCG, qemu64 beats max: max offers ERMS, and the guest's rep
     * movsb copies are slow to emulate (a 256 MiB download: 3.7 s against
     * 5.3 s). FERRY_CPU overrides, for measuring. */
    const char *cpu = getenv("FERRY_CPU");
    arg(&a, "-cpu");
    arg(&a, "%s", cpu && *cpu ? cpu : kvm ? "host" : "qemu64");
    arg(&a, "-m");
    arg(&a, "%u", s->memsize_mb);
    arg(&a, "-no-reboot");
    /* seccomp: no spawning, no privileges, no obsolete calls */
    arg(&a, "-sandbox");
    arg(&a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    arg(&a, "-kernel");
    arg(&a, "/dev/fd/4");
    arg(&a, "-initrd");
    arg(&a, "/dev/fd/5");
    arg(&a, "-append");
    char tsc[48] = "";
    if (!kvm)
        snprintf(tsc, sizeof tsc, " tsc_early_khz=%lu", host_tsc_khz());
    const char *chunk = getenv("FERRY_CHUNK_SIZE"), *ra = getenv("FERRY_READAHEAD_KB");
    const char *extra = getenv("FERRY_APPEND");
    arg(&a, "console=ttyS0 panic=-1 reboot=t tsc=reliable no_timer_check%s %s%s%s%s%s %s", tsc,
        verbose ? "loglevel=7" : "quiet loglevel=3", chunk && *chunk ? " ferry.chunk_size=" : "",
        chunk && *chunk ? chunk : "", ra && *ra ? " ferry.readahead_kb=" : "", ra && *ra ? ra : "",
        extra ? extra : "");
    arg(&a, "-chardev");
    arg(&a, verbose ? "stdio,id=con,signal=off" : "file,id=con,path=/dev/fd/6");
    arg(&a, "-serial");
    arg(&a, "chardev:con");
    arg(&a, "-chardev");
    arg(&a, "socket,id=channel,fd=3");
    arg(&a, "-device");
    arg(&a, "virtio-serial-%s,max_ports=2", bus);
    arg(&a, "-device");
    arg(&a, "virtserialport,chardev=channel,name=org.ferry.channel.0");
    for (int i = 0; i < s->nimages; i++) {
        const struct image *im = &s->images[i];
        json_quote(quoted, sizeof quoted, im->path);
        /* read-only images are opened without locks, so that many readers
         * (and a running VM) never make a read-only look fail */
        arg(&a, "-blockdev");
        arg(&a,
            "{\"driver\":\"%s\",\"node-name\":\"disk%d\",\"read-only\":%s,%s"
            "\"file\":{\"driver\":\"%s\",\"filename\":%s,\"locking\":\"%s\"}}",
            im->format, i, s->rw ? "false" : "true",
            !s->external && has_backing_option(im->format) ? "\"backing\":null," : "",
            access(im->path, F_OK) == 0 && is_block(im->path) ? "host_device" : "file", quoted,
            s->rw ? "auto" : "off");
        arg(&a, "-device");
        arg(&a, "virtio-blk-%s,drive=disk%d,serial=sd%c", bus, i, 'a' + i);
    }
    if (verbose) {
        fprintf(stderr, "ferry: qemu:");
        for (int i = 0; i < a.n; i++)
            fprintf(stderr, " %s", a.v[i]);
        fputc('\n', stderr);
    }

    if (fork_child() < 0)
        return -1;
    if (session_child == 0) {
        /* fds 3..6: channel, kernel, initrd, console; stderr to memory */
        int fds[] = { fd, kernel_fd, initrd_fd, console_fd };
        for (int i = 0; i < 4; i++) {
            int tmp = fcntl(fds[i], F_DUPFD, 20);
            if (tmp < 0)
                _exit(126);
            fds[i] = tmp;
        }
        for (int i = 0; i < 4; i++)
            if (dup2(fds[i], 3 + i) < 0)
                _exit(126);
        if (!verbose)
            dup2(qemu_err_fd, 2);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        if (!verbose)
            dup2(null, 1);
        execv(qemu, a.v);
        fprintf(stderr, "%s: %s\n", qemu, strerror(errno));
        _exit(127);
    }
    close(kernel_fd);
    close(initrd_fd);
    for (int i = 0; i < a.n; i++)
        free(a.v[i]);
    return 0;
}
