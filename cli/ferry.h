/* ferry.h: what the host program's files share. */
#ifndef FERRY_H
#define FERRY_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "client.h"

#define FERRY_VERSION "0.1.0"

/* Exit statuses, documented in ferry(1). */
#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

#define MAX_IMAGES 26
#define MAX_MOUNTS 64

struct image {
    const char *path;
    const char *format;      /* forced with --format, else detected */
};

struct mount_req {
    char *device, *mountpoint, *options, *fstype;
};

/* Global options and the appliance they lead to. */
struct session {
    struct image images[MAX_IMAGES];
    int nimages;
    struct mount_req mounts[MAX_MOUNTS];
    int nmounts;
    bool rw, verbose, trace;
    bool backing;               /* open the backing files of qcow2 and the like */
    const char *accel;          /* auto, kvm, tcg */
    const char *machine;        /* microvm, or q35 when qemu lacks it */
    unsigned memsize_mb;
    int timeout_s;              /* per-call inactivity */
    int launch_timeout_s;
    const char *test_root;      /* serve a directory with a host ferryd */
    const char *log;            /* --log: append an audit record here */
    const char *command;        /* for error messages */
    bool started;
    pid_t child;                /* qemu, or the test daemon */
    int console_fd;             /* the guest console, captured */
    struct client cl;
};

/* ---- the command table: drives dispatch, --help, the man page and
 * completion. C(ident, "name", "usage", "summary", flags, "options help") */
#define CMD_NO_APPLIANCE 1      /* runs without booting anything */
#define CMD_WRITES 2            /* needs --rw */
#define CMD_NO_MOUNT 4          /* works on devices, mounts nothing */

