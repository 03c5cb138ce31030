/* fortify.c: Debian's libewf.a was compiled against glibc with
 * _FORTIFY_SOURCE, so it calls glibc's checked variants of a few
 * functions, which musl does not have. These keep the checks: a copy or
 * a format that would overrun the buffer the compiler saw aborts. Its
 * libarchive.a calls glibc's functions behind major(), minor() and
 * makedev(), which musl makes macros of. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen);
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);

void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen)
{
    if (len > dstlen)
        abort();
    return memcpy(dst, src, len);
}

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap)
{
    (void) flag;
    if (maxlen > slen)
        abort();
    return vsnprintf(s, maxlen, fmt, ap);
}

int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
    (void) flag;
    return vfprintf(f, fmt, ap);
}

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = __vfprintf_chk(f, flag, fmt, ap);
    va_end(ap);
    return n;
}

unsigned long long gnu_dev_makedev(unsigned int major, unsigned int minor);
unsigned int gnu_dev_major(unsigned long long dev);
unsigned int gnu_dev_minor(unsigned long long dev);

unsigned long long gnu_dev_makedev(unsigned int ma, unsigned int mi)
{
    return makedev(ma, mi);
}

unsigned int gnu_dev_major(unsigned long long dev)
{
    return major(dev);
}

unsigned int gnu_dev_minor(unsigned long long dev)
{
    return minor(dev);
}
