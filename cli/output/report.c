/* report.c: the one way the host program reports a problem: "ferry: "
 * and a message on stderr. A message may quote the image or the guest (a
 * file name, the daemon's own words), so the whole of it is escaped, and
 * the appliance's device names in it are said as the user says them. */
#include <stdarg.h>

#include "output/output.h"

static void (*rewrite)(const char *in, char *out, size_t size);

void report_set_rewrite(void (*fn)(const char *in, char *out, size_t size))
{
    rewrite = fn;
}

void report_rewrite(const char *in, char *out, size_t size)
{
    if (rewrite)
        rewrite(in, out, size);
    else
        snprintf(out, size, "%s", in);
}

void report(const char *fmt, ...)
{
    char msg[4096], named[4096], shown[4 * 4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    report_rewrite(msg, named, sizeof named);
    escape_text(shown, sizeof shown, named);
    fprintf(stderr, "ferry: %s\n", shown);
}
