/* options.h - the option scanner of the commands that run a program.
 *
 * `pyprof run` and `pyprof time` take options before the program, as
 * `python` and `python -m cProfile` do: "-o FILE" or "-oFILE", "--sort KEY"
 * or "--sort=KEY", flags such as "-q".  The caller walks the arguments
 * with these helpers and stops at the first one that is not an option
 * (the program) -- everything from there on belongs to the program.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_OPTIONS_H
#define PYPROF_OPTIONS_H

#include <stddef.h>

typedef struct {
    const char *command;    /* "pyprof run", to prefix messages */
    int argc;
    char **argv;            /* borrowed from the caller */
    int index;              /* the argument being looked at */
} pyprof_options_t;

/* Start scanning argv[1..argc) (argv[0] is the subcommand name). */
void pyprof_options_init(pyprof_options_t *scan, const char *command,
                         int argc, char **argv);

/* The argument being looked at, or NULL when none is left (borrowed). */
const char *pyprof_options_current(const pyprof_options_t *scan);

/* Non-zero when the current argument looks like an option: it starts with
 * '-' and is not "-" alone. */
int pyprof_options_at_option(const pyprof_options_t *scan);

/* Non-zero when the scan has reached the program: no argument left, one
 * that is not an option, or "-m" / "-c" (what follows them belongs to the
 * program).  A "--" is stepped over and ends the options too. */
int pyprof_options_at_program(pyprof_options_t *scan);

/* When the current argument is the flag `short_name` ("-q") or `long_name`
 * ("--quiet") -- either may be NULL -- move past it and return 1, else
 * return 0. */
int pyprof_options_flag(pyprof_options_t *scan, const char *short_name,
                        const char *long_name);

/* When the current argument is the option `short_name` or `long_name`
 * that takes a value, store the value (borrowed from argv) in *value, move
 * past both and return 1.  Returns 0 when it is another argument, and -1
 * after printing a one-line message to stderr when the value is missing. */
int pyprof_options_value(pyprof_options_t *scan, const char *short_name,
                         const char *long_name, const char **value);

/* Parse `text`, the value of option `name`, as a decimal integer in
 * [min, max].  Returns 0, or -1 after printing a one-line message. */
int pyprof_options_parse_long(const pyprof_options_t *scan, const char *name,
                              const char *text, long min, long max,
                              long *out);

/* `path` made absolute against the current directory, so that a program
 * that changes directory still writes where the user asked.  A new
 * malloc'd string, or NULL when out of memory. */
char *pyprof_options_absolute_path(const char *path);

/* The -o PATH of a command that runs a program: made absolute (above)
 * and checked before the program starts (core/output.h's
 * pyprof_output_check: nothing is truncated or left behind), so a path
 * that cannot be written costs no run.  A new malloc'd string, or NULL
 * after printing "COMMAND: cannot write PATH: reason" to stderr. */
char *pyprof_options_output_path(const char *command, const char *path);

/* The format of output file `path`, by its extension -- one rule for
 * every command: `suffixes` (".svg", ".html") are the formats the command
 * writes, the first its own.  Returns the index of the suffix `path` ends
 * with; 0 (the command's own format) for a name whose extension names no
 * format (prog.prof, prog.out, no extension); or -1 after printing
 * "COMMAND: cannot write x.png as png: it writes .svg or .html" when the
 * extension names a format the command does not write. */
int pyprof_options_output_format(const char *command, const char *path,
                                 const char *const *suffixes, size_t count);

/* Non-zero when `path` ends with `extension` (".svg"), in any case, after
 * at least one other character. */
int pyprof_options_has_extension(const char *path, const char *extension);

/* Print "COMMAND: unknown option 'X' (try 'COMMAND --help')" for the
 * current argument. */
void pyprof_options_unknown(const pyprof_options_t *scan);

#endif
