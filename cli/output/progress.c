/* progress.c: the progress bar of long transfers.
 *
 * Only on a terminal, only after the first second (a quick transfer shows
 * nothing), redrawn at most four times a second, and wiped at the end so
 * that the next message starts on a clean line. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output/output.h"

#define PROGRESS_AFTER 1.0  /* seconds before the bar appears */
#define PROGRESS_EVERY 0.25 /* seconds between redraws */

static double seconds(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

void progress_hook(void *opaque, uint64_t pos, uint64_t total)
{
    struct progress_bar *p = opaque;
    double t = seconds();

    if (!p->on || t - p->start < PROGRESS_AFTER || t - p->drawn < PROGRESS_EVERY)
        return;
    p->drawn = t;
    double mib = pos / 1048576.0, rate = pos / (t - p->start) / 1e6;
    if (total && pos <= total)
        fprintf(stderr, "\r%3d%% %8.1f MiB  %6.1f MB/s ", (int) (100.0 * pos / total), mib, rate);
    else
        fprintf(stderr, "\r%8.1f MiB  %6.1f MB/s ", mib, rate);
    p->shown = true;
}

void progress_begin(struct progress_bar *p)
{
    memset(p, 0, sizeof *p);
    p->on = stderr_is_tty();
    p->start = seconds();
}

void progress_end(struct progress_bar *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->on = false;
}
