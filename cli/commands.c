/* commands.c: every command and option of ferry, described once. */
#include <string.h>

#include "cmd/cmd.h"
#include "commands.h"
#include "io/transfer.h"
#include "launch/image.h"

const char *const accels[] = { "auto", "kvm", "tcg", NULL };

const struct opt global_opts[] = {
    { 'a', "add", "IMAGE", NULL,
      "a disk image (repeatable: /dev/sda, /dev/sdb, ...); without -a, "
      "the command's first operand is the image",
      NULL },
    { 0, "format", "FMT", image_formats,
      "the format of the next -a (default: detected); the "
      "rarely used formats are opened only when named here",
      NULL },
    { 0, "external", NULL, NULL,
      "also open the other files an image names (backing files, a "
      "qcow2 data file, VMDK extents); ferry says which",
      NULL },
    { 0, "backing", NULL, NULL, "the same as --external", NULL },
    { 'm', "mount", "DEV[:MOUNTPOINT[:OPTIONS[:FSTYPE]]]", NULL,
      "mount explicitly (repeatable); MOUNTPOINT defaults to /", NULL },
    { 0, "ro", NULL, NULL, "read-only (the default)", NULL },
    { 0, "rw", NULL, NULL, "allow writes", NULL },
    { 'v', "verbose", NULL, NULL,
      "show what ferry and the appliance do (the guest's console "
      "on stderr)",
      NULL },
    { 'x', "trace", NULL, NULL, "trace each call", NULL },
    { 0, "no-direct", NULL, NULL,
      "read every file's bytes through the appliance, never from the image (or qemu's export "
      "of it) on the host",
      NULL },
    { 0, "accel", "ACCEL", accels, "accelerator (default auto: KVM when it works)", "FERRY_ACCEL" },
    { 0, "memsize", "MB", NULL, "guest memory (default 256)", "FERRY_MEMSIZE" },
    { 0, "timeout", "S", NULL, "give up on a call silent for S seconds (default 60)",
      "FERRY_TIMEOUT" },
    { 0, "call-limit", "S", NULL,
      "give up on a call that moves no data for S seconds even "
      "though the appliance says it is working (default 3600)",
      "FERRY_CALL_LIMIT" },
    { 0, "launch-timeout", "S", NULL, "give up on a boot after S seconds (default 30)",
      "FERRY_LAUNCH_TIMEOUT" },
    { 0, "log", "FILE", NULL,
      "append an audit record: versions, command, times, exit status, "
      "each image's sha256 before and after, unreadable ranges",
      NULL },
    { 0, "qemu", "PATH", NULL, "a qemu of the system to run instead of the one ferry carries",
      "FERRY_QEMU" },
    { 0, "test-root", "DIR", NULL, "testing: serve DIR with a host ferryd, no VM", NULL },
    { 0, "key-file", "FILE", NULL,
      "the passphrase of encrypted (LUKS) volumes: every byte of FILE, a final newline "
      "included, as cryptsetup --key-file reads it; - for standard input. Without it, "
      "ferry asks on the terminal",
      NULL },
    { 'V', "version", NULL, NULL, "print versions", NULL },
    { 'h', "help", NULL, NULL, "this help", NULL },
    { 0 },
};

const char *const environment[][2] = {
    { "FERRY_NO_RESUME",
      "when set, boot the appliance instead of resuming the saved one; so do FERRY_CPU, "
      "FERRY_CHUNK_SIZE, FERRY_READAHEAD_KB, FERRY_APPEND, a machine other than microvm, "
      "--rw, --qemu, a --memsize other than 256 and more than four images" },
    { "FERRY_SESSION",
      "the session (ferry session start) that commands run in instead of starting an appliance" },
    { "FERRY_MACHINE", "qemu's machine: microvm (the default), or q35" },
    { "FERRY_CPU", "qemu's -cpu (default qemu64 under TCG, host with KVM)" },
    { "FERRY_CHUNK_SIZE", "bytes per chunk of a transfer (default 262144)" },
    { "FERRY_READAHEAD_KB", "the appliance's readahead on its disks (default 4096)" },
    { "FERRY_APPEND", "more words for the appliance's kernel command line" },
    { "FERRY_DAEMON", "with --test-root, the ferryd to run (default: beside ferry)" },
    { "FERRY_SAVE_STATE",
      "the build: with no arguments, boot the appliance and save it into this file" },
    { NULL, NULL },
};

