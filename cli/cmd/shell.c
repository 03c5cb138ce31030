/* shell.c: many commands in one appliance launch (shell), and mount and
 * umount, which are mostly useful there.
 *
 * A batch stops at the first line that fails, as make does (a line that
 * starts with - may fail): what follows a failure usually depends on it.
 * Stopping is not dying: main shuts the appliance down cleanly, so what
 * the lines before wrote stays written. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "guest/guest.h"
#include "output/output.h"

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

/* Run one line's words; its status. */
static int run_line(struct session *s, const char *label, int n, char **words)
{
    const struct command *c = find_command(s->tables->commands, words[0]);
    struct args a;
    char full[128];

    if (!c || (c->flags & (CMD_NO_APPLIANCE | CMD_NOT_IN_SHELL))) {
        report("%s: no command '%s' here", label, words[0]);
        return EXIT_USAGE;
    }
    if ((c->flags & CMD_WRITES) && !s->rw) {
        report("%s: %s writes to the image: add --rw to allow it", label, c->name);
        return EXIT_USAGE;
    }
    snprintf(full, sizeof full, "%s: %s", label, c->name);
    s->command = full;
    int status = args_parse(c, full, n, words, false, NULL, &a);
    if (status == EXIT_OK)
        status = c->run(s, &a);
    s->command = "shell";
    return status;
}

int cmd_shell(struct session *s, struct args *a)
{
    char *line = NULL, *words[MAX_WORDS], label[64];
    size_t cap = 0;
    int lineno = 0, status = EXIT_OK;

    (void) a;
    while (!s->cl.broken && getline(&line, &cap, stdin) > 0) {
        lineno++;
        int n = split(line, words);
        if (n == 0)
            continue;
        snprintf(label, sizeof label, "shell: line %d", lineno);
        bool may_fail = words[0][0] == '-' && words[0][1];
        if (may_fail)
            words[0]++;
        int r;
        if (n < 0) {
            report("%s: unterminated quote or too many words", label);
            r = EXIT_USAGE;
        } else {
            words[n] = NULL;
            fflush(stdout);
            r = run_line(s, label, n, words);
            fflush(stdout);
        }
        if (r == EXIT_OK || (may_fail && !s->cl.broken))
            continue; /* a line marked - may fail */
        status = r;   /* a usage error stays one: 2 */
        break;
    }
    free(line);
    return s->cl.broken ? EXIT_FAILED : status;
}

int cmd_mount(struct session *s, struct args *a)
{
    char label[FERRY_MAX_PATH + 64];

    snprintf(label, sizeof label, "%s: %s", s->command, a->argv[0]);
    if (mount_device(s, label, a->argv[0], a->argv[1], a->argc > 2 ? a->argv[2] : "",
                     a->argc > 3 ? a->argv[3] : "") < 0)
        return EXIT_FAILED;
    return EXIT_OK;
}

int cmd_umount(struct session *s, struct args *a)
{
    ferry_path_args args = { .path = a->argv[0] };
    ferry_void v;

    if (rpc_umount(&s->cl, &args, &v, NULL) < 0)
        return call_failed(s);
    return EXIT_OK;
}
