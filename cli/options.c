/* options.c: parsing a command's options and operands by its entry in the
 * table (commands.c), and the usage line made from the same entry. */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output/output.h"

int choice(const char *const *choices, const char *value)
{
    for (int i = 0; choices && choices[i]; i++)
        if (!strcmp(choices[i], value))
            return i;
    return -1;
}

static void list_choices(char *buf, size_t size, const char *const *choices)
{
    size_t n = 0;

    buf[0] = '\0';
    for (int i = 0; choices[i] && n < size; i++)
        n += snprintf(buf + n, size - n, "%s%s",
                      i == 0           ? ""
                      : choices[i + 1] ? ", "
                                       : " or ",
                      choices[i]);
}

int usage_error(const char *label, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (label)
        report("%s: %s", label, msg);
    else
        report("%s", msg);
    return EXIT_USAGE;
}

void command_usage_line(FILE *f, const struct command *c)
{
    fprintf(f, "usage: ferry [OPTIONS] %s", c->name);
    for (const struct opt *o = c->opts; o->name; o++) {
        if (!o->help)
            continue; /* a second spelling of an option shown already */
        if (o->letter)
            fprintf(f, " [-%c%s%s]", o->letter, o->arg ? " " : "", o->arg ? o->arg : "");
        else if (!o->arg)
            fprintf(f, " [--%s]", o->name);
        else if (o->arg[0] == '[') /* "[ALG]": --checksum[=ALG] */
            fprintf(f, " [--%s[=%.*s]]", o->name, (int) strlen(o->arg) - 2, o->arg + 1);
        else
            fprintf(f, " [--%s %s]", o->name, o->arg);
    }
    fprintf(f, "%s%s\n", c->operands[0] ? " " : "", c->operands);
}

static int nopts(const struct command *c)
{
    int n = 0;
    while (c->opts[n].name)
        n++;
    return n;
}

int check_choice(const char *label, const struct opt *o, const char *v)
{
    char list[256];

    if (!o->choices || choice(o->choices, v) >= 0)
        return 0;
    list_choices(list, sizeof list, o->choices);
    return usage_error(label, "--%s takes %s, not '%s'", o->name, list, v);
}

int args_parse(const struct command *c, const char *label, int argc, char **argv, bool take_image,
               const char **image, struct args *a)
{
    struct option longs[MAX_OPTS + 1];
    char shorts[3 * MAX_OPTS + 2] = ":"; /* ':' first: we say what is missing */
    int n = nopts(c), ch, idx;

    memset(a, 0, sizeof *a);
    a->cmd = c;
    a->label = label;
    for (int i = 0; i < n; i++) {
        const struct opt *o = &c->opts[i];
        bool optional = o->arg && o->arg[0] == '[';
        longs[i] = (struct option){ o->name,
                                    !o->arg    ? no_argument
                                    : optional ? optional_argument
                                               : required_argument,
                                    NULL, 256 + i };
        if (o->letter) {
            size_t k = strlen(shorts);
            shorts[k++] = o->letter;
            if (o->arg)
                shorts[k++] = ':';
            shorts[k] = '\0';
        }
    }
    longs[n] = (struct option){ 0 };
    optind = 0; /* a fresh scan (shell parses many lines) */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, shorts, longs, &idx)) != -1) {
        int i;
        if (ch == '?' || ch == ':') {
            const char *what = argv[optind - 1];
            if (ch == ':')
                return usage_error(label, "%s needs a value", what);
            if (optopt && optopt < 256)
                return usage_error(label, "no option -%c (see 'ferry help %s')", optopt, c->name);
            return usage_error(label, "no option %s (see 'ferry help %s')", what, c->name);
        }
        if (ch >= 256) {
            i = ch - 256;
        } else {
            for (i = 0; i < n && c->opts[i].letter != ch; i++)
                ;
        }
        const struct opt *o = &c->opts[i];
        const char *v = o->arg ? (optarg ? optarg : "") : "";
        if (optarg && check_choice(label, o, optarg))
            return EXIT_USAGE;
        a->val[i] = v;
    }
    a->argc = argc - optind;
    a->argv = argv + optind;
    if (take_image) {
        if (a->argc == 0)
            return usage_error(label, "no disk image: use -a IMAGE or name it first");
        *image = a->argv[0];
        a->argc--;
        a->argv++;
    }
    if (a->argc < c->min || (c->max >= 0 && a->argc > c->max)) {
        char line[1024];
        FILE *m = fmemopen(line, sizeof line, "w");
        command_usage_line(m, c);
        fclose(m);
        line[strcspn(line, "\n")] = '\0';
        return usage_error(label, "%s%s", c->max == 0 ? "takes no operand; " : "", line);
    }
    return 0;
}

bool opt_on(const struct args *a, const char *name)
{
    return opt_val(a, name) != NULL;
}

const char *opt_val(const struct args *a, const char *name)
{
    bool known = false;

    for (int i = 0; a->cmd->opts[i].name; i++) {
        if (strcmp(a->cmd->opts[i].name, name))
            continue;
        known = true;
        if (a->val[i])
            return a->val[i];
    }
    if (!known) {
        report("internal error: %s has no option --%s", a->cmd->name, name);
        abort();
    }
    return NULL;
}

const struct command *find_command(const struct command *commands, const char *name)
{
    for (const struct command *c = commands; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}
