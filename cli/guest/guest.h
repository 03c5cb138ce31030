/* guest.h: what ferry knows of what is inside the images: devices and
 * their names, what to mount, operating systems, registry values, and the
 * one way to walk a remote tree. Everything here talks to the appliance
 * through the session's client; nothing exits. */
#ifndef FERRY_GUEST_H
#define FERRY_GUEST_H

#include "launch/session.h"

/* ---- devices.c ---- */
/* The devices, partitions and volumes, sorted by the names the user sees;
 * their names are learnt for messages too. Encrypted volumes are opened
 * first when there is a key (crypt.c), and what they hold is listed too.
 * 0, or -1 (call failed). */
int list_devices(struct session *s, ferry_devices_ret *r);
/* /dev/vdb2 of the disk with serial "sda" is /dev/sda2 to the user; an LV
 * /dev/mapper/vg-lv is /dev/vg/lv; an opened LUKS volume
 * /dev/mapper/luks-vdb2 is /dev/mapper/luks-sda2 (bitlk-vdb2: bitlk-sda2). */
void device_user_name(const ferry_device *d, char *out, size_t size);
/* Filesystems one can mount, as opposed to containers of other things. */
bool device_mountable(const ferry_device *d);

/* ---- crypt.c ---- */
/* Open the encrypted volumes of a listing that are not open yet, with the
 * key of the run (asked for on a terminal); one without a key is left
 * closed, and said so. How many opened, or -1 (the client's error set). */
int crypt_open_all(struct session *s, const ferry_devices_ret *r);

/* ---- mount.c ---- */
/* Before a command: what -m says, or else the one filesystem there is, or
 * else the operating system. A status: EXIT_OK, or EXIT_FAILED reported. */
int mount_filesystems(struct session *s);
/* Mount what the user calls `device`; label starts the message when there
 * is no such device. 0, or -1 reported. */
int mount_device(struct session *s, const char *label, const char *device, const char *mountpoint,
                 const char *options, const char *fstype);

/* ---- os.c ---- */
struct os {
    char device[FERRY_MAX_PATH + 1]; /* as the user sees it */
    char appliance_dev[FERRY_MAX_PATH + 1];
    char type[16];    /* linux, windows */
    char subvol[300]; /* "subvol=NAME" when the root is a btrfs subvolume, not the default */
    char distro[64], version[64], build[64], product[256], hostname[256], arch[16];
};
/* Every OS root among the devices, in device order (at most max); with
 * `registry`, what a Windows registry says of it too. -1 if a call failed
 * with the channel lost. */
int find_roots(struct session *s, ferry_devices_ret *r, struct os *roots, int max, bool registry);
/* Mount the one operating system there is: its root, then its fstab.
 * 0 when done, 1 when there is none (or several), -1 when it failed. */
int mount_os(struct session *s, ferry_devices_ret *r);

/* ---- registry.c ---- */
/* The values of a key of a hive; none when it is missing. */
void reg_key(struct session *s, const char *hive, const char *key, ferry_reg_ret *r);
/* A string value as UTF-8 ("" if none); a REG_DWORD value (-1 if none). */
void reg_text(const ferry_reg_ret *r, const char *name, char *out, size_t size);
long long reg_dword(const ferry_reg_ret *r, const char *name);
void utf16_text(const char *data, size_t len, char *out, size_t size);

/* walk.c: a listing's hole callback: a listing is batches, never a hole */
int listing_no_holes(void *opaque, uint64_t len);

/* ---- deleted.c: deleted files, found by the Sleuth Kit in the appliance ---- */
typedef int (*deleted_visit)(void *opaque, const ferry_deleted *e);
bool deleted_supported(struct session *s);
/* The deleted names in dir's filesystem under dir (at any depth with
 * recursive), each handed to visit (-1 from it stops the listing). 0; -1
 * when the call failed (the client's error set; ENOTSUP: no appliance, or
 * a filesystem the Sleuth Kit does not read); -2 when visit stopped it. */
int list_deleted(struct session *s, const char *dir, bool recursive, deleted_visit visit,
                 void *opaque);

/* ---- walk.c: the one remote tree walker ---- */
struct walk;
/* An entry: path is its full path, rel its path below the top of the walk,
 * depth 0 for what is directly in the top. Returns 0 to go on, 1 not to
 * descend into this directory, -1 to stop the walk. */
typedef int (*walk_visit)(struct walk *w, const char *path, const char *rel, const ferry_dirent *e,
                          int depth);
/* A directory visited before, after all that is below it. */
typedef void (*walk_leave)(struct walk *w, const char *path, const char *rel, const ferry_dirent *e,
                           int depth);
struct walk {
    struct session *s;
    walk_visit visit;
    walk_leave leave; /* or NULL */
    void *opaque;
    bool recursive;
    bool sorted; /* each directory's entries in name order */
    /* The visitor makes calls of its own (downloads, digests), which it
     * cannot while a listing streams: the tree is then listed a directory
     * at a time, each kept until its entries are visited (memory: the
     * largest directory, times the depth). Otherwise the daemon walks the
     * tree in one call, and entries stream by in constant memory. */
    bool visitor_calls;
    int errors; /* what could not be listed (reported) */
};
/* Visit what is below top. 0, or -1: stopped, or the channel was lost. */
int walk_tree(struct walk *w, const char *top);
char *join_path(const char *dir, const char *name); /* malloc'd dir/name */

/* ---- tree.c: a tree read in one call, each file with its bytes ---- */
struct tree_read;
/* Where a file's data lies; what no range covers is a hole, and comes as
 * zeros (hole callbacks). */
struct tree_map {
    const ferry_range *v;
    unsigned n;
};
struct tree_read {
    struct session *s;
    /* An entry below the top, in the walk's order (a directory before
     * what it holds); path is its full path. For a regular file whose
     * bytes come, map says where its holes are (NULL: none known), and x's
     * data and hole callbacks take the bytes (left unset: they are
     * dropped, and the host does not read them). Not called for a file
     * that could not be opened. -1 stops the walk. */
    int (*entry)(struct tree_read *t, const char *path, const ferry_dirent *e,
                 const struct tree_map *map, struct xfer *x);
    /* The entry is complete: all its bytes came, or err says why not (a
     * file that could not be opened or read whole, a directory that could
     * not be listed; msg says it, without the path). -1 stops the walk. */
    int (*done)(struct tree_read *t, const char *path, const ferry_dirent *e, int err,
                const char *msg);
    void *opaque;
    bool contents; /* false: entries alone */
};
/* Needs FERRY_CAP_TREE. 0, or -1: stopped, or the call failed (the
 * client's err and msg say why). */
int tree_read(struct tree_read *t, const char *top);

#endif
