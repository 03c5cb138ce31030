/* confine.c: Landlock (Linux 5.13 and later) for qemu and the E01 reader,
 * and a seccomp allowlist for the reader: see confine.h. musl has no
 * wrappers yet; the structures are the kernel's ABI. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launch/confine.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#define LANDLOCK_CREATE_RULESET_VERSION 1u
#define LANDLOCK_RULE_PATH_BENEATH 1

struct ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net; /* ABI 4 */
    uint64_t scoped;             /* ABI 6 */
};
struct path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

/* fs access rights, by the ABI that brought them */
#define FS_EXECUTE (1ull << 0)
#define FS_WRITE_FILE (1ull << 1)
#define FS_READ_FILE (1ull << 2)
#define FS_READ_DIR (1ull << 3)
#define FS_V1 ((1ull << 13) - 1)  /* up to MAKE_SYM */
#define FS_REFER (1ull << 13)     /* ABI 2 */
#define FS_TRUNCATE (1ull << 14)  /* ABI 3 */
#define FS_IOCTL_DEV (1ull << 15) /* ABI 5 */
#define NET_ALL 3ull              /* ABI 4: bind and connect TCP */
#define SCOPE_ALL 3ull            /* ABI 6: abstract unix sockets, signals */
/* what a rule on a file (not a directory) may grant */
#define FS_FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)

int confine_abi(void)
{
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v > 0 ? (int) v : 0;
}

void confine_init(struct confine *c)
{
    memset(c, 0, sizeof *c);
    c->abi = confine_abi();
}

void confine_allow(struct confine *c, const char *path, unsigned access)
{
    if (c->n < CONFINE_MAX)
        c->allow[c->n++] = (typeof(c->allow[0])){ path, access };
}

static uint64_t handled_fs(int abi)
{
    return FS_V1 | (abi >= 2 ? FS_REFER : 0) | (abi >= 3 ? FS_TRUNCATE : 0) |
           (abi >= 5 ? FS_IOCTL_DEV : 0);
}

int confine_apply(const struct confine *c)
{
    struct ruleset_attr attr = { .handled_access_fs = handled_fs(c->abi) };
    size_t size = sizeof attr.handled_access_fs;

    if (c->abi == 0)
        return 0; /* nothing to do it with: the other walls stand alone */
    if (c->abi >= 4) {
        attr.handled_access_net = NET_ALL; /* no TCP at all */
        size += sizeof attr.handled_access_net;
    }
    if (c->abi >= 6) {
        attr.scoped = SCOPE_ALL; /* no signals or sockets out of the domain */
        size += sizeof attr.scoped;
    }
    int rs = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (rs < 0)
        return -1;
    for (int i = 0; i < c->n; i++) {
        struct stat st;
        int fd = open(c->allow[i].path, O_PATH | O_CLOEXEC);
        if (fd < 0)
            continue; /* not on this system: nothing to allow */
        uint64_t a = 0;
        unsigned want = c->allow[i].access;
        if (want & CONFINE_READ)
            a |= FS_READ_FILE | FS_READ_DIR;
        if (want & CONFINE_EXEC)
            a |= FS_EXECUTE;
        if (want & CONFINE_WRITE)
            a |= FS_WRITE_FILE | (c->abi >= 3 ? FS_TRUNCATE : 0);
        if ((want & CONFINE_DEVICE) && c->abi >= 5)
            a |= FS_IOCTL_DEV;
        if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
            a &= FS_FILE_RIGHTS;
        struct path_beneath_attr pb = { .allowed_access = a & attr.handled_access_fs,
                                        .parent_fd = fd };
        int r = syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
        close(fd);
        if (r < 0) {
            close(rs);
            return -1;
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
        close(rs);
        return -1;
    }
    close(rs);
    return 0;
}

#define STMT(code, k) ((struct sock_filter) BPF_STMT(code, k))
#define JUMP(code, k, t, f) ((struct sock_filter) BPF_JUMP(code, k, t, f))
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i)) /* little-endian */

/* One rule: taken when the number (in A) is its call; then allowed or
 * refused by the argument. k: where it is written; returns the next. */
static int rule(struct sock_filter *f, int k, const struct confine_rule *r)
{
    int body = 1 + (r->mask ? 2 : r->nvals) + 2; /* the load, the tests, two returns */

    f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, r->nr, 0, body); /* not it: past */
    f[k++] = STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(r->arg));
    if (r->mask) {
        f[k++] = STMT(BPF_ALU | BPF_AND | BPF_K, r->mask);
        f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
    } else {
        for (int i = 0; i < r->nvals; i++)
            f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, r->vals[i], r->nvals - i, 0);
    }
    f[k++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    f[k++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    return k;
}

int confine_syscalls(const long *allowed, int n, const struct confine_rule *rules, int nrules)
{
    struct sock_filter f[4 + 2 * 128 + 16 * 10 + 1];
    int k = 0;

    if (n > 128 || nrules > 16) {
        errno = E2BIG;
        return -1;
    }
    /* another ABI (i386) is no way round the list; x32's numbers (bit 30
     * set) match nothing in it */
    f[k++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    f[k++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[k++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (int i = 0; i < n; i++) {
        f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, allowed[i], 0, 1);
        f[k++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    /* each rule ends in a return once its call matched, so A is still the
     * number for the next one */
    for (int i = 0; i < nrules; i++)
        k = rule(f, k, &rules[i]);
    f[k++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    struct sock_fprog prog = { .len = (unsigned short) k, .filter = f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}
