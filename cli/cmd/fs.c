/* fs.c: df and filesystems: what the image holds, by filesystem. */
#include <string.h>

#include "cmd/cmd.h"
#include "guest/guest.h"
#include "output/output.h"

static void put_size(unsigned long long bytes, bool human)
{
    static const char units[] = "KMGTPE";
    double v = bytes;
    int u = -1;

    if (!human) {
        printf("%12llu", bytes / 1024);
        return;
    }
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u < 0)
        printf("%7llu", bytes);
    else
        printf("%6.1f%c", v, units[u]);
}

int cmd_df(struct session *s, struct args *args)
{
    bool human = opt_on(args, "human-readable");
    ferry_path_args a = { .path = args->argc ? args->argv[0] : "/" };
    ferry_statvfs_ret r;

    if (rpc_statvfs(&s->cl, &a, &r, NULL) < 0)
        return call_failed(s);
    unsigned long long fr = r.frsize ? r.frsize : r.bsize;
    printf(human ? "%7s %7s %7s %5s %s\n" : "%12s %12s %12s %5s %s\n", human ? "Size" : "1K-blocks",
           "Used", "Avail", "Use%", "Mounted on");
    unsigned long long used = (r.blocks - r.bfree) * fr;
    put_size(r.blocks * fr, human);
    putchar(' ');
    put_size(used, human);
    putchar(' ');
    put_size(r.bavail * fr, human);
    unsigned long long denom = used + r.bavail * fr;
    printf(" %4llu%% ", denom ? (used * 100 + denom - 1) / denom : 0);
    put_name(stdout, a.path, stdout_is_tty());
    putchar('\n');
    return EXIT_OK;
}

static const char *kind_name(ferry_device_kind k)
{
    switch (k) {
    case FERRY_DEV_DISK:
        return "disk";
    case FERRY_DEV_PARTITION:
        return "partition";
    case FERRY_DEV_LV:
        return "lv";
    case FERRY_DEV_MD:
        return "md";
    case FERRY_DEV_CRYPT:
        return "crypt";
    }
    return "?";
}

int cmd_filesystems(struct session *s, struct args *a)
{
    bool json = opt_on(a, "json");
    CLEANUP_XDR(ferry_devices_ret) r = { 0 };

    if (list_devices(s, &r) < 0)
        return call_failed(s);
    if (!json)
        printf("%-20s %-10s %-12s %7s  %-16s %s\n", "DEVICE", "KIND", "TYPE", "SIZE", "LABEL",
               "UUID");
    for (u_int i = 0; i < r.devices.devices_len; i++) {
        ferry_device *d = &r.devices.devices_val[i];
        char name[FERRY_MAX_PATH + 1];
        device_user_name(d, name, sizeof name);
        if (json) {
            struct json j;
            json_begin(&j, stdout);
            json_str(&j, "device", name);
            json_str(&j, "kind", kind_name(d->kind));
            json_str(&j, "type", d->fstype);
            json_uint(&j, "size", d->size);
            json_str(&j, "label", d->label);
            json_str(&j, "uuid", d->uuid);
            json_end(&j);
            continue;
        }
        /* names, types and labels come from the image: escape them */
        bool esc = stdout_is_tty();
        put_padded(stdout, name, 20, esc);
        printf(" %-10s ", kind_name(d->kind));
        put_padded(stdout, d->fstype[0] ? d->fstype : "-", 12, esc);
        putchar(' ');
        put_size(d->size, true);
        printf("  ");
        put_padded(stdout, d->label[0] ? d->label : "-", 16, esc);
        putchar(' ');
        put_name(stdout, d->uuid[0] ? d->uuid : "-", esc);
        putchar('\n');
    }
    return EXIT_OK;
}
