/* output.h: everything the host program prints. Names, labels and messages
 * from the image are escaped on a terminal; --json is exact; errors take
 * one path; metadata is written one way for every command. */
#ifndef FERRY_OUTPUT_H
#define FERRY_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "protocol.h"

/* ---- escape.c: text from the image on a terminal ---- */
bool stdout_is_tty(void);
bool stderr_is_tty(void);
/* On a terminal (escape): control bytes, C1 and bidirectional controls,
 * backslashes and invalid UTF-8 as \xNN, \u202e or \\; exact otherwise.
 * Returns the columns used. */
int put_name(FILE *f, const char *s, bool escape);
void put_padded(FILE *f, const char *s, int width, bool escape);
/* The escaped form of s in buf, always (for messages). */
void escape_text(char *buf, size_t size, const char *s);
bool is_utf8(const char *s);

/* ---- json.c: one object per line ---- */
struct json {
    FILE *f;
    bool first;
};
void json_begin(struct json *j, FILE *f);
/* A string value; a value that is not UTF-8 also gets KEY_hex. */
void json_str(struct json *j, const char *key, const char *val);
void json_uint(struct json *j, const char *key, unsigned long long v);
void json_int(struct json *j, const char *key, long long v);
void json_bool(struct json *j, const char *key, bool v);
/* 2026-11-21T19:40:09.123456789Z, or null */
void json_time(struct json *j, const char *key, const struct ferry_time *t);
void json_end(struct json *j);
/* A JSON string: characters that are not UTF-8 become U+FFFD. */
void json_string(FILE *f, const char *s);

/* ---- record.c: file metadata, written the same way by every command ---- */
char type_char(unsigned mode);                        /* d, l, -, c, b, p, s */
const char *type_name(unsigned mode);                 /* directory, symlink, file... */
void mode_string(unsigned mode, char out[11]);        /* drwxr-xr-x */
void put_time(FILE *f, const struct ferry_time *t);   /* 2026-11-21T19:40:09.123456789Z */
void put_minute(FILE *f, const struct ferry_time *t); /* 2026-11-21 19:40 */
/* One file as a JSON record: path, type, mode, nlink, uid, gid, size,
 * inode, blocks, the four times, the link target, and a digest under its
 * algorithm's name ("sha256": ...) when alg is not NULL. A deleted file
 * (deleted not NULL) also has "deleted": true and "metadata": deleted
 * ("known", or "reused": the inode is another file's now, the numbers 0). */
void json_entry(FILE *f, const char *path, const struct ferry_stat *st, const char *link,
                const char *alg, const char *digest, const char *deleted);

/* ---- report.c: errors and warnings, on stderr, escaped ---- */
/* "ferry: " and the message, escaped as a whole (it may quote the image). */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Messages can name the appliance's devices (/dev/vda1); the session
 * registers how to say them as the user does (/dev/sda1). */
void report_set_rewrite(void (*fn)(const char *in, char *out, size_t size));
void report_rewrite(const char *in, char *out, size_t size);

/* ---- progress.c: the bar of long transfers, on a terminal ---- */
struct progress_bar {
    bool on, shown;
    double start, drawn;
};
/* The client's progress hook for one transfer. */
void progress_hook(void *opaque, uint64_t position, uint64_t total);
void progress_begin(struct progress_bar *p);
void progress_end(struct progress_bar *p);

#endif
