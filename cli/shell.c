/* shell.c: many commands in one appliance launch (shell), and mount and
 * umount, which are mostly useful there. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ferry.h"

#define MAX_WORDS 256

/* Split a line into words: blanks separate, '...' and "..." quote, \ escapes
 * the next character, # starts a comment. Returns the count, or -1 for an
 * unterminated quote. Words point into line, which is rewritten. */
static int split(char *line, char **words)
{
    int n = 0;
    char *in = line, *out = line;

    for (;;) {
        while (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r')
            in++;
        if (!*in || *in == '#')
            return n;
        if (n == MAX_WORDS - 1)
            return -1;
        words[n++] = out;
        char quote = 0;
        for (; *in; in++) {
            if (quote) {
                if (*in == quote)
                    quote = 0;
                else if (*in == '\\' && quote == '"' && in[1])
                    *out++ = *++in;
                else
                    *out++ = *in;
            } else if (*in == '\'' || *in == '"') {
                quote = *in;
            } else if (*in == '\\' && in[1]) {
                *out++ = *++in;
            } else if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r') {
                break;
            } else {
                *out++ = *in;
            }
        }
        if (quote)
            return -1;
        if (*in)
            in++;
        *out++ = '\0';
    }
}

int cmd_shell(struct session *s, int argc, char **argv)
{
    char *line = NULL, *words[MAX_WORDS], label[64];
    size_t cap = 0;
    int lineno = 0, status = EXIT_OK;

    (void) argv;
    if (argc > 1)
        die(EXIT_USAGE, "shell: commands come on standard input, one per line");
    while (getline(&line, &cap, stdin) > 0) {
        lineno++;
        int n = split(line, words);
        if (n == 0)
            continue;
        snprintf(label, sizeof label, "shell: line %d", lineno);
        if (n < 0) {
            warnx_("%s: unterminated quote or too many words", label);
            status = EXIT_FAILED;
            continue;
        }
        words[n] = NULL;
        const struct command *c = find_command(words[0]);
        if (!c || (c->flags & CMD_NO_APPLIANCE) || c->run == cmd_shell) {
            warnx_("%s: no command '%s' here", label, words[0]);
            status = EXIT_FAILED;
            continue;
        }
        if ((c->flags & CMD_WRITES) && !s->rw) {
            warnx_("%s: %s writes to the image: add --rw to allow it", label, c->name);
            status = EXIT_FAILED;
            continue;
        }
        char full[128];
        snprintf(full, sizeof full, "%s: %s", label, c->name);
        s->command = full;
        optind = 0;
        fflush(stdout);
        if (c->run(s, n, words) != EXIT_OK)
            status = EXIT_FAILED;
        fflush(stdout);
    }
    free(line);
    s->command = "shell";
    return status;
}

int cmd_mount(struct session *s, int argc, char **argv)
{
    if (argc < 3 || argc > 5)
        die(EXIT_USAGE, "usage: ferry mount DEVICE MOUNTPOINT [OPTIONS [FSTYPE]]");
    char label[FERRY_MAX_PATH + 64];
    snprintf(label, sizeof label, "%s: %s", s->command, argv[1]);
    if (mount_device(s, label, argv[1], argv[2], argc > 3 ? argv[3] : "", argc > 4 ? argv[4] : "") < 0)
        return EXIT_FAILED;
    return EXIT_OK;
}

int cmd_umount(struct session *s, int argc, char **argv)
{
    ferry_path_args a;
    ferry_void r;

    if (argc != 2)
        die(EXIT_USAGE, "usage: ferry umount MOUNTPOINT");
    a.path = argv[1];
    if (rpc_umount(&s->cl, &a, &r, NULL) < 0)
        return call_failed(s);
    return EXIT_OK;
}
