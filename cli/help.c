/* help.c: --help, the manual page and bash completion, all made from the
 * table of commands and options (commands.c). */
#include <string.h>

#include "commands.h"
#include "launch/session.h"

/* text from column `indent` on, broken between words before column 79 */
static void wrap(FILE *f, const char *text, int indent)
{
    int col = indent;

    while (*text) {
        int word = strcspn(text, " ");
        if (col > indent && col + 1 + word > 79) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", word, text);
        col += word;
        text += word;
        text += strspn(text, " ");
    }
    fputc('\n', f);
}

/* "  -l, --long          text" */
static void option_lines(FILE *f, const struct opt *opts, const char *indent)
{
    for (const struct opt *o = opts; o->name; o++) {
        char left[96];
        if (!o->help)
            continue;
        bool optional = o->arg && o->arg[0] == '[';
        int n = snprintf(left, sizeof left, "%s%c%c%s--%s", indent, o->letter ? '-' : ' ',
                         o->letter ? o->letter : ' ', o->letter ? ", " : "  ", o->name);
        if (o->arg)
            snprintf(left + n, sizeof left - n, optional ? "[=%.*s]" : " %.*s",
                     optional ? (int) strlen(o->arg) - 2 : (int) strlen(o->arg),
                     optional ? o->arg + 1 : o->arg);
        if (strlen(left) > 24)
            fprintf(f, "%s\n%26s", left, "");
        else
            fprintf(f, "%-24s  ", left);
        wrap(f, o->help, 26);
    }
}

void command_help(FILE *f, const struct command *c)
{
    command_usage_line(f, c);
    fprintf(f, "\n%s.\n", c->summary);
    if (c->flags & CMD_WRITES)
        fprintf(f, "Writes to the image: needs --rw.\n");
    if (c->opts[0].name) {
        fprintf(f, "\nOptions:\n");
        option_lines(f, c->opts, "  ");
    }
    if (c->more)
        fprintf(f, "\n%s", c->more);
}

void global_help(FILE *f, const struct tables *t)
{
    fprintf(f, "usage: ferry [OPTIONS] COMMAND [ARGS...]\n"
               "       ferry [OPTIONS] COMMAND IMAGE [ARGS...]   (when no -a is given)\n\n"
               "Options:\n");
    option_lines(f, t->global_opts, "  ");
    fprintf(f, "\nCommands: see 'ferry help'.\n");
}

/* roff: backslashes and dashes escaped */
static void roff(const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", stdout);
        else if (*s == '-')
            fputs("\\-", stdout);
        else
            putchar(*s);
    }
}

static void roff_options(const struct opt *opts)
{
    char buf[8192];
    FILE *m = fmemopen(buf, sizeof buf, "w");

    option_lines(m, opts, "");
    fputc('\0', m);
    fclose(m);
    printf(".nf\n");
    roff(buf);
    printf(".fi\n");
}

static void man_page(const struct tables *t)
{
    printf(".TH FERRY 1 \"\" \"ferry %s\" \"User Commands\"\n", FERRY_VERSION);
    printf(".SH NAME\nferry \\- get files into and out of disk images\n");
    printf(".SH SYNOPSIS\n.B ferry\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR...]\n");
    printf(".SH DESCRIPTION\n"
           "ferry boots a small Linux appliance that it carries inside itself, attaches the\n"
           "disk images given with \\fB\\-a\\fR (read-only unless \\fB\\-\\-rw\\fR), mounts their\n"
           "filesystems and runs one command on them. Without \\fB\\-a\\fR, the command's\n"
           "first operand is the image.\n"
           ".PP\nData goes to standard output, messages to standard error. When standard\n"
           "error is a terminal, download, upload, tar\\-out and tar\\-in show a progress\n"
           "line there once a transfer has lasted a second, and wipe it at the end.\n");
    printf(".SH OPTIONS\n");
    roff_options(t->global_opts);
    printf(".SH COMMANDS\n");
    for (const struct command *c = t->commands; c->name; c++) {
        printf(".TP\n.B ferry %s", c->name);
        if (c->operands[0]) {
            printf(" ");
            roff(c->operands);
        }
        printf("\n");
        roff(c->summary);
        printf(".%s\n", c->flags & CMD_WRITES ? " Needs \\-\\-rw." : "");
        if (c->opts[0].name || c->more) {
            printf(".RS\n");
            if (c->opts[0].name)
                roff_options(c->opts);
            if (c->more) {
                printf(".nf\n");
                roff(c->more);
                printf(".fi\n");
            }
            printf(".RE\n");
        }
    }
    printf(".SH EXIT STATUS\n0: success. 1: an operation failed. 2: usage error. 3: done, but\n"
           "ranges the image could not give were written as zeros (\\-\\-zero\\-unreadable).\n"
           "141: the reader of standard output went away.\n");
    printf(".SH ENVIRONMENT\n");
    for (const struct opt *o = t->global_opts; o->name; o++)
        if (o->env) {
            printf(".TP\n.B %s\nthe default of \\fB\\-\\-", o->env);
            roff(o->name);
            printf("\\fR\n");
        }
    for (int i = 0; t->environment[i][0]; i++) {
        printf(".TP\n.B %s\n", t->environment[i][0]);
        roff(t->environment[i][1]);
        printf("\n");
    }
    printf(".SH SEE ALSO\nThe protocol and the appliance are described in ferry's docs/ folder.\n");
}

