/* argv.c: qemu's command line, built an argument at a time (qemu.c,
 * blockdev.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "launch/launch.h"

void arg(struct argv *a, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (a->n >= (int) (sizeof a->v / sizeof a->v[0]) - 1 || vasprintf(&s, fmt, ap) < 0)
        abort(); /* a command line past its bounds: nothing to save */
    va_end(ap);
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}
