/* cmd.h: the command handlers (one file per family in cli/cmd/) and what
 * they share. A handler gets its parsed options and operands, and returns
 * an exit status; it never exits. */
#ifndef FERRY_CMD_H
#define FERRY_CMD_H

#include "commands.h"
#include "launch/session.h"

int cmd_ls(struct session *s, struct args *a);
int cmd_stat(struct session *s, struct args *a);
int cmd_readlink(struct session *s, struct args *a);
int cmd_cat(struct session *s, struct args *a);
int cmd_download(struct session *s, struct args *a);
int cmd_recover(struct session *s, struct args *a);
int cmd_upload(struct session *s, struct args *a);
int cmd_copy_out(struct session *s, struct args *a);
int cmd_copy_in(struct session *s, struct args *a);
int cmd_mkdir(struct session *s, struct args *a);
int cmd_rm(struct session *s, struct args *a);
int cmd_chmod(struct session *s, struct args *a);
int cmd_chown(struct session *s, struct args *a);
int cmd_ln(struct session *s, struct args *a);
int cmd_mv(struct session *s, struct args *a);
int cmd_touch(struct session *s, struct args *a);
int cmd_checksum(struct session *s, struct args *a);
int cmd_tar_out(struct session *s, struct args *a);
int cmd_tar_in(struct session *s, struct args *a);
int cmd_inspect(struct session *s, struct args *a);
int cmd_registry(struct session *s, struct args *a);
int cmd_timeline(struct session *s, struct args *a);
int cmd_df(struct session *s, struct args *a);
int cmd_filesystems(struct session *s, struct args *a);
int cmd_mount(struct session *s, struct args *a);
int cmd_umount(struct session *s, struct args *a);
int cmd_shell(struct session *s, struct args *a);
int cmd_ping(struct session *s, struct args *a);
int cmd_session(struct session *s, struct args *a);
int cmd_version(struct session *s, struct args *a);
int cmd_hash_image(struct session *s, struct args *a);
int cmd_verify(struct session *s, struct args *a);
int cmd_help(struct session *s, struct args *a);

/* get.c: download one remote file to fd, with a progress bar if asked;
 * with zeros_for_bad, unreadable ranges become zeros, named on stderr and
 * in the audit record. Returns 0, 1 when ranges were unreadable, -1 with
 * the error reported, or -2 when fd's reader went away (EPIPE: no message). */
int fetch(struct session *s, const char *remote, int fd, bool bar, bool zeros_for_bad);
/* Open a new file beside `path`, to be renamed over it when complete; it
 * is removed if ferry is interrupted. A path that is there and is neither a
 * regular file nor a directory (/dev/null, a fifo) is opened as it is
 * (*tmp NULL). -1 reported. */
int open_aside(const char *path, char **tmp);
/* Done with the file open_aside made: keep it (rename over path), or not. */
int finish_aside(const char *path, char *tmp, int fd, bool keep);

/* put.c: send a local file (fd) as an upload to remote, or as an archive
 * for tar-in; 0 or -1 (the client's error set). open_local opens LOCAL,
 * or stdin for "-" (-1 reported). */
int send_local(struct session *s, int fd, bool keep_holes, bool tar, const char *remote,
               unsigned mode);
int open_local(const char *what, const char *path);

/* A digest of a remote file as lower-case hex ("" on failure, reported),
 * made on the host from the file's bytes (io/digest.c). */
int file_digest(struct session *s, int alg, const char *path, char *hex, size_t size);

#endif
