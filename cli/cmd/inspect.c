/* inspect.c: the inspect command: the operating systems on the images. */
#include "cmd/cmd.h"
#include "guest/guest.h"
#include "output/output.h"

static void field(struct json *j, const char *key, const char *val)
{
    if (j) {
        json_str(j, key, val);
    } else if (val[0]) {
        printf("%-14s ", key);
        put_name(stdout, val, stdout_is_tty());
        putchar('\n');
    }
}

int cmd_inspect(struct session *s, struct args *a)
{
    CLEANUP_XDR(ferry_devices_ret) r = { 0 };
    struct os roots[8];
    bool json = opt_on(a, "json");
    int n;

    if (list_devices(s, &r) < 0)
        return call_failed(s);
    n = find_roots(s, &r, roots, 8, true);
    if (n < 0)
        return call_failed(s);
    if (n == 0) {
        report("inspect: no operating system found");
        return EXIT_FAILED;
    }
    for (int i = 0; i < n; i++) {
        struct json j;
        if (json)
            json_begin(&j, stdout);
        else if (i)
            putchar('\n');
        struct json *jp = json ? &j : NULL;
        field(jp, "root", roots[i].device);
        field(jp, "type", roots[i].type);
        field(jp, "distribution", roots[i].distro);
        field(jp, "version", roots[i].version);
        field(jp, "build", roots[i].build);
        field(jp, "product", roots[i].product);
        field(jp, "hostname", roots[i].hostname);
        field(jp, "arch", roots[i].arch);
        if (json)
            json_end(&j);
    }
    return EXIT_OK;
}
