/* lib.h: the fixtures of the protocol tests: a real ferryd serving a
 * scratch directory over a socketpair, scripted fake daemons for what a
 * real one cannot be made to do on demand, and sinks and sources in
 * memory. Whatever a test starts is stopped after it, even when a CHECK
 * ends it early (fixtures_teardown). */
#ifndef FERRY_PROTOCOL_LIB_H
#define FERRY_PROTOCOL_LIB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "harness.h"
#include "rpc/client.h"

/* A test: found by the build (tests/protocol/list.sh), run by main.c. */
#define TEST(name) void name(void)

extern const char *ferryd; /* the daemon under test */
extern char root[256];     /* the scratch directory it serves */

struct peer {
    struct client cl;
    pid_t pid;
};

/* ---- the real daemon ---- */
void fresh_root(void);
char *in_root(const char *rel); /* root + rel, in one of four static buffers */
int start_daemon(struct peer *p);
/* With RLIMIT_FSIZE (0: none), a chunk size and a progress interval; extra
 * words go before ferryd (a wrapper such as strace), NULL-terminated. */
int start_daemon_opts(struct peer *p, int fsize_limit, const char *chunk, const char *progress_ms);
int start_daemon_wrapped(struct peer *p, const char *const *wrapper);
void stop(struct peer *p);
int ping(struct peer *p);
long daemon_hwm_kb(pid_t pid);     /* peak memory, KiB */
long long daemon_rchar(pid_t pid); /* bytes it has read from files */

/* ---- files and commands ---- */
void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void write_file(const char *path, const void *data, size_t len);
size_t read_file(const char *path, char *buf, size_t size);
double now(void);
unsigned char *pattern(size_t len);

/* ---- sinks and sources ---- */
struct mem {
    unsigned char *buf;
    size_t len, cap;
    int fail_at; /* fail on this call (1 = first), 0 never */
    int calls;
    int fail_errno;
    uint64_t holes;
};
int mem_data(void *o, const void *buf, size_t len);
int mem_hole(void *o, uint64_t len);
struct src {
    const unsigned char *data;
    size_t len, pos, piece;
    int fail_at, calls;
};
ssize_t src_read(void *o, void *buf, size_t len, uint64_t *hole);
struct out {
    int fd;
    uint64_t pos, holes;
};
int out_data(void *op, const void *buf, size_t len);
int out_hole(void *op, uint64_t len);
int count_data(void *op, const void *buf, size_t len);
int count_hole(void *op, uint64_t len);

/* ---- fake daemons: a script run in a child on the other end ---- */
typedef void (*script_fn)(struct wire *w);
extern pid_t fake_pid;
int start_fake(struct client *cl, script_fn script, int launch_ms);
void stop_fake(struct client *cl);
void fake_hello(struct wire *w, unsigned version);
int fake_read_call(struct wire *w, struct wire_frame *f);
void fake_reply(struct wire *w, const struct wire_frame *call, int err, const char *msg);
void fake_answer_sync(struct wire *w);

/* After each test: stop what it left running. */
void fixtures_teardown(void);

#endif
