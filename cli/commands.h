/* commands.h: the one description of ferry's command line. Each command
 * and each option is described once, in commands.c; option parsing, the
 * usage lines, --help, the man page and bash completion are all made from
 * it (options.c, help.c). Adding a command: a line in the table, a handler
 * in cmd/, a test. */
#ifndef FERRY_COMMANDS_H
#define FERRY_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

struct session;

/* Exit statuses, documented in ferry(1). */
#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_INCOMPLETE 3 /* done, but unreadable ranges were written as zeros */
#define EXIT_PIPE 141     /* the reader went away: as if killed by SIGPIPE */

/* An option. With `arg` NULL it is a flag; "ALG" takes a value; "[ALG]"
 * takes an optional one (--opt=ALG). */
struct opt {
    char letter;      /* -l, or 0 */
    const char *name; /* --long (every option has one) */
    const char *arg;
    const char *const *choices; /* the values allowed, NULL-terminated; NULL: any */
    const char *help;
    const char *env; /* global options: the variable giving its default */
};

struct args;

struct command {
    const char *name;
    int (*run)(struct session *s, struct args *a);
    int flags;            /* CMD_* */
    int min, max;         /* operands, the image not counted; max -1: any */
    const char *operands; /* as the usage line shows them */
    const char *summary;
    const struct opt *opts; /* ends with { 0 } */
    const char *more;       /* further help, or NULL */
};
#define CMD_NO_APPLIANCE 1 /* runs without booting anything */
#define CMD_WRITES 2       /* needs --rw */
#define CMD_NO_MOUNT 4     /* works on devices, mounts nothing first */
#define CMD_NOT_IN_SHELL 8 /* not a line of `ferry shell` */
#define CMD_OWN_MOUNTS 16  /* mounts and unmounts as it goes (in a session: from nothing) */

extern const struct command commands[];
extern const struct opt global_opts[];
/* Variables read that no option stands for: name and meaning, for ferry(1). */
extern const char *const environment[][2];

/* The lists that options choose from: each exists once. */
extern const char *const checksum_algs[]; /* in ferry_checksum_alg order */
extern const char *const accels[];

/* The three tables as one value. Handlers that need them (help, shell)
 * get them through the session (s->tables), so no handler refers back to
 * commands.c, which refers to every handler. */
struct tables {
    const struct command *commands;
    const struct opt *global_opts;
    const char *const (*environment)[2];
};
extern const struct tables ferry_tables;

/* options.c: the command of that name in a table, or NULL */
const struct command *find_command(const struct command *commands, const char *name);

/* ---- options.c ---- */
#define MAX_OPTS 16
/* A command's options and operands, parsed. */
struct args {
    const struct command *cmd;
    const char *label;         /* names the command in messages ("shell: line 3: ls") */
    const char *val[MAX_OPTS]; /* by position in cmd->opts: NULL unset, "" a flag set */
    int argc;                  /* operands */
    char **argv;
};
/* Parse argv (argv[0] the command's name) by the command's table entry,
 * options anywhere among the operands (as GNU tools do), "--" ending them.
 * With take_image, the first operand is the image and goes to *image.
 * Returns 0, or EXIT_USAGE with the reason reported. */
int args_parse(const struct command *c, const char *label, int argc, char **argv, bool take_image,
               const char **image, struct args *a);
bool opt_on(const struct args *a, const char *name);
const char *opt_val(const struct args *a, const char *name); /* NULL when not given */
/* Index of a value in a choices list (checksum_algs...), or -1. */
int choice(const char *const *choices, const char *value);
/* 0 when v is one of o's choices (or o has none), else a usage error
 * naming them (label NULL for a global option). */
int check_choice(const char *label, const struct opt *o, const char *v);
/* "usage: ferry [OPTIONS] ls [-l] ... [PATH...]" */
void command_usage_line(FILE *f, const struct command *c);
/* Report a usage error, after "label: " (NULL: none); returns EXIT_USAGE. */
int usage_error(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- help.c ---- */
void command_help(FILE *f, const struct command *c);
void global_help(FILE *f, const struct tables *t);

#endif
