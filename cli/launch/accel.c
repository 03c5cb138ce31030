/* accel.c: which accelerator qemu can have here, and what goes with it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "launch/launch.h"
#include "output/output.h"

/* /dev/kvm, or what FERRY_TEST_KVM_DEVICE names (tests). */
const char *kvm_device(void)
{
    const char *t = getenv("FERRY_TEST_KVM_DEVICE");
    return t && *t ? t : "/dev/kvm";
}

/* KVM when /dev/kvm opens read-write and the CPU says it can virtualise.
 * FERRY_TEST_KVM=usable makes it say yes regardless: the tests reach the
 * KVM path through a stand-in qemu on hosts without KVM. */
enum kvm_state kvm_state(void)
{
    const char *force = getenv("FERRY_TEST_KVM");
    char line[4096];
    bool flag = false;
    FILE *f;

    if (force && !strcmp(force, "usable"))
        return KVM_USABLE;
    int fd = open(kvm_device(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == EACCES || errno == EPERM ? KVM_DENIED : KVM_ABSENT;
    close(fd);
    if (!(f = fopen("/proc/cpuinfo", "re")))
        return KVM_ABSENT;
    while (!flag && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5))
            flag = strstr(line, " vmx") || strstr(line, " svm");
    fclose(f);
    return flag ? KVM_USABLE : KVM_ABSENT;
}

/* Under TCG, qemu64 beats max: max offers ERMS, and the guest's rep movsb
 * copies are slow to emulate (a 256 MiB download: 3.7 s against 5.3 s).
 * With KVM, the host's CPU. FERRY_CPU overrides, for measuring, except
 * that "host" means nothing without KVM: a fallback to TCG must not fail
 * on it. */
const char *cpu_model(bool kvm, bool verbose)
{
    const char *cpu = getenv("FERRY_CPU");

    if (cpu && *cpu && !(!kvm && !strcmp(cpu, "host")))
        return cpu;
    if (cpu && *cpu && verbose)
        report("FERRY_CPU=host needs KVM; qemu64 under TCG");
    return kvm ? "host" : "qemu64";
}

/* Under TCG the guest's TSC ticks at the host's rate, and the guest kernel
 * calibrates it against an emulated PIT: on a busy host that calibration
 * fails and the boot stalls. So measure the rate here (2 ms) and tell the
 * kernel (tsc_early_khz). */
unsigned long host_tsc_khz(void)
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
