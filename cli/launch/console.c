/* console.c: see console.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launch/console.h"
#include "output/output.h"

#define RING (64 * 1024)

struct ring {
    const char *what; /* for the tail: "qemu said" */
    int fd;           /* our end */
    char buf[RING];
    uint64_t total;  /* bytes ever; buf holds the last RING of them */
    char line[1024]; /* -v: the line being gathered */
    size_t llen;
};

static struct ring rings[2] = { { .what = "the appliance's console ended with" },
                                { .what = "qemu said" } };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool verbose;

/* -v: a whole line at a time to stderr, escaped (a guest's escape
 * sequences are not for the user's terminal). */
static void show(struct ring *r, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool end = p[i] == '\n' || r->llen == sizeof r->line - 1;
        if (p[i] != '\n' && p[i] != '\r')
            r->line[r->llen++] = p[i];
        if (!end)
            continue;
        r->line[r->llen] = '\0';
        char esc[4 * sizeof r->line];
        escape_text(esc, sizeof esc, r->line);
        fprintf(stderr, "%s\n", esc);
        r->llen = 0;
    }
}

/* Read what is there into the ring, under the lock: reads and their order
 * in the ring are one step, whoever reads (the thread, or console_drain). */
static void take(struct ring *r)
{
    char buf[4096];
    ssize_t n;

    pthread_mutex_lock(&lock);
    while ((n = read(r->fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            r->buf[(r->total + i) % RING] = buf[i];
        r->total += n;
        if (verbose)
            show(r, buf, n);
    }
    pthread_mutex_unlock(&lock);
}

void console_drain(void)
{
    take(&rings[0]);
    take(&rings[1]);
}

static void *reader(void *arg)
{
    struct pollfd p[2] = { { .fd = rings[0].fd, .events = POLLIN },
                           { .fd = rings[1].fd, .events = POLLIN } };
    (void) arg;
    for (;;) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return NULL;
        for (int i = 0; i < 2; i++)
            if (p[i].revents & (POLLIN | POLLHUP))
                take(&rings[i]);
    }
}

int console_start(bool v, int *guest, int *qemu)
{
    static int ends[2] = { -1, -1 };
    int sv[2], pp[2];
    pthread_t t;

    if (ends[0] >= 0) {
        *guest = ends[0];
        *qemu = ends[1];
        return 0;
    }
    verbose = v;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    if (pipe2(pp, O_CLOEXEC) < 0) {
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    rings[0].fd = sv[0];
    rings[1].fd = pp[0];
    /* take() reads until there is nothing left, and never waits */
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(pp[0], F_SETFL, O_NONBLOCK);
    if (pthread_create(&t, NULL, reader, NULL) != 0)
        return errno = EAGAIN, -1;
    pthread_detach(t);
    *guest = ends[0] = sv[1];
    *qemu = ends[1] = pp[1];
    return 0;
}

uint64_t console_guest_bytes(void)
{
    pthread_mutex_lock(&lock);
    uint64_t n = rings[0].total;
    pthread_mutex_unlock(&lock);
    return n;
}

/* The ring's text in order, NUL-terminated, into out (RING + 1 bytes). */
static size_t text(const struct ring *r, char *out)
{
    size_t n = r->total < RING ? r->total : RING;
    for (size_t i = 0; i < n; i++) {
        char c = r->buf[(r->total - n + i) % RING];
        out[i] = c ? c : ' ';
    }
    out[n] = '\0';
    return n;
}

uint64_t console_qemu_mark(void)
{
    pthread_mutex_lock(&lock);
    uint64_t n = rings[1].total;
    pthread_mutex_unlock(&lock);
    return n;
}

bool console_qemu_said(const char *needle, uint64_t mark)
{
    static char all[RING + 1];

    pthread_mutex_lock(&lock);
    size_t n = text(&rings[1], all);
    uint64_t first = rings[1].total - n; /* where the text starts */
    pthread_mutex_unlock(&lock);
    return strstr(all + (mark > first ? mark - first : 0), needle) != NULL;
}

void console_guest_line(const char *needle, char *out, size_t size)
{
    static char all[RING + 1];

    out[0] = '\0';
    pthread_mutex_lock(&lock);
    text(&rings[0], all);
    pthread_mutex_unlock(&lock);
    char *hit = strstr(all, needle);
    if (hit)
        snprintf(out, size, "%.*s", (int) strcspn(hit, "\r\n"), hit);
}

void console_tail(void)
{
    static char all[RING + 1];

    if (verbose)
        return; /* it was shown as it came */
    for (int i = 1; i >= 0; i--) {
        pthread_mutex_lock(&lock);
        size_t n = text(&rings[i], all);
        pthread_mutex_unlock(&lock);
        if (!n)
            continue;
        /* the last dozen lines are enough */
        char *p = all + n;
        for (int lines = 0; p > all && lines < 13; p--)
            if (p[-1] == '\n')
                lines++;
        fprintf(stderr, "ferry: %s:\n", rings[i].what);
        for (char *line = strtok(p, "\r\n"); line; line = strtok(NULL, "\r\n")) {
            char esc[4 * 1024];
            escape_text(esc, sizeof esc, line);
            fprintf(stderr, "  | %s\n", esc);
        }
    }
}
