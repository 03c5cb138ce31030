/* fuzz-daemon.c: the daemon's decoders (framing, headers, arguments,
 * upload chunks, resync) fed whatever a client might send. The input is
 * the byte stream from the client; the daemon serves a small scratch tree
 * until the stream ends. Built with libFuzzer, or with driver.c to replay
 * the corpus in the ordinary tests. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

static char root[64];

static void make_tree(void)
{
    char cmd[256];

    if (!root[0]) {
        strcpy(root, "/tmp/ferry-fuzz-XXXXXX");
        if (!mkdtemp(root))
            abort();
    }
    snprintf(cmd, sizeof cmd,
             "cd %s && rm -rf ./* && mkdir -p d/e && echo hello > f && ln -sf f l && "
             "ln -sf /etc/passwd d/abs && head -c 9000 /dev/zero > d/e/z",
             root);
    if (system(cmd) != 0)
        abort();
}

/* The client end: keep reading, so that the daemon never blocks writing. */
static void *drain(void *arg)
{
    char buf[65536];
    int fd = *(int *) arg;

    while (read(fd, buf, sizeof buf) > 0)
        ;
    return NULL;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    int sv[2];
    pthread_t t;

    if (size > 200000)
        return 0;
    signal(SIGPIPE, SIG_IGN);
    make_tree();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    d.root = root;
    d.rootfd = -1;
    d.chunk_size = 4096;
    d.progress_ms = 0;
    if (reopen_root() < 0 || wire_init(&d.w, sv[1]) < 0)
        abort();
    /* the writer always finishes and closes: waiting for the rest of a
     * frame ends, at the latest, at the end of the input */
    d.w.frame_timeout_ms = -1;
    pthread_create(&t, NULL, drain, &sv[0]);
    /* write the input from here, then close: the daemon sees its end */
    pid_t writer = fork();
    if (writer == 0) {
        close(sv[1]);
        write_all(sv[0], data, size, -1);
        shutdown(sv[0], SHUT_WR);
        _exit(0);
    }
    send_hello();
    serve();
    shutdown(sv[1], SHUT_RDWR);
    pthread_join(t, NULL);
    while (waitpid(writer, NULL, 0) < 0 && errno == EINTR)
        ;
    wire_free(&d.w);
    close(sv[0]);
    close(sv[1]);
    close(d.rootfd);
    d.rootfd = -1;
    return 0;
}
