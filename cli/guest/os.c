/* os.c: finding the operating system on the images, and mounting its
 * filesystems where it mounts them.
 *
 * A Linux root is a filesystem with /etc/fstab and an os-release file; a
 * Windows system volume has /Windows/System32, and its registry (read in
 * the appliance by hivex) names the version, the host and the CPU.
 * Probing mounts each candidate read-only at /, looks, and unmounts it
 * again. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "guest/guest.h"
#include "io/transfer.h"
#include "output/output.h"

/* ---- reading small files ---- */

/* The first size-1 bytes of a file, NUL-terminated; -1 if it cannot be read. */
static ssize_t read_head(struct session *s, const char *path, char *buf, size_t size)
{
    struct membuf b = { buf, 0, size - 1 };
    struct xfer x = membuf_xfer(&b);
    ferry_download_args a = { .path = (char *) path };
    ferry_transfer_ret r;

    /* a cancel of ours (the buffer is full) is no failure */
    if (rpc_download(&s->cl, &a, &r, &x) < 0 && !(s->cl.err == ECANCELED && !s->cl.remote))
        return -1;
    buf[b.len] = '\0';
    return b.len;
}

static bool exists(struct session *s, const char *path)
{
    ferry_path_args a = { .path = (char *) path };
    CLEANUP_XDR(ferry_stat_ret) r = { 0 };

    return rpc_stat(&s->cl, &a, &r, NULL) == 0;
}

/* The value of KEY= in an os-release style file, unquoted, into out. */
static void keyval(const char *text, const char *key, char *out, size_t size)
{
    size_t kl = strlen(key);

    out[0] = '\0';
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) || p[kl] != '=')
            continue;
        const char *v = p + kl + 1;
        size_t n = strcspn(v, "\n");
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v++;
            n -= 2;
        }
        snprintf(out, size, "%.*s", (int) n, v);
        return;
    }
}

/* ---- what is on a root ---- */

/* What the registry says of a Windows root. Only inspect asks: a real
 * SOFTWARE hive is tens of megabytes, too much to open for every command. */
static void probe_windows(struct session *s, const char *sysdir, struct os *os)
{
    char software[FERRY_MAX_PATH], system[FERRY_MAX_PATH], key[256], arch[32] = "";
    CLEANUP_XDR(ferry_reg_ret) cv = { 0 };
    CLEANUP_XDR(ferry_reg_ret) sel = { 0 };
    CLEANUP_XDR(ferry_reg_ret) name = { 0 };
    CLEANUP_XDR(ferry_reg_ret) env = { 0 };

    snprintf(software, sizeof software, "%s/config/SOFTWARE", sysdir);
    snprintf(system, sizeof system, "%s/config/SYSTEM", sysdir);

    reg_key(s, software, "Microsoft\\Windows NT\\CurrentVersion", &cv);
    reg_text(&cv, "ProductName", os->product, sizeof os->product);
    if (!os->product[0])
        snprintf(os->product, sizeof os->product, "Windows");
    long long major = reg_dword(&cv, "CurrentMajorVersionNumber");
    long long minor = reg_dword(&cv, "CurrentMinorVersionNumber");
    if (major >= 0 && minor >= 0) /* Windows 10 and later */
        snprintf(os->version, sizeof os->version, "%lld.%lld", major, minor);
    else
        reg_text(&cv, "CurrentVersion", os->version, sizeof os->version);
    reg_text(&cv, "CurrentBuildNumber", os->build, sizeof os->build);
    /* Windows 11 kept "Windows 10" in ProductName; its builds start at 22000 */
    if (!strncmp(os->product, "Windows 10", 10) && atoi(os->build) >= 22000)
        os->product[9] = '1';

    /* the control set in use, then the names under it */
    reg_key(s, system, "Select", &sel);
    long long current = reg_dword(&sel, "Current");
    if (current < 1 || current > 999)
        current = 1;
    snprintf(key, sizeof key, "ControlSet%03lld\\Control\\ComputerName\\ComputerName", current);
    reg_key(s, system, key, &name);
    reg_text(&name, "ComputerName", os->hostname, sizeof os->hostname);
    snprintf(key, sizeof key, "ControlSet%03lld\\Control\\Session Manager\\Environment", current);
    reg_key(s, system, key, &env);
    reg_text(&env, "PROCESSOR_ARCHITECTURE", arch, sizeof arch);
    const char *arches[][2] = {
        { "AMD64", "x86_64" }, { "x86", "i386" }, { "ARM64", "aarch64" }, { "IA64", "ia64" }
    };
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++)
        if (!strcasecmp(arch, arches[i][0]))
            snprintf(os->arch, sizeof os->arch, "%s", arches[i][1]);
}

static const char *elf_arch(const unsigned char *h, ssize_t n)
{
    if (n < 20 || memcmp(h, "\177ELF", 4))
        return "";
    unsigned machine = h[5] == 2 ? (h[18] << 8 | h[19]) : (h[18] | h[19] << 8);
    switch (machine) {
    case 3:
        return "i386";
    case 8:
        return "mips";
    case 20:
        return "ppc";
    case 21:
        return "ppc64";
    case 22:
        return "s390x";
    case 40:
        return "arm";
    case 62:
        return "x86_64";
    case 183:
        return "aarch64";
    case 243:
        return "riscv64";
    default:
        return "unknown";
    }
}

