/* record.c: how file metadata reads, the same for ls, stat and timeline. */
#include <sys/stat.h>
#include <time.h>

#include "output/output.h"

char type_char(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR:
        return 'd';
    case S_IFLNK:
        return 'l';
    case S_IFCHR:
        return 'c';
    case S_IFBLK:
        return 'b';
    case S_IFIFO:
        return 'p';
    case S_IFSOCK:
        return 's';
    default:
        return '-';
    }
}

const char *type_name(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR:
        return "directory";
    case S_IFLNK:
        return "symlink";
    case S_IFCHR:
        return "char-device";
    case S_IFBLK:
        return "block-device";
    case S_IFIFO:
        return "fifo";
    case S_IFSOCK:
        return "socket";
    case S_IFREG:
        return "file";
    default:
        return "unknown";
    }
}

void mode_string(unsigned mode, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";

    out[0] = type_char(mode);
    for (int i = 0; i < 9; i++)
        out[1 + i] = mode & (0400 >> i) ? rwx[i] : '-';
    if (mode & S_ISUID)
        out[3] = mode & S_IXUSR ? 's' : 'S';
    if (mode & S_ISGID)
        out[6] = mode & S_IXGRP ? 's' : 'S';
    if (mode & S_ISVTX)
        out[9] = mode & S_IXOTH ? 't' : 'T';
    out[10] = '\0';
}

static void put_utc(FILE *f, const struct ferry_time *t, const char *fmt)
{
    struct tm tm;
    time_t sec = t->sec;
    char buf[64];

    if (!gmtime_r(&sec, &tm) || !strftime(buf, sizeof buf, fmt, &tm))
        snprintf(buf, sizeof buf, "@%lld", (long long) t->sec); /* beyond any calendar */
    fputs(buf, f);
}

void put_time(FILE *f, const struct ferry_time *t)
{
    put_utc(f, t, "%Y-%m-%dT%H:%M:%S");
    fprintf(f, ".%09uZ", t->nsec % 1000000000u);
}

void put_minute(FILE *f, const struct ferry_time *t)
{
    put_utc(f, t, "%Y-%m-%d %H:%M");
}
