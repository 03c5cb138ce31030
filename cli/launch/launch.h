/* launch.h: what the launch files (qemu.c, blockdev.c, accel.c) share. */
#ifndef FERRY_LAUNCH_H
#define FERRY_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "launch/confine.h"
#include "launch/image.h"

/* The descriptors a qemu is started with, and where they go in it. */
#define LAUNCH_MAX_FDS 160
struct fdmap {
    int n;
    int from[LAUNCH_MAX_FDS], to[LAUNCH_MAX_FDS];
    /* made for this qemu alone (an E01's connection): closed once it has them */
    int nclose;
    int close_after[LAUNCH_MAX_FDS];
};
#define FD_CHANNEL 3
#define FD_KERNEL 4
#define FD_INITRD 5
#define FD_CONSOLE 6
#define FD_BIOS 7
#define FD_PROGRAM 8 /* the carried qemu, run from it (close-on-exec) */
#define FD_STATE 9   /* the saved appliance, when resuming it */
#define FD_QMP 10    /* qemu's monitor, when it has one */
#define FD_FIRST_IMAGE 11

/* The CPU model of the saved appliance: a resumed kernel keeps the CPU it
 * booted on, so a resume uses this one whatever the accelerator. */
#define SAVED_CPU "qemu64"
/* Its disk slots: a resumed kernel keeps the devices it booted with, so
 * the saved appliance booted with this many empty disks, and a resume
 * plugs the user's images into the first of them (the rest stay empty):
 * a run with more images boots. */
#define SAVED_DISKS 4

/* A command line being built. */
struct argv {
    char *v[256];
    int n;
};
void arg(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Close every descriptor from 3 up but those in keep: what a caller left
 * open without close-on-exec is not ours to hold. */
void close_all_but(const int *keep, int n);
/* len bytes of buf on sock with a copy of fd (SCM_RIGHTS; none when
 * fd < 0): what sendmsg returns. */
ssize_t send_with_fd(int sock, const void *buf, size_t len, int fd);

/* monitor.c: read fd until `want` appears in what it said (buf, kept
 * NUL-terminated; 0), or -1 at the end, after ms, or when ferry is
 * interrupted. qmp_command: one command on the monitor mon (with a
 * descriptor, when fd >= 0), its answer within ms; 0 when it returned,
 * -1 (reply holds what qemu said, if anything). */
int read_until(int fd, const char *want, char *buf, size_t size, int ms);
/* The monitor's arguments and descriptor for the next qemu, when it is
 * to have one (the former qemu's is closed): 0, or -1 with errno. */
int monitor_args(bool want, struct argv *a, struct fdmap *m);
int qmp_command(int mon, const char *cmd, int fd, char *reply, size_t size, int ms);
/* The monitor's next line (the greeting, an event, an answer), without
 * its newline, by the deadline (wire_deadline): 0, or -1. */
int qmp_line(int mon, char *line, size_t size, int64_t deadline);
/* Done with the monitor: qemu's events are not left to pile up unread. */
void monitor_close(void);

/* blockdev.c: -add-fd and -blockdev for an image and the files it names;
 * its descriptors go into map, the files qemu opens by path into c. 0, or
 * -1 reported (an E01's reader is gone). */
int blockdev_args(struct argv *a, struct fdmap *map, struct confine *c, const struct image_file *f,
                  int index, bool rw);
/* An empty disk (/dev/null, given as fd) in a slot of the saved appliance. */
void blockdev_empty(struct argv *a, struct fdmap *map, int fd, int index);

/* qemu.c: whether the qemu is the one ferry carries. resume.c: stream
 * the saved appliance into fd (a pipe qemu reads) from a thread of its
 * own; 0, or -1 reported. */
bool launch_carried(void);
int resume_feed(int fd);

/* accel.c: KVM, when it can be had. */
enum kvm_state { KVM_USABLE, KVM_ABSENT, KVM_DENIED };
enum kvm_state kvm_state(void);
const char *kvm_device(void);
/* The -cpu for an accelerator: $FERRY_CPU, unless it is "host" without KVM. */
const char *cpu_model(bool kvm, bool verbose);
/* Under TCG the guest's TSC calibration fails on a busy host: its rate. */
unsigned long host_tsc_khz(void);

#endif