/* With a candidate mounted at /: is it an OS root? Fills os; with
 * `registry`, also what a Windows registry says. */
static bool probe_root(struct session *s, struct os *os, bool registry)
{
    char text[8192], head[64];

    if (exists(s, "/etc/fstab") && (read_head(s, "/etc/os-release", text, sizeof text) >= 0 ||
                                    read_head(s, "/usr/lib/os-release", text, sizeof text) >= 0)) {
        snprintf(os->type, sizeof os->type, "linux");
        keyval(text, "ID", os->distro, sizeof os->distro);
        keyval(text, "VERSION_ID", os->version, sizeof os->version);
        keyval(text, "PRETTY_NAME", os->product, sizeof os->product);
        if (read_head(s, "/etc/hostname", text, sizeof text) > 0)
            snprintf(os->hostname, sizeof os->hostname, "%.*s", (int) strcspn(text, "\n \t"), text);
        const char *bins[] = { "/bin/sh", "/usr/bin/env", "/bin/ls", NULL };
        for (int i = 0; bins[i] && !os->arch[0]; i++) {
            ssize_t n = read_head(s, bins[i], head, sizeof head);
            snprintf(os->arch, sizeof os->arch, "%s", elf_arch((unsigned char *) head, n));
        }
        return true;
    }
    const char *sysdirs[] = { "/Windows/System32", "/WINDOWS/system32", "/Windows/system32" };
    for (size_t i = 0; i < sizeof sysdirs / sizeof sysdirs[0]; i++) {
        if (exists(s, sysdirs[i])) {
            snprintf(os->type, sizeof os->type, "windows");
            snprintf(os->product, sizeof os->product, "Windows");
            if (registry)
                probe_windows(s, sysdirs[i], os);
            return true;
        }
    }
    return false;
}

static int mount_at(struct session *s, const ferry_device *d, const char *mp, bool ro,
                    const char *options)
{
    ferry_mount_args a = { d->name, (char *) mp, d->fstype, (char *) options, ro || !s->rw };
    ferry_void v;
    return rpc_mount(&s->cl, &a, &v, NULL);
}

static int umount_root(struct session *s)
{
    ferry_path_args a = { "/" };
    ferry_void v;
    return rpc_umount(&s->cl, &a, &v, NULL);
}

/* The subvolumes at the top of the btrfs mounted at /: directories whose
 * inode is 256, btrfs's root of a subvolume. */
struct subvols {
    int n;
    char name[16][256];
};

static int subvol_visit(struct walk *w, const char *path, const char *rel, const ferry_dirent *e,
                        int depth)
{
    struct subvols *sv = w->opaque;

    (void) path;
    (void) depth;
    if (S_ISDIR(e->st.mode) && e->st.ino == 256 && sv->n < 16 && strlen(rel) < 256)
        snprintf(sv->name[sv->n++], sizeof sv->name[0], "%s", rel);
    return 0;
}

static void find_subvols(struct session *s, struct subvols *sv)
{
    struct walk w = { .s = s, .visit = subvol_visit, .opaque = sv, .sorted = true };
    walk_tree(&w, "/");
}

int find_roots(struct session *s, ferry_devices_ret *r, struct os *roots, int max, bool registry)
{
    int n = 0;

    for (u_int i = 0; i < r->devices.devices_len && n < max; i++) {
        ferry_device *d = &r->devices.devices_val[i];
        if (!device_mountable(d) || mount_at(s, d, "/", true, "") < 0) {
            if (s->cl.broken)
                return -1;
            continue;
        }
        memset(&roots[n], 0, sizeof roots[n]);
        bool found = probe_root(s, &roots[n], registry);
        struct subvols sv = { 0 };
        if (!found && !strcmp(d->fstype, "btrfs"))
            find_subvols(s, &sv);
        if (umount_root(s) < 0)
            return -1;
        /* Fedora's and openSUSE's layout: the OS in a subvolume of the
         * top level, which is what mounts by default */
        for (int k = 0; !found && k < sv.n; k++) {
            snprintf(roots[n].subvol, sizeof roots[n].subvol, "subvol=%s", sv.name[k]);
            if (mount_at(s, d, "/", true, roots[n].subvol) < 0)
                continue;
            found = probe_root(s, &roots[n], registry);
            if (umount_root(s) < 0)
                return -1;
        }
        if (found) {
            device_user_name(d, roots[n].device, sizeof roots[n].device);
            snprintf(roots[n].appliance_dev, sizeof roots[n].appliance_dev, "%s", d->name);
            n++;
        }
    }
    return n;
}

/* ---- fstab ---- */

