/* runner.h - run a user's program as `python script.py` would.
 *
 * Sets sys.argv, sys.path[0] and a fresh __main__ module, runs a script
 * file, a module (`-m`, via runpy) or a code string (`-c`), and turns the
 * way it ended into an exit code without ever letting SystemExit terminate
 * the process: the caller must still write what it profiled.
 */
#ifndef PYPROF_RUNNER_H
#define PYPROF_RUNNER_H

typedef enum {
    PYPROF_TARGET_SCRIPT,
    PYPROF_TARGET_MODULE,
    PYPROF_TARGET_CODE,
} pyprof_target_kind_t;

typedef struct {
    pyprof_target_kind_t kind;
    const char *name;       /* script path, module name, or code string */
    int argc;               /* the program's own arguments, after name */
    char **argv;
} pyprof_target_t;

typedef enum {
    PYPROF_OUTCOME_OK,          /* ran to the end */
    PYPROF_OUTCOME_EXIT,        /* raised SystemExit */
    PYPROF_OUTCOME_EXCEPTION,   /* uncaught exception, traceback printed */
    PYPROF_OUTCOME_INTERRUPT,   /* KeyboardInterrupt (Ctrl-C) */
    PYPROF_OUTCOME_NOT_FOUND,   /* script or module could not be found */
} pyprof_outcome_t;

/* Called just before the program's first instruction and just after its
 * last, so a profiler sees only the program.  `start` returns 0, or -1
 * with an exception set to abort the run. */
typedef struct {
    int (*start)(void *ctx);
    void (*stop)(void *ctx);
    void *ctx;
} pyprof_run_hooks_t;

/* Read the program part of a command line: "SCRIPT args...", "-m MODULE
 * args..." or "-c CODE args..." (also "-mMODULE", "-cCODE"), as `python`
 * reads it; argv[0] is the first argument of that part.  *target borrows
 * argv's strings.  Returns 0, or -1 after printing a one-line message
 * naming `command` to stderr.  Plain C. */
int pyprof_runner_parse_target(const char *command, int argc, char **argv,
                               pyprof_target_t *target);

/* Print the pending Python exception as one line, "PREFIX: Type:
 * message", to sys.stderr and clear it.  Requires the GIL. */
void pyprof_runner_print_error(const char *prefix);

/* Non-zero when `target` cannot start, after printing what python prints
 * for it and setting *exit_code to python's status: -m NAME whose
 * top-level package cannot be found ("EXECUTABLE: No module named NAME",
 * 1), a script that cannot be read ("can't open file", 2), a directory or
 * zip without __main__ ("can't find '__main__' module", 1).  For commands
 * that would otherwise start work (a sampler, a child, a file) before the
 * program.  Searches with sys.path as the program gets it; runs nothing of
 * the program's.  Requires the GIL; leaves no exception set. */
int pyprof_runner_program_missing(const pyprof_target_t *target,
                                  int *exit_code);

/* Run the target once.  *exit_code receives what `python script.py` would
 * have exited with (0, the SystemExit code, 1 for an exception, 130 for
 * Ctrl-C, 2 for a script that cannot be opened, 1 for a module that cannot
 * be found).  Messages for exceptions are printed to stderr.  sys.argv,
 * sys.path, sys.stdin/stdout/stderr and sys.modules["__main__"] are
 * restored afterwards, so a target can be run again.  Requires the GIL;
 * leaves no exception set. */
pyprof_outcome_t pyprof_runner_run(const pyprof_target_t *target,
                                   const pyprof_run_hooks_t *hooks,
                                   int *exit_code);

#endif
