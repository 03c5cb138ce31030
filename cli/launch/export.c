/* export.c: the disks of images that are not raw (qcow2, VMDK, VHDX, an
 * E01...) read on the host all the same, through qemu's own block layer:
 * qemu exports each such disk read-only over NBD, and direct reads
 * (io/direct.c) take a file's extents from the export as they take a raw
 * image's from the file. The image is parsed by the confined qemu, as
 * ever; never by ferry.
 *
 * The connections: ferry listens on a socket in a directory of its own
 * (made private, removed at once), connects to it once per disk, and
 * removes the name before qemu is handed the listening socket (getfd on
 * the monitor). qemu accepts exactly those connections (max-connections)
 * and nobody else can make one. What qemu sends is the guest's view of
 * the disk, no more trusted than that: the extents are checked against
 * the export's size before they are read, and a read that fails, comes
 * short or takes longer than a call may is an error, never data. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "launch/launch.h"
#include "launch/nbd.h"
#include "launch/session.h"
#include "output/output.h"
#include "wire.h" /* deadlines */

static struct {
    bool tried;
    int conn[MAX_IMAGES]; /* descriptor + 1: 0 for none */
    uint64_t size[MAX_IMAGES];
} ex;

/* A private directory for the listening socket's moment of life. */
static int private_dir(char *dir, size_t size)
{
    const char *bases[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR"), "/tmp" };

    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        /* room for "/nbd" in a socket's name */
        if (!bases[i] || bases[i][0] != '/' ||
            strlen(bases[i]) + sizeof "/ferry-XXXXXX/nbd" >
                sizeof(struct sockaddr_un) - offsetof(struct sockaddr_un, sun_path))
            continue;
        snprintf(dir, size, "%s/ferry-XXXXXX", bases[i]);
        if (mkdtemp(dir))
            return 0;
    }
    return -1;
}

/* A listening socket and n connections to it, its name already gone:
 * the listener, or -1. */
static int connections(int n, int *conn)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    char dir[sizeof a.sun_path];
    int l = -1, made = 0;

    for (int i = 0; i < n; i++)
        conn[i] = -1;
    if (private_dir(dir, sizeof dir) < 0)
        return -1;
    snprintf(a.sun_path, sizeof a.sun_path, "%s/nbd", dir);
    if ((l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
        bind(l, (struct sockaddr *) &a, sizeof a) == 0 && listen(l, n) == 0)
        for (; made < n; made++)
            if ((conn[made] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
                connect(conn[made], (struct sockaddr *) &a, sizeof a) < 0)
                break;
    unlink(a.sun_path);
    rmdir(dir);
    if (made == n)
        return l;
    for (int i = 0; i < n; i++)
        if (conn[i] >= 0)
            close(conn[i]);
    if (l >= 0)
        close(l);
    return -1;
}

/* qemu's NBD server on the listener, and an export of each disk in want:
 * NULL, or what the monitor said. */
static const char *serve(int mon, int l, int n, const int *want, int ms)
{
    static char buf[4096];
    char cmd[512];

    if (qmp_line(mon, buf, sizeof buf, wire_deadline(ms)) < 0)
        return "no greeting";
    if (qmp_command(mon, "{\"execute\":\"qmp_capabilities\"}\n", -1, buf, sizeof buf, ms) < 0 ||
        qmp_command(mon, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"nbd\"}}\n", l, buf,
                    sizeof buf, ms) < 0)
        return buf;
    snprintf(cmd, sizeof cmd,
             "{\"execute\":\"nbd-server-start\",\"arguments\":{\"addr\":{\"type\":\"fd\","
             "\"data\":{\"str\":\"nbd\"}},\"max-connections\":%d}}\n",
             n);
    if (qmp_command(mon, cmd, -1, buf, sizeof buf, ms) < 0)
        return buf;
    for (int k = 0; k < n; k++) {
        snprintf(cmd, sizeof cmd,
                 "{\"execute\":\"block-export-add\",\"arguments\":{\"type\":\"nbd\",\"id\":"
                 "\"disk%d\",\"node-name\":\"disk%d\",\"name\":\"disk%d\",\"writable\":false}}\n",
                 want[k], want[k], want[k]);
        if (qmp_command(mon, cmd, -1, buf, sizeof buf, ms) < 0)
            return buf;
    }
    return NULL;
}

static void start(struct session *s)
{
    int want[MAX_IMAGES], conn[MAX_IMAGES], n = 0, mon = launch_monitor();
    int ms = s->cl.call_timeout_ms > 0 ? s->cl.call_timeout_ms : 30000;
    const struct image_file *f;
    const char *said = NULL;

    for (int i = 0; i < s->nimages && (f = launch_image(i)); i++)
        if (!image_plain(f))
            want[n++] = i;
    if (!n || mon < 0)
        return;
    int l = connections(n, conn);
    if (l < 0) {
        said = strerror(errno);
    } else {
        said = serve(mon, l, n, want, ms);
        close(l);
    }
    for (int k = 0; k < n; k++) {
        char name[16];
        uint64_t size;
        snprintf(name, sizeof name, "disk%d", want[k]);
        if (!said && nbd_client_open(conn[k], name, &size, ms) < 0)
            said = errno == EBADMSG ? "the export broke NBD" : strerror(errno);
        /* a request is a write to it: bounded by the same limit */
        if (!said && fcntl(conn[k], F_SETFL, O_NONBLOCK) < 0)
            said = strerror(errno);
        if (said) {
            if (l >= 0)
                close(conn[k]);
            continue;
        }
        ex.conn[want[k]] = conn[k] + 1;
        ex.size[want[k]] = size;
    }
    monitor_close(); /* nothing more to ask: its events are not kept */
    if (said) {
        launch_exports_end();
        ex.tried = true;
    }
    if (s->verbose) {
        char text[512]; /* a qemu the image took over may say anything */
        escape_text(text, sizeof text, said ? said : "");
        report(said ? "images that are not raw: files are read through the appliance (qemu's "
                      "export: %s)"
                    : "images that are not raw: qemu exports their disks, read on the host%s",
               text);
    }
}

int launch_export(struct session *s, int i, uint64_t *size)
{
    if (!ex.tried) {
        ex.tried = true;
        start(s);
    }
    if (i < 0 || i >= MAX_IMAGES || !ex.conn[i])
        return -1;
    *size = ex.size[i];
    return ex.conn[i] - 1;
}

void launch_export_drop(int i)
{
    if (i >= 0 && i < MAX_IMAGES && ex.conn[i]) {
        close(ex.conn[i] - 1);
        ex.conn[i] = 0;
    }
}

void launch_exports_end(void)
{
    for (int i = 0; i < MAX_IMAGES; i++)
        if (ex.conn[i]) {
            nbd_client_close(ex.conn[i] - 1);
            ex.conn[i] = 0;
        }
    ex.tried = false;
}