/* The device an fstab spec names (UUID=, LABEL=, /dev/...), or NULL. */
static ferry_device *fstab_device(ferry_devices_ret *r, const char *spec)
{
    const char *uuid = !strncmp(spec, "UUID=", 5)                 ? spec + 5
                       : !strncmp(spec, "/dev/disk/by-uuid/", 18) ? spec + 18
                                                                  : NULL;
    const char *label = !strncmp(spec, "LABEL=", 6)                 ? spec + 6
                        : !strncmp(spec, "/dev/disk/by-label/", 19) ? spec + 19
                                                                    : NULL;
    char name[FERRY_MAX_PATH + 1];

    for (u_int i = 0; i < r->devices.devices_len; i++) {
        ferry_device *d = &r->devices.devices_val[i];
        if (uuid && !strcasecmp(d->uuid, uuid))
            return d;
        if (label && !strcmp(d->label, label))
            return d;
        device_user_name(d, name, sizeof name);
        if (!uuid && !label && (!strcmp(name, spec) || !strcmp(d->name, spec)))
            return d;
    }
    return NULL;
}

struct fsent {
    char spec[512], file[FERRY_MAX_PATH + 1], type[64], options[1024];
};

/* Of an fstab entry's options, those that say which part of a filesystem
 * to mount: btrfs's subvol= and subvolid=. */
static void subvol_options(const char *options, char *out, size_t size)
{
    size_t o = 0;

    out[0] = '\0';
    for (const char *p = options; *p;) {
        size_t n = strcspn(p, ",");
        if ((!strncmp(p, "subvol=", 7) || !strncmp(p, "subvolid=", 9)) && o + n + 2 < size)
            o += snprintf(out + o, size - o, "%s%.*s", o ? "," : "", (int) n, p);
        p += n + (p[n] == ',');
    }
}

static int by_depth(const void *a, const void *b)
{
    const struct fsent *x = a, *y = b;
    size_t dx = 0, dy = 0;
    for (const char *p = x->file; *p; p++)
        dx += *p == '/';
    for (const char *p = y->file; *p; p++)
        dy += *p == '/';
    return dx != dy ? (dx < dy ? -1 : 1) : strcmp(x->file, y->file);
}

/* Mount what the root's /etc/fstab mounts, parents first. */
static void mount_fstab(struct session *s, ferry_devices_ret *r, const struct os *os)
{
    static struct fsent ents[64];
    char text[16384];
    int n = 0;

    if (read_head(s, "/etc/fstab", text, sizeof text) < 0)
        return;
    for (char *line = strtok(text, "\n"); line && n < 64; line = strtok(NULL, "\n")) {
        struct fsent e;
        while (isspace((unsigned char) *line))
            line++;
        strcpy(e.options, "defaults");
        if (*line == '#' ||
            sscanf(line, "%511s %4096s %63s %1023s", e.spec, e.file, e.type, e.options) < 3)
            continue;
        if (e.file[0] != '/' || !strcmp(e.file, "/") || !strcmp(e.type, "swap") ||
            !strcmp(e.type, "proc") || !strcmp(e.type, "sysfs") || !strcmp(e.type, "tmpfs") ||
            !strcmp(e.type, "devpts") || !strcmp(e.type, "nfs") || !strcmp(e.type, "cifs") ||
            !strcmp(e.type, "none") || strstr(line, "bind"))
            continue;
        ents[n++] = e;
    }
    qsort(ents, n, sizeof ents[0], by_depth);
    for (int i = 0; i < n; i++) {
        ferry_device *d = fstab_device(r, ents[i].spec);
        char opts[512];
        subvol_options(ents[i].options, opts, sizeof opts);
        /* the root's own filesystem again: only another subvolume of it */
        if (!d ||
            (!strcmp(d->name, os->appliance_dev) && (!opts[0] || !strcmp(opts, os->subvol)))) {
            if (s->verbose && !d)
                report("fstab: %s: no such device here; %s not mounted", ents[i].spec,
                       ents[i].file);
            continue;
        }
        char name[FERRY_MAX_PATH + 1];
        device_user_name(d, name, sizeof name);
        if (s->verbose)
            report("mount %s on %s (fstab)", name, ents[i].file);
        if (mount_at(s, d, ents[i].file, false, opts) < 0) {
            if (s->cl.broken)
                return;
            report("mount %s on %s (from /etc/fstab): %s", name, ents[i].file, s->cl.msg);
        }
    }
}

int mount_os(struct session *s, ferry_devices_ret *r)
{
    struct os roots[8];
    int n = find_roots(s, r, roots, 8, false);

    if (n < 0)
        return call_failed(s), -1;
    if (n != 1)
        return 1;
    for (u_int i = 0; i < r->devices.devices_len; i++) {
        ferry_device *d = &r->devices.devices_val[i];
        if (strcmp(d->name, roots[0].appliance_dev))
            continue;
        if (s->verbose)
            report("mount %s%s%s on / (%s root)", roots[0].device, roots[0].subvol[0] ? ", " : "",
                   roots[0].subvol, roots[0].type);
        if (mount_at(s, d, "/", false, roots[0].subvol) < 0)
            return call_failed(s), -1;
        if (!strcmp(roots[0].type, "linux"))
            mount_fstab(s, r, &roots[0]);
        return s->cl.broken ? (call_failed(s), -1) : 0;
    }
    return 1;
}
