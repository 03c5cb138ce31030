/* escape.c: printing text that comes from the image. On a terminal, what
 * a terminal would obey is shown as escapes: control bytes and DEL, C1
 * controls (0x9b is CSI), the bidirectional controls that reorder what is
 * shown (U+202A..202E, U+2066..2069, U+200E, U+200F, U+061C), invalid UTF-8,
 * and the backslash itself, so that every escape reads back unambiguously.
 * Off a terminal, text is exact. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "output/output.h"

bool stdout_is_tty(void)
{
    static int tty = -1;
    if (tty < 0)
        tty = isatty(1);
    return tty;
}

bool stderr_is_tty(void)
{
    static int tty = -1;
    if (tty < 0)
        tty = isatty(2);
    return tty;
}

/* Length of the valid UTF-8 sequence at p (1-4) and its code point, or 0. */
static int utf8_len(const unsigned char *p, uint32_t *cp)
{
    int n;
    uint32_t c;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
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
    *cp = c;
    return n;
}

/* What a terminal obeys instead of showing. */
static bool control(uint32_t c)
{
    return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x061c || c == 0x200e ||
           c == 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* The escaped form of s, piece by piece, through put(). */
static int escape(const char *s, void (*put)(void *, const char *, size_t), void *opaque)
{
    const unsigned char *p = (const unsigned char *) s;
    char e[16];
    int width = 0;

    while (*p) {
        uint32_t c;
        int n = utf8_len(p, &c);
        if (n == 0 || (n == 1 && control(c))) {
            snprintf(e, sizeof e, "\\x%02x", *p++);
            put(opaque, e, 4);
            width += 4;
        } else if (control(c)) {
            int k = snprintf(e, sizeof e, "\\u%04x", (unsigned) c);
            put(opaque, e, k);
            p += n;
            width += k;
        } else if (c == '\\') {
            put(opaque, "\\\\", 2);
            p++;
            width += 2;
        } else {
            put(opaque, (const char *) p, n);
            p += n;
            width++;
        }
    }
    return width;
}

static void to_file(void *f, const char *s, size_t n)
{
    fwrite(s, 1, n, f);
}

int put_name(FILE *f, const char *s, bool esc)
{
    if (esc)
        return escape(s, to_file, f);
    fputs(s, f);
    return strlen(s);
}

void put_padded(FILE *f, const char *s, int width, bool esc)
{
    for (int n = put_name(f, s, esc); n < width; n++)
        fputc(' ', f);
}

struct into {
    char *buf;
    size_t size, len;
};

static void to_buf(void *opaque, const char *s, size_t n)
{
    struct into *b = opaque;
    if (b->len + n < b->size) {
        memcpy(b->buf + b->len, s, n);
        b->len += n;
    }
}

void escape_text(char *buf, size_t size, const char *s)
{
    struct into b = { buf, size, 0 };
    escape(s, to_buf, &b);
    buf[b.len] = '\0';
}

bool is_utf8(const char *s)
{
    uint32_t c;
    for (const unsigned char *p = (const unsigned char *) s; *p;) {
        int n = utf8_len(p, &c);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

/* JSON: exact text, with what must or should be escaped escaped. */
void json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *) s;

    fputc('"', f);
    while (*p) {
        uint32_t c;
        int n = utf8_len(p, &c);
        if (n == 0) {
            fputs("\\ufffd", f); /* not UTF-8: the writer adds a _hex field */
            p++;
            continue;
        }
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", (int) c);
        else if (control(c))
            fprintf(f, "\\u%04x", (unsigned) c);
        else
            fwrite(p, 1, n, f);
        p += n;
    }
    fputc('"', f);
}