#define FERRY_COMMANDS(C)                                                           \
    C(ls, "ls", "[-l] [-a] [-R] [--time] [--checksum[=ALG]] [--json] [PATH...]",     \
      "list a directory (default /)", 0,                                            \
      "  -l          long format: mode, links, owner, size, mtime\n"                \
      "  -a          include entries starting with a dot\n"                         \
      "  -R          recurse into subdirectories\n"                                 \
      "      --time  all four times with nanoseconds\n"                             \
      "      --checksum[=ALG]  a digest of each file (md5 sha1 sha256 sha512; sha256)\n" \
      "      --json  one JSON object per line per entry\n")                        \
    C(stat, "stat", "PATH...", "show all metadata of paths, times in nanoseconds", 0, "")  \
    C(cat, "cat", "PATH...", "write files to standard output", 0, "")              \
    C(download, "download", "REMOTE [LOCAL|-]",                                     \
      "copy a file out of the image (default: its name, here)", 0, "")             \
    C(upload, "upload", "LOCAL|- REMOTE", "copy a file into the image", CMD_WRITES, "") \
    C(copy_out, "copy-out", "REMOTE... LOCALDIR",                                    \
      "copy files and trees out of the image into a local directory", 0, "")        \
    C(copy_in, "copy-in", "LOCAL... REMOTEDIR",                                      \
      "copy local files and trees into a directory of the image", CMD_WRITES, "")   \
    C(mkdir, "mkdir", "[-p] [-m MODE] PATH...", "make directories", CMD_WRITES,    \
      "  -p          make parents as needed; no error if it exists\n"               \
      "  -m MODE     permission bits (octal), default 755\n")                       \
    C(rm, "rm", "[-r] [-f] PATH...", "remove files or trees", CMD_WRITES,         \
      "  -r          remove directories and their contents\n"                       \
      "  -f          no error when a path does not exist\n")                        \
    C(chmod, "chmod", "MODE PATH...", "change permission bits (octal MODE)", CMD_WRITES, "") \
    C(chown, "chown", "[-h] UID[:GID] PATH...", "change numeric owner and group",  \
      CMD_WRITES, "  -h          change a symlink itself\n")                        \
    C(readlink, "readlink", "PATH...", "print the targets of symlinks", 0, "")     \
    C(ln, "ln", "-s TARGET LINK", "make a symbolic link", CMD_WRITES,                \
      "  -s          symbolic (the only kind ferry makes)\n")                       \
    C(mv, "mv", "FROM TO", "rename or move within a filesystem", CMD_WRITES, "")    \
    C(touch, "touch", "[-c] [-h] [-d TIME] PATH...",                                \
      "set times to now (or TIME), making empty files as needed", CMD_WRITES,       \
      "  -c          do not create missing files\n"                                \
      "  -h          change a symlink's own times\n"                               \
      "  -d TIME     2026-11-21T19:40:09[.123456789]Z, or @SECONDS[.NANOS]\n")    \
    C(checksum, "checksum", "[--alg md5|sha1|sha256|sha512] PATH...",              \
      "print digests of files as sha256sum does", 0,                                \
      "      --alg A default sha256\n")                                             \
    C(tar_out, "tar-out", "REMOTEDIR [FILE|-] [--compress zstd|gzip|xz]",            \
      "write a tar archive of a directory", 0,                                      \
      "      --compress C  zstd, gzip or xz (default: from FILE's ending, e.g. .tar.zst)\n") \
    C(tar_in, "tar-in", "FILE|- REMOTEDIR", "extract a tar archive into a directory", \
      CMD_WRITES, "")                                                               \
    C(inspect, "inspect", "[--json]",                                              \
      "find operating systems: type, distribution, version, build, product, hostname, arch", \
      CMD_NO_MOUNT,                                                                  \
      "      --json  one JSON object per line per operating system\n")               \
    C(registry, "registry", "HIVE [KEY]",                                          \
      "print the values of a key of a Windows registry hive, as regedit exports them", 0, \
      "  HIVE is a file in the image, e.g. /Windows/System32/config/SOFTWARE;\n"   \
      "  KEY is \\-separated from the hive's root, e.g. 'Microsoft\\Windows NT'.\n") \
    C(timeline, "timeline", "[--json] [--hash md5|sha1|sha256] [PATH]",            \
      "write a Sleuth Kit body file (mactime -b) of a tree, default /", 0,          \
      "      --json  one JSON object per line, times with nanoseconds\n"           \
      "      --hash A fill the MD5 column (or \"hash\") with that digest\n")     \
    C(df, "df", "[-h] [PATH]", "show filesystem usage", 0,                          \
      "  -h          sizes in powers of 1024\n")                                    \
    C(filesystems, "filesystems", "[--json]",                                       \
      "list devices, partitions and volumes with their filesystems", CMD_NO_MOUNT,  \
      "      --json  one JSON object per line per device\n")                       \
    C(mount, "mount", "DEVICE MOUNTPOINT [OPTIONS [FSTYPE]]",                       \
      "mount a device (as 'ferry filesystems' names it) at a directory", CMD_NO_MOUNT, "") \
    C(umount, "umount", "MOUNTPOINT", "unmount the filesystem at a directory", CMD_NO_MOUNT, "") \
    C(shell, "shell", "", "run commands read from standard input, one per line, in one launch", \
      0, "  Lines are split like a shell's words ('...', \"...\", \\); # starts a comment.\n" \
         "  An error names its line; the exit status is 1 if any line failed.\n")    \
    C(ping, "ping", "", "boot the appliance and measure a round trip", CMD_NO_MOUNT, "") \
    C(version, "version", "", "print versions of ferry, the protocol and the kernel", \
      CMD_NO_APPLIANCE, "")                                                         \
    C(hash_image, "hash-image", "IMAGE...",                                         \
      "print the sha256 of image files, as sha256sum does (no appliance)",        \
      CMD_NO_APPLIANCE, "")                                                         \
    C(help, "help", "[COMMAND | --man | --bash-completion]",                       \
      "list commands, or describe one", CMD_NO_APPLIANCE, "")

#define DECLARE_CMD(id, name, usage, summary, flags, opthelp)                       \
    int cmd_##id(struct session *s, int argc, char **argv);
FERRY_COMMANDS(DECLARE_CMD)

struct command {
    const char *name, *usage, *summary;
    int flags;
    const char *opthelp;
    int (*run)(struct session *s, int argc, char **argv);
};
extern const struct command commands[];
extern const char ferry_options_help[];
extern struct timespec ferry_started;   /* for ping's launch figure */
extern const size_t ncommands;
const struct command *find_command(const char *name);
void command_usage(FILE *f, const struct command *c);

