/* confine.h: Landlock for qemu. Before qemu starts, the kernel is told
 * what it may open: its own program and libraries (read), /dev/kvm, and
 * nothing else of the filesystem; images reach it as descriptors. A
 * parser that is fooled into opening a path gets EACCES. */
#ifndef FERRY_CONFINE_H
#define FERRY_CONFINE_H

#include <stdbool.h>

#define CONFINE_MAX 4096 /* an E01 of many segments: one rule each */

/* What the confined process may reach, gathered before fork. */
struct confine {
    int abi; /* Landlock's ABI version; 0: none here */
    int n;
    struct {
        const char *path;
        unsigned long long access; /* CONFINE_READ and friends below */
    } allow[CONFINE_MAX];
};
#define CONFINE_READ 1u   /* read files, list directories */
#define CONFINE_EXEC 2u   /* execute (and map) files */
#define CONFINE_WRITE 4u  /* write files (not create or remove) */
#define CONFINE_DEVICE 8u /* a device's ioctls (/dev/kvm) */

/* Landlock's ABI version on this kernel (0 when it has none). */
int confine_abi(void);
void confine_init(struct confine *c);
void confine_allow(struct confine *c, const char *path, unsigned access);
/* In the child, just before exec: confine it. Only system calls that are
 * safe after fork. 0, or -1 (errno) when Landlock is there and failed. */
int confine_apply(const struct confine *c);
/* seccomp: from now on, the system calls (x86-64 numbers) in allowed[]
 * and no other (the others fail with EPERM; another ABI's are refused);
 * the calls of rules[] only with an argument as the rule says. Filters
 * stack: a later call narrows an earlier one. 0, or -1 (errno). */
struct confine_rule {
    long nr;
    int arg;       /* which argument (its low 32 bits) */
    unsigned mask; /* when not 0: allowed if arg & mask is 0 */
    int nvals;     /* else: allowed if arg is one of vals */
    unsigned vals[4];
};
int confine_syscalls(const long *allowed, int n, const struct confine_rule *rules, int nrules);

#endif