#define OPTS(...) ((const struct opt[]){ __VA_ARGS__, { 0 } })
#define NOOPTS ((const struct opt[]){ { 0 } })

#define ZERO_UNREADABLE                                                                            \
    {                                                                                              \
        0, "zero-unreadable", NULL, NULL,                                                          \
            "go on past what the image cannot give: zeros "                                        \
            "there, each range named on stderr and in --log, exit status 3",                       \
            NULL                                                                                   \
    }

const struct command commands[] = {
    { "ls", cmd_ls, 0, 0, -1, "[PATH...]", "list directories (default /)",
      OPTS(
          { 'l', "long", NULL, NULL, "long format: mode, links, owner, size, mtime", NULL },
          { 'a', "all", NULL, NULL, "include entries starting with a dot", NULL },
          { 'R', "recursive", NULL, NULL, "recurse into subdirectories", NULL },
          { 0, "time", NULL, NULL, "all four times with nanoseconds", NULL },
          { 'i', "inode", NULL, NULL, "the inode number first, as the Sleuth Kit's tools take it",
            NULL },
          { 'd', "deleted", NULL, NULL,
            "deleted entries too, after the others, marked (found by the Sleuth Kit)", NULL },
          { 0, "checksum", "[ALG]", checksum_algs, "a digest of each file (default sha256)", NULL },
          { 0, "json", NULL, NULL, "one JSON object per line per entry", NULL }),
      NULL },
    { "stat", cmd_stat, 0, 1, -1, "PATH...", "show all metadata of paths, times in nanoseconds",
      NOOPTS, NULL },
    { "cat", cmd_cat, 0, 1, -1, "PATH...", "write files to standard output", OPTS(ZERO_UNREADABLE),
      NULL },
    { "download", cmd_download, 0, 1, 2, "REMOTE [LOCAL|-]",
      "copy a file out of the image (default: its name, here)", OPTS(ZERO_UNREADABLE), NULL },
    { "recover", cmd_recover, 0, 1, 2, "INODE [LOCAL|-]",
      "write what can be recovered of a deleted file, by its inode (ls -d -i shows it)",
      OPTS({ 0, "fs", "PATH", NULL,
             "the filesystem holding PATH (default /: the one mounted there)", NULL }),
      "  The Sleuth Kit reads the content its inode still points at, as icat does; LOCAL\n"
      "  defaults to recovered-INODE here, - is standard output. On ext4 a deleted file's\n"
      "  inode no longer says where its blocks were: little or nothing comes back. FAT and\n"
      "  NTFS keep more.\n" },
    { "upload", cmd_upload, CMD_WRITES, 2, 2, "LOCAL|- REMOTE", "copy a file into the image",
      NOOPTS, NULL },
    { "copy-out", cmd_copy_out, 0, 2, -1, "REMOTE... LOCALDIR",
      "copy files and trees out of the image into a local directory", OPTS(ZERO_UNREADABLE),
      "  Entries are made by one checked name at a time and never through a symlink; symlinks\n"
      "  stay links, hard links become separate files, devices, fifos and sockets are skipped,\n"
      "  setuid, setgid and sticky bits are dropped.\n" },
    { "copy-in", cmd_copy_in, CMD_WRITES, 2, -1, "LOCAL... REMOTEDIR",
      "copy local files and trees into a directory of the image", NOOPTS, NULL },
    { "mkdir", cmd_mkdir, CMD_WRITES, 1, -1, "PATH...", "make directories",
      OPTS({ 'p', "parents", NULL, NULL, "make parents as needed; no error if it exists", NULL },
           { 'm', "mode", "MODE", NULL, "permission bits (octal), default 755", NULL }),
      NULL },
    { "rm", cmd_rm, CMD_WRITES, 1, -1, "PATH...", "remove files or trees",
      OPTS({ 'r', "recursive", NULL, NULL, "remove directories and their contents", NULL },
           { 'R', "recursive", NULL, NULL, NULL, NULL },
           { 'f', "force", NULL, NULL, "no error when a path does not exist", NULL }),
      NULL },
    { "chmod", cmd_chmod, CMD_WRITES, 2, -1, "MODE PATH...", "change permission bits (octal MODE)",
      NOOPTS, NULL },
    { "chown", cmd_chown, CMD_WRITES, 2, -1, "UID[:GID] PATH...", "change numeric owner and group",
      OPTS({ 'h', "no-dereference", NULL, NULL, "change a symlink itself", NULL }), NULL },
    { "readlink", cmd_readlink, 0, 1, -1, "PATH...", "print the targets of symlinks", NOOPTS,
      NULL },
    { "ln", cmd_ln, CMD_WRITES, 2, 2, "TARGET LINK", "make a symbolic link",
      OPTS({ 's', "symbolic", NULL, NULL, "symbolic (the only kind ferry makes; required)", NULL }),
      NULL },
    { "mv", cmd_mv, CMD_WRITES, 2, 2, "FROM TO", "rename or move within a filesystem", NOOPTS,
      NULL },
    { "touch", cmd_touch, CMD_WRITES, 1, -1, "PATH...",
      "set times to now (or TIME), making empty files as needed",
      OPTS({ 'c', "no-create", NULL, NULL, "do not create missing files", NULL },
           { 'h', "no-dereference", NULL, NULL, "change a symlink's own times", NULL },
           { 'd', "date", "TIME", NULL, "2026-11-21T19:40:09[.123456789]Z, or @SECONDS[.NANOS]",
             NULL }),
      NULL },
    { "checksum", cmd_checksum, 0, 1, -1, "PATH...", "print digests of files as sha256sum does",
      OPTS({ 0, "alg", "ALG", checksum_algs, "the digest (default sha256)", NULL }), NULL },
    { "tar-out", cmd_tar_out, 0, 1, 2, "REMOTEDIR [FILE|-]", "write a tar archive of a directory",
      OPTS({ 0, "compress", "C", compressions,
             "compress on the host (default: from FILE's ending, e.g. .tar.zst)", NULL }),
      "  The archive is POSIX pax, written on the host: owners as numbers, times to the\n"
      "  nanosecond, hard links kept, sparse files stored sparse (GNU's sparse format,\n"
      "  which GNU tar and bsdtar restore as holes). Sockets are left out. A file that\n"
      "  cannot be read ends the archive with an error: no file is written, and a\n"
      "  pipe's reader gets an archive that ends in a block no tar reads.\n" },
    { "tar-in", cmd_tar_in, CMD_WRITES, 2, 2, "FILE|- REMOTEDIR",
      "extract a tar archive into a directory", NOOPTS, NULL },
    { "inspect", cmd_inspect, CMD_NO_MOUNT | CMD_OWN_MOUNTS, 0, 0, "",
      "find operating systems: type, distribution, version, build, product, hostname, arch",
      OPTS({ 0, "json", NULL, NULL, "one JSON object per line per operating system", NULL }),
      NULL },
    { "registry", cmd_registry, 0, 1, 2, "HIVE [KEY]",
      "print the values of a key of a Windows registry hive, as regedit exports them", NOOPTS,
      "  HIVE is a file in the image, e.g. /Windows/System32/config/SOFTWARE;\n"
      "  KEY is \\-separated from the hive's root, e.g. 'Microsoft\\Windows NT'.\n" },
    { "timeline", cmd_timeline, 0, 0, 1, "[PATH]",
      "write a Sleuth Kit body file (mactime -b) of a tree, default /",
      OPTS({ 0, "json", NULL, NULL, "one JSON object per line, times with nanoseconds", NULL },
           { 0, "hash", "ALG", checksum_algs,
             "fill the MD5 column (or the JSON field of that "
             "name) with that digest",
             NULL }),
      NULL },
    { "df", cmd_df, 0, 0, 1, "[PATH]", "show filesystem usage",
      OPTS({ 'h', "human-readable", NULL, NULL, "sizes in powers of 1024", NULL }), NULL },
    { "filesystems", cmd_filesystems, CMD_NO_MOUNT, 0, 0, "",
      "list devices, partitions and volumes with their filesystems",
      OPTS({ 0, "json", NULL, NULL, "one JSON object per line per device", NULL }), NULL },
    { "mount", cmd_mount, CMD_NO_MOUNT | CMD_OWN_MOUNTS, 2, 4,
      "DEVICE MOUNTPOINT [OPTIONS [FSTYPE]]",
      "mount a device (as 'ferry filesystems' names it) at a directory", NOOPTS, NULL },
    { "umount", cmd_umount, CMD_NO_MOUNT | CMD_OWN_MOUNTS, 1, 1, "MOUNTPOINT",
      "unmount the filesystem at a directory", NOOPTS, NULL },
    { "shell", cmd_shell, CMD_NOT_IN_SHELL | CMD_OWN_MOUNTS, 0, 0, "",
      "run commands read from standard input, one per line, in one launch", NOOPTS,
      "  Lines are split like a shell's words ('...', \"...\", \\); # starts a comment.\n"
      "  The first line that fails stops the batch: its error names the line, and the\n"
      "  appliance is shut down cleanly (what was written before stays written). A line\n"
      "  starting with - may fail without stopping the batch.\n" },
    { "ping", cmd_ping, CMD_NO_MOUNT, 0, 0, "", "boot the appliance and measure a round trip",
      NOOPTS, NULL },
    { "session", cmd_session, CMD_NO_APPLIANCE | CMD_NOT_IN_SHELL, 1, -1, "start [IMAGE...] | stop",
      "keep one appliance running for many commands (FERRY_SESSION)",
      OPTS({ 'a', "add", NULL, NULL, "the operand after it is an image (IMAGE alone says the same)",
             NULL },
           { 0, "rw", NULL, NULL, "allow writes", NULL },
           { 0, "ro", NULL, NULL, "read-only (the default)", NULL },
           { 0, "idle-timeout", "S", NULL,
             "end the session after S seconds with no command (default 900; 0: never)", NULL }),
      "  eval \"$(ferry session start -a IMAGE [--rw])\" starts an appliance in the background\n"
      "  and sets FERRY_SESSION; each later ferry command with it set uses that appliance\n"
      "  and those images (it names no image), one command at a time, and eval \"$(ferry\n"
      "  session stop)\" ends it. Commands asking for the same mounts (-m, or none) find\n"
      "  them mounted; a writing command's changes are synced to the image when it ends.\n"
      "  The socket is in $XDG_RUNTIME_DIR/ferry (else /tmp/ferry-UID), mode 0700; only\n"
      "  its owner may use it. FERRY_SESSION= ferry ... runs one command on its own.\n" },
    { "version", cmd_version, CMD_NO_APPLIANCE | CMD_NOT_IN_SHELL, 0, 0, "",
      "print versions of ferry, the protocol and the kernel", NOOPTS, NULL },
    { "hash-image", cmd_hash_image, CMD_NO_APPLIANCE | CMD_NOT_IN_SHELL, 1, -1, "IMAGE...",
      "print the sha256 of image files, as sha256sum does (no appliance)", NOOPTS, NULL },
    { "verify", cmd_verify, CMD_NO_APPLIANCE | CMD_NOT_IN_SHELL, 1, -1, "IMAGE...",
      "check an E01 image: every chunk, and the media against its stored MD5 and SHA1", NOOPTS,
      "  The media is read again through libewf, each chunk checked against its checksum,\n"
      "  and hashed; exit status 0 when every stored hash matches, 1 when one does not or a\n"
      "  chunk is damaged (each named, by byte range). A progress line shows on a terminal.\n" },
    { "help", cmd_help, CMD_NO_APPLIANCE | CMD_NOT_IN_SHELL, 0, 1, "[COMMAND]",
      "list commands, or describe one",
      OPTS({ 0, "man", NULL, NULL, "the manual page (roff)", NULL },
           { 0, "bash-completion", NULL, NULL, "a bash completion script", NULL }),
      NULL },
    { 0 },
};

const struct tables ferry_tables = { commands, global_opts, environment };
