/* events.c: what the client hears while a call works.
 *
 * Progress events go out from the main thread, between chunks. Keepalives
 * are for work that sends nothing: while the main thread is inside a busy
 * section (a long system call: an fsync, a mount, waiting for tar), a
 * second thread sends an empty progress event each second, so that the
 * client's inactivity timeout measures silence, not work. The main thread
 * sends nothing on the channel inside a busy section, and busy_end() waits
 * for a keepalive being written, so frames never mix. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "daemon.h"

void send_progress(struct call *c, uint64_t position, uint64_t total)
{
    struct ferry_header h =
        ferry_msg_header(FERRY_EVENT_PROGRESS, FERRY_EVENT, c->serial, FERRY_OK);
    struct ferry_progress ev = { position, total };

    if (wire_send(&d.w, &h, (xdrproc_t) xdr_ferry_progress, &ev, NULL, 0) < 0)
        c->dead = true;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static int busy; /* busy sections nest: a handler's, a helper's */
static bool broken;
static uint32_t busy_serial;
static int64_t last_sent;

/* One keepalive: the encoded header and an empty ferry_progress. */
static void keepalive(uint32_t serial)
{
    unsigned char buf[64];
    struct ferry_header h = ferry_msg_header(FERRY_EVENT_PROGRESS, FERRY_EVENT, serial, FERRY_OK);
    struct ferry_progress ev = { 0, 0 };
    XDR x;

    xdrmem_create(&x, (char *) buf + 4, sizeof buf - 4, XDR_ENCODE);
    xdr_ferry_header(&x, &h);
    xdr_ferry_progress(&x, &ev);
    unsigned len = xdr_getpos(&x);
    xdr_destroy(&x);
    buf[0] = len >> 24, buf[1] = len >> 16, buf[2] = len >> 8, buf[3] = len;
    if (write_all(d.w.fd, buf, len + 4, d.w.write_timeout_ms) < 0)
        broken = true; /* a frame may be cut: the main thread finds out */
}

static void *ticker(void *arg)
{
    (void) arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!busy)
            pthread_cond_wait(&wake, &lock);
        /* one a second from the last one sent, not from when we woke: the
         * client's resync counts on a gap of little more than a second */
        int64_t due = last_sent + 1000;
        if (wire_now_ms() < due) {
            struct timespec until = { due / 1000, due % 1000 * 1000000 };
            pthread_cond_timedwait(&wake, &lock, &until);
            continue;
        }
        if (!broken)
            keepalive(busy_serial);
        last_sent = wire_now_ms();
    }
    return NULL;
}

void busy_begin(struct call *c)
{
    static bool started;

    pthread_mutex_lock(&lock);
    if (!started) {
        pthread_condattr_t ca;
        pthread_t t;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&wake, &ca);
        /* without the thread, long work only lacks its keepalives */
        started = pthread_create(&t, NULL, ticker, NULL) == 0;
    }
    if (busy++ == 0) {
        busy_serial = c->serial;
        last_sent = wire_now_ms();
    }
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
}

void busy_end(struct call *c)
{
    pthread_mutex_lock(&lock);
    busy--;
    if (broken) {
        /* a keepalive was cut short: the stream is out of step until the
         * client's sync */
        c->lost = true;
        broken = false;
    }
    pthread_mutex_unlock(&lock);
}