/* "--add --format ...", or with `pattern` "-a|--add|--format..." for the
 * options that take a value (a case pattern) */
static void words(const struct opt *opts, bool pattern)
{
    const char *sep = "";

    for (const struct opt *o = opts; o->name; o++) {
        if (pattern && (!o->arg || o->arg[0] == '['))
            continue;
        if (pattern && o->letter) {
            printf("%s-%c", sep, o->letter);
            sep = "|";
        }
        printf("%s--%s", sep, o->name);
        sep = pattern ? "|" : " ";
    }
}

static void choice_cases(const struct opt *opts)
{
    for (const struct opt *o = opts; o->name; o++) {
        if (!o->choices || !o->arg || o->arg[0] == '[')
            continue;
        printf("        %s%c%s--%s) COMPREPLY=($(compgen -W '", o->letter ? "-" : "",
               o->letter ? o->letter : ' ', o->letter ? "|" : "", o->name);
        for (int i = 0; o->choices[i]; i++)
            printf("%s%s", i ? " " : "", o->choices[i]);
        printf("' -- \"$cur\")); return ;;\n");
    }
}

static void bash_completion(const struct tables *t)
{
    printf("# bash completion for ferry, generated by 'ferry help --bash-completion'\n"
           "_ferry() {\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
           "    local i cmd=\n"
           "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "        case ${COMP_WORDS[i]} in\n"
           "            ");
    words(t->global_opts, true);
    printf(") ((i++)) ;;\n"
           "            -*) ;;\n"
           "            *) cmd=${COMP_WORDS[i]}; break ;;\n"
           "        esac\n"
           "    done\n"
           "    case $prev in\n"
           "        -a|--add|--log|--test-root|--qemu) COMPREPLY=($(compgen -f -- \"$cur\")); "
           "return ;;\n");
    choice_cases(t->global_opts);
    printf("    esac\n"
           "    if [[ -z $cmd ]]; then\n"
           "        if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W '");
    words(t->global_opts, false);
    printf("' -- \"$cur\"))\n        else COMPREPLY=($(compgen -W '");
    for (const struct command *c = t->commands; c->name; c++)
        printf("%s%s", c == t->commands ? "" : " ", c->name);
    printf("' -- \"$cur\")); fi\n        return\n    fi\n    case $cmd in\n");
    for (const struct command *c = t->commands; c->name; c++) {
        printf("    %s)\n        case $prev in\n", c->name);
        choice_cases(c->opts);
        printf("        esac\n        if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W '");
        words(c->opts, false);
        printf("' -- \"$cur\")); return; fi ;;\n");
    }
    printf("    esac\n"
           "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
           "}\n"
           "complete -F _ferry ferry\n");
}

int cmd_help(struct session *s, struct args *a)
{
    const struct tables *t = s->tables;

    if (opt_on(a, "man")) {
        man_page(t);
        return EXIT_OK;
    }
    if (opt_on(a, "bash-completion")) {
        bash_completion(t);
        return EXIT_OK;
    }
    if (a->argc == 1) {
        const struct command *c = find_command(t->commands, a->argv[0]);
        if (!c)
            return usage_error(a->label, "no command '%s'", a->argv[0]);
        command_help(stdout, c);
        return EXIT_OK;
    }
    printf("usage: ferry [OPTIONS] COMMAND [ARGS...]   (ferry --help for the options)\n\n"
           "Commands:\n");
    for (const struct command *c = t->commands; c->name; c++)
        printf("  %-12s %s\n", c->name, c->summary);
    printf("\n'ferry help COMMAND' or 'ferry COMMAND --help' describes one.\n");
    return EXIT_OK;
}
