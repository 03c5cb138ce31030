/* audit.h: the evidence of a run (--log FILE): which ferry, what was typed,
 * when, with what result, each image's sha256 before and after, and the
 * ranges that could not be read; and hash-image. */
#ifndef FERRY_AUDIT_H
#define FERRY_AUDIT_H

#include <stdint.h>

struct session;

/* sha256 of a file as hex into out[65], its size into *size. -1 (errno). */
int hash_file(const char *path, char out[65], uint64_t *size);
/* --log FILE: hash the images now (before anything opens them). The
 * arguments are the command line as typed. 0, or -1 reported. */
int audit_begin(struct session *s, const char *file, int argc, char **argv);
/* A range of a file that could not be read (written as zeros). */
void audit_unreadable(const char *path, uint64_t offset, uint64_t length);
/* Append the record; the appliance must be gone by now. */
void audit_end(int status);

#endif