/* ---- the appliance ---- */
/* Boot (or, with --test-root, start ferryd) and shake hands. Exits on error. */
void session_start(struct session *s, int flags);
/* Shut the appliance down and reap it; returns its exit trouble, if any. */
int session_end(struct session *s);

/* mounts.c */
void mount_filesystems(struct session *s);
/* Mount what the user calls `device` (/dev/sda1, /dev/vg/lv); label
 * starts the message when there is no such device. 0, or -1 reported. */
int mount_device(struct session *s, const char *label, const char *device,
                 const char *mountpoint, const char *options, const char *fstype);
void device_user_name(const ferry_device *d, char *out, size_t size);
void sort_devices(ferry_devices_ret *r);   /* by the names the user sees */
bool device_mountable(const ferry_device *d);
/* inspect.c: mount the one operating system on the images (its root, then
 * its fstab); -1 when there is none, or more than one. */
int mount_os(struct session *s, ferry_devices_ret *r);

/* registry.c: the values of a key of a hive; none when it is missing */
void reg_key(struct session *s, const char *hive, const char *key, ferry_reg_ret *r);
/* A string value as UTF-8 ("" if none); a REG_DWORD value (-1 if none). */
void reg_text(const ferry_reg_ret *r, const char *name, char *out, size_t size);
long long reg_dword(const ferry_reg_ret *r, const char *name);

/* format.c */
const char *format_detect(const char *path);
bool format_known(const char *name);

/* walk.c: one remote directory's entries, kept in memory */
struct entries {
    ferry_dirent *v;
    size_t n, cap;
};
int list_dir(struct session *s, const char *path, struct entries *e);
void entries_add(struct entries *e, const ferry_dirent *d);   /* a copy */
void free_entries(struct entries *e);
char *join_path(const char *dir, const char *name);   /* malloc'd dir/name */

/* launch.c */
int launch_test_daemon(struct session *s, int fd);
int launch_qemu(struct session *s, int fd);
bool launch_would_use_kvm(void);
bool launch_qemu_said(const char *needle);
void launch_console_tail(struct session *s);
extern pid_t child_pid;

/* audit.c: exit with this status (the audit record notes it) */
void ferry_exit(int status) __attribute__((noreturn));
/* --log FILE: hash the images now; append the record at exit */
void audit_begin(struct session *s, const char *file, int argc, char **argv);

/* ---- x-helpers: succeed or exit with a message ---- */
void die(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *xmalloc(size_t n);
char *xstrdup(const char *s);
/* Report the client's last failure as "ferry: CMD: message". */
void call_error(struct session *s);
/* Exit if a call failed with the appliance lost; otherwise report, return 1. */
int call_failed(struct session *s);

/* ---- output ---- */
/* Print a name safely: on a terminal, control bytes and invalid UTF-8 as
 * \xNN escapes; exact otherwise. */
int put_name(FILE *f, const char *name, bool escape);   /* returns the columns used */
void put_padded(FILE *f, const char *name, int width, bool escape);
/* A JSON string; bytes that are not UTF-8 become U+FFFD (see is_utf8). */
void put_json_string(FILE *f, const char *s);
bool is_utf8(const char *s);
bool stdout_is_tty(void);

/* ls.c: how metadata reads */
char type_char(unsigned mode);                     /* d, l, -, c, b, p, s */
const char *type_name(unsigned mode);              /* directory, symlink, file... */
void mode_string(unsigned mode, char out[11]);     /* drwxr-xr-x */
void put_time(FILE *f, const struct ferry_time *t);/* 2026-11-21T19:40:09.123456789Z */
void put_json_times(FILE *f, const struct ferry_stat *st);   /* ,"atime":... "btime":... */

/* Signals: the first SIGINT/SIGTERM/SIGHUP during a command sets
 * ferry_interrupted (when ferry_graceful); transfers then cancel. */
#include <signal.h>
extern volatile sig_atomic_t ferry_interrupted;
extern bool ferry_graceful;
void signals_install(void);

/* Temporary local file removed on failure or signal. */
void cleanup_register(const char *path);
void cleanup_done(void);     /* remove it */
void cleanup_keep(void);     /* it is complete: keep it */

#endif
