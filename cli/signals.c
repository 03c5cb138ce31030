/* signals.c: what a signal does to a run of ferry. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch/session.h"
#include "signals.h"

volatile sig_atomic_t ferry_interrupted;
static volatile sig_atomic_t graceful;
static char partial[4096];

static void on_signal(int sig)
{
    if (graceful && !ferry_interrupted) {
        ferry_interrupted = sig;
        return;
    }
    if (partial[0])
        unlink(partial);
    session_kill();
    signal(sig, SIG_DFL);
    raise(sig);
}

void signals_install(void)
{
    struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART */

    signal(SIGPIPE, SIG_IGN); /* EPIPE instead: a transfer is cancelled properly */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void signals_graceful(bool on)
{
    graceful = on;
}

void partial_file(const char *path)
{
    /* the handler reads it: set it whole before it counts */
    partial[0] = '\0';
    if (path && strlen(path) < sizeof partial) {
        memcpy(partial + 1, path + 1, strlen(path));
        partial[0] = path[0];
    }
}
