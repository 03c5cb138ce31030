/* key.c: reading the passphrase of encrypted volumes (see key.h). No
 * stdio: its buffers would keep copies we cannot wipe. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "io/key.h"
#include "output/output.h"

static struct key key;
static bool have;

/* Read up to FERRY_MAX_KEY + 1 bytes, to tell a key at the limit from a
 * longer one; the extra byte is wiped. */
static ssize_t read_bounded(int fd, unsigned char *buf, size_t max)
{
    unsigned char extra;
    size_t n = 0;

    while (n < max) {
        ssize_t r = read(fd, buf + n, max - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return n;
        n += r;
    }
    ssize_t r = read(fd, &extra, 1);
    explicit_bzero(&extra, sizeof extra);
    if (r > 0) {
        errno = EFBIG;
        return -1;
    }
    return n;
}

int key_read_file(const char *path)
{
    bool in = !strcmp(path, "-");
    int fd = in ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    ssize_t n;

    if (fd < 0) {
        report("--key-file %s: %s", path, strerror(errno));
        return -1;
    }
    /* a file too long is refused before a byte of it is read */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > FERRY_MAX_KEY) {
        errno = EFBIG;
        n = -1;
    } else {
        mlock(&key, sizeof key); /* kept out of swap where allowed */
        n = read_bounded(fd, key.bytes, sizeof key.bytes);
    }
    if (!in)
        close(fd);
    if (n <= 0) {
        key_forget();
        if (n == 0)
            report("--key-file %s: empty", path);
        else if (errno == EFBIG)
            report("--key-file %s: longer than %d bytes", path, FERRY_MAX_KEY);
        else
            report("--key-file %s: %s", path, strerror(errno));
        return -1;
    }
    key.len = n;
    key.from_tty = false;
    key.ends_in_nl = key.bytes[n - 1] == '\n';
    have = true;
    return 0;
}

/* One line from the terminal without echo; the newline is not part of it
 * (as cryptsetup's own prompt). */
static int read_line(int tty, char *msg, size_t size)
{
    ssize_t n = 0, r;

    while (n < (ssize_t) sizeof key.bytes && (n == 0 || key.bytes[n - 1] != '\n')) {
        r = read(tty, key.bytes + n, sizeof key.bytes - n);
        if (r < 0 && errno == EINTR) {
            snprintf(msg, size, "interrupted while asking for the passphrase");
            return -1;
        }
        if (r <= 0)
            break;
        n += r;
    }
    if (n > 0 && key.bytes[n - 1] == '\n')
        n--;
    if (n == 0) {
        snprintf(msg, size, "no passphrase given");
        return -1;
    }
    key.len = n;
    return 0;
}

int key_ask(const char *what, char *msg, size_t size)
{
    struct termios old, quiet;
    char prompt[FERRY_MAX_PATH + 64], shown[4 * sizeof prompt];
    int tty, r;

    if (!isatty(0) || (tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
        return 1;
    if (tcgetattr(tty, &old) < 0) {
        close(tty);
        return 1;
    }
    snprintf(prompt, sizeof prompt, "Passphrase for %s: ", what);
    escape_text(shown, sizeof shown, prompt);
    quiet = old;
    quiet.c_lflag &= ~(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    mlock(&key, sizeof key);
    if (write(tty, shown, strlen(shown)) < 0 || tcsetattr(tty, TCSAFLUSH, &quiet) < 0) {
        close(tty);
        return 1;
    }
    r = read_line(tty, msg, size);
    tcsetattr(tty, TCSAFLUSH, &old);
    if (write(tty, "\n", 1) < 0)
        r = r < 0 ? r : 0;
    close(tty);
    if (r < 0) {
        key_forget();
        return -1;
    }
    key.from_tty = true;
    key.ends_in_nl = false;
    have = true;
    return 0;
}

const struct key *key_get(void)
{
    return have ? &key : NULL;
}

void key_forget(void)
{
    explicit_bzero(&key, sizeof key);
    have = false;
}
