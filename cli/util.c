/* util.c: x-helpers, error reporting, safe output of names, and the
 * cleanup of a partial local file. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry.h"

static void vwarn(const char *fmt, va_list ap)
{
    fputs("ferry: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void die(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
    cleanup_done();
    if (child_pid > 0)
        kill(child_pid, SIGKILL);
    ferry_exit(status);
}

void warnx_(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die(EXIT_FAILED, "out of memory");
    return p;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        die(EXIT_FAILED, "out of memory");
    return p;
}

/* Messages from the guest are untrusted: escape them too. */
void call_error(struct session *s)
{
    fprintf(stderr, "ferry: %s: ", s->command);
    put_name(stderr, s->cl.msg, true);
    fputc('\n', stderr);
}

int call_failed(struct session *s)
{
    call_error(s);
    if (s->cl.broken) {
        launch_console_tail(s);
        cleanup_done();
        if (child_pid > 0)
            kill(child_pid, SIGKILL);
        ferry_exit(EXIT_FAILED);
    }
    return EXIT_FAILED;
}

bool stdout_is_tty(void)
{
    static int tty = -1;
    if (tty < 0)
        tty = isatty(1);
    return tty;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
static int utf8_len(const unsigned char *p)
{
    int n;
    uint32_t c;

    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0)
        n = 2, c = p[0] & 0x1f;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, c = p[0] & 0x0f;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4, c = p[0] & 0x07;
    else
        return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    /* overlong forms, surrogates and what is beyond Unicode do not pass */
    if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
        (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
        return 0;
    return n;
}

/* U+0080..U+009F: control codes a terminal obeys (0x9b is CSI). */
static bool is_c1(const unsigned char *p, int n)
{
    return n == 2 && p[0] == 0xc2 && p[1] < 0xa0;
}

int put_name(FILE *f, const char *name, bool escape)
{
    const unsigned char *p = (const unsigned char *) name;
    int width = 0;

    if (!escape) {
        fputs(name, f);
        return strlen(name);
    }
    while (*p) {
        int n = utf8_len(p);
        if (n == 0 || *p < 0x20 || *p == 0x7f || is_c1(p, n)) {
            fprintf(f, "\\x%02x", *p++);
            width += 4;
        } else if (*p == '\\') {
            fputs("\\\\", f);
            p++;
            width += 2;
        } else {
            fwrite(p, 1, n, f);
            p += n;
            width++;
        }
    }
    return width;
}

void put_padded(FILE *f, const char *name, int width, bool escape)
{
    for (int n = put_name(f, name, escape); n < width; n++)
        fputc(' ', f);
}

bool is_utf8(const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p;) {
        int n = utf8_len(p);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

void put_json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *) s;

    fputc('"', f);
    while (*p) {
        int n = utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", f);       /* not UTF-8: the caller adds a _hex field */
            p++;
        } else if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p++);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(f, "\\u%04x", *p++);
        } else if (is_c1(p, n)) {
            fprintf(f, "\\u%04x", p[1]);
            p += 2;
        } else {
            fwrite(p, 1, n, f);
            p += n;
        }
    }
    fputc('"', f);
}

/* ---- signals, and a local file that is only kept when complete ---- */
static char *partial;
volatile sig_atomic_t ferry_interrupted;
bool ferry_graceful;

/* The first SIGINT or SIGTERM while a command runs is noted: transfers see
 * it and cancel, and the appliance shuts down cleanly before ferry dies of
 * the signal (main). Before that, or at the second signal: at once. */
static void on_signal(int sig)
{
    if (ferry_graceful && !ferry_interrupted) {
        ferry_interrupted = sig;
        return;
    }
    if (partial)
        unlink(partial);
    if (child_pid > 0)
        kill(child_pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

void signals_install(void)
{
    struct sigaction sa = { .sa_handler = on_signal };   /* no SA_RESTART */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void cleanup_register(const char *path)
{
    free(partial);
    partial = xstrdup(path);
}

void cleanup_done(void)
{
    if (partial) {
        unlink(partial);
        free(partial);
        partial = NULL;
    }
}

/* A completed file is no longer partial: forget it without removing it. */
void cleanup_keep(void)
{
    free(partial);
    partial = NULL;
}
