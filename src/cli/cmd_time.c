/* cmd_time.c - `pyprof time`: a whole program timed as %timeit and %time do.
 *
 * One "loop" is one complete run of the program in this process through
 * the runner (fresh __main__, source read and compiled, as `python
 * script.py` does minus interpreter start-up).  The numbers follow
 * IPython's magics (IPython/core/magics/execution.py) so they read the
 * same as in a notebook:
 *
 *   - a first run is timed on its own, cold, and shown as %time shows one
 *     statement: user and system CPU from getrusage(RUSAGE_SELF) (all
 *     threads), wall time from the monotonic clock;
 *   - without -n, loops per batch are chosen as %timeit's autorange does:
 *     1, 10, 100, ... until one trial batch takes at least 0.2 s;
 *   - -r batches (default 7) are timed; the TimeitResult line gives the
 *     mean and population standard deviation of the per-loop times, then
 *     the best (minimum) per-loop time, the number worth trusting.
 *
 * On a terminal (stderr), the command says first that the program is run
 * repeatedly in this process -- side effects included -- and then how far
 * it is (progress.h); elsewhere it prints nothing but the results.
 *
 * Time is integer nanoseconds (pyprof_ns_t) throughout; seconds exist
 * only in the formatting.  All output goes through sys.stdout, like the
 * program's own, so the two never interleave out of order.
 */
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../core/clock.h"
#include "cmd_time.h"
#include "options.h"
#include "progress.h"
#include "runner.h"

#define AUTORANGE_MIN_BATCH (PYPROF_NS_PER_SEC / 5) /* %timeit: 0.2 s */
#define AUTORANGE_MAX_POWER 9                   /* %timeit: up to 10**9 */
#define DEFAULT_REPEAT 7                        /* %timeit -r */
#define TIME_PRECISION 3                        /* %timeit -p */
#define SLOW_RUN_FACTOR 4                       /* %timeit's cache warning */

static const char usage[] =
    "usage: pyprof time [-n LOOPS] [-r REPEAT] [-q] "
    "(script.py | -m module | -c code) [args...]\n";

static const char help_text[] =
    "\n"
    "Time a whole program, run in this process, as IPython's %timeit and\n"
    "%time report a statement.\n"
    "\n"
    "options:\n"
    "  -n, --loops LOOPS    runs of the program per timed batch (default:\n"
    "                       1, 10, 100, ... until a batch takes at least\n"
    "                       0.2 s)\n"
    "  -r, --repeat REPEAT  timed batches (default: 7)\n"
    "  -q, --quiet          send the program's standard output to\n"
    "                       /dev/null while it is timed\n"
    "  -h, --help           show this help\n"
    "\n"
    "Prints the mean and standard deviation per loop, the best (minimum)\n"
    "time per loop, and the CPU and wall time of the first, cold run.\n"
    "If the program fails, timing stops and its exit status is returned.\n";

typedef struct {
    long loops;             /* -n; 0: choose as %timeit's autorange */
    long repeat;            /* -r */
    int quiet;              /* -q */
    pyprof_target_t target;
} time_options_t;

/* What %time shows for one run. */
typedef struct {
    pyprof_ns_t user;
    pyprof_ns_t system;
    pyprof_ns_t wall;
} run_times_t;

/* How the program ended when a run failed. */
typedef struct {
    pyprof_outcome_t outcome;
    int status;
} failure_t;

/* The runs of one `pyprof time`, for the progress line. */
typedef struct {
    const pyprof_target_t *target;  /* borrowed */
    pyprof_progress_t progress;
    const char *stage;      /* "choosing loops" or "timing", for the line */
    long done;              /* runs of this stage finished */
    long total;             /* runs this stage will make */
} session_t;

/* ---------------------------------------------------------------------- */
/* Clocks */

static pyprof_ns_t
timeval_ns(struct timeval tv)
{
    return (pyprof_ns_t)tv.tv_sec * PYPROF_NS_PER_SEC +
           (pyprof_ns_t)tv.tv_usec * 1000;
}

/* CPU time of the whole process so far, all threads. */
static void
process_cpu_now(pyprof_ns_t *user, pyprof_ns_t *system)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) {
        memset(&usage, 0, sizeof(usage));
    }
    *user = timeval_ns(usage.ru_utime);
    *system = timeval_ns(usage.ru_stime);
}

/* ---------------------------------------------------------------------- */
/* Running */

/* Run the program once.  Returns 0 when it succeeded (ran to the end or
 * exited with status 0), else -1 with *failure filled in. */
static int
run_program(session_t *session, failure_t *failure)
{
    int status = 0;
    pyprof_progress_program_resumes(&session->progress);
    pyprof_outcome_t outcome = pyprof_runner_run(session->target, NULL,
                                                 &status);
    pyprof_progress_program_paused(&session->progress);
    session->done++;
    pyprof_progress_status(&session->progress,
                           session->done == session->total,
                           "%s: run %ld of %ld", session->stage,
                           session->done, session->total);
    if ((outcome == PYPROF_OUTCOME_OK || outcome == PYPROF_OUTCOME_EXIT) &&
        status == 0) {
        return 0;
    }
    failure->outcome = outcome;
    failure->status = status;
    return -1;
}

/* Run the program once, measured as %time measures. */
static int
time_single_run(session_t *session, run_times_t *times, failure_t *failure)
{
    session->stage = "cold run";
    session->done = 0;
    session->total = 1;
    pyprof_ns_t user0, system0, user1, system1;
    process_cpu_now(&user0, &system0);
    pyprof_ns_t wall0 = pyprof_clock_read_ns(CLOCK_MONOTONIC);
    int rc = run_program(session, failure);
    pyprof_ns_t wall1 = pyprof_clock_read_ns(CLOCK_MONOTONIC);
    process_cpu_now(&user1, &system1);
    times->user = user1 - user0;
    times->system = system1 - system0;
    times->wall = wall1 - wall0;
    return rc;
}

/* Run the program `loops` times back to back; *elapsed is the total. */
static int
time_batch(session_t *session, long loops, pyprof_ns_t *elapsed,
           failure_t *failure)
{
    pyprof_ns_t start = pyprof_clock_read_ns(CLOCK_MONOTONIC);
    for (long i = 0; i < loops; i++) {
        if (run_program(session, failure) < 0) {
            return -1;
        }
    }
    *elapsed = pyprof_clock_read_ns(CLOCK_MONOTONIC) - start;
    return 0;
}

/* %timeit's autorange: the first of 1, 10, 100, ... loops whose trial
 * batch takes at least 0.2 s (the trial batches are not kept). */
static int
choose_loops(session_t *session, long *loops, failure_t *failure)
{
    long candidate = 1;
    session->stage = "choosing loops";
    for (int power = 0; power <= AUTORANGE_MAX_POWER; power++) {
        pyprof_ns_t elapsed;
        session->done = 0;
        session->total = candidate;
        if (time_batch(session, candidate, &elapsed, failure) < 0) {
            return -1;
        }
        if (elapsed >= AUTORANGE_MIN_BATCH || power == AUTORANGE_MAX_POWER) {
            break;
        }
        candidate *= 10;
    }
    *loops = candidate;
    return 0;
}

/* Flush sys.stdout, then C's stdout. */
static void
flush_stdout(void)
{
    PyObject *out = PySys_GetObject("stdout");                  /* borrowed */
    if (out != NULL && out != Py_None) {
        PyObject *result = PyObject_CallMethod(out, "flush", NULL);
        if (result == NULL) {
            PyErr_Clear();
        }
        Py_XDECREF(result);
    }
    fflush(stdout);
}

/* Point fd 1 at /dev/null.  Returns a descriptor to restore it from, or
 * -1 with errno set. */
static int
silence_stdout(void)
{
    flush_stdout();
    int saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (saved < 0) {
        return -1;
    }
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0) {
        int err = errno;
        if (devnull >= 0) {
            close(devnull);
        }
        close(saved);
        errno = err;
        return -1;
    }
    close(devnull);
    return saved;
}

/* Undo silence_stdout(); `saved` < 0 means nothing to undo. */
static void
restore_stdout(int saved)
{
    if (saved < 0) {
        return;
    }
    flush_stdout();
    dup2(saved, STDOUT_FILENO);
    close(saved);
}

/* ---------------------------------------------------------------------- */
/* Formatting, as IPython's _format_time and TimeitResult */

typedef struct {
    const char *micro;          /* Greek small mu (U+03BC) + "s", as
                                   IPython 8 and 9 print it, or "us" */
    const char *plus_minus;     /* "±", or "+-" */
} glyphs_t;

/* Non-zero when sys.stdout has an encoding that can encode `utf8`. */
static int
stdout_can_encode(const char *utf8)
{
    PyObject *out = PySys_GetObject("stdout");                  /* borrowed */
    if (out == NULL || out == Py_None) {
        return 0;
    }
    PyObject *encoding = PyObject_GetAttrString(out, "encoding");
    PyObject *text = NULL, *bytes = NULL;
    const char *name = NULL;
    if (encoding != NULL && PyUnicode_Check(encoding) &&
        PyUnicode_GET_LENGTH(encoding) > 0) {
        name = PyUnicode_AsUTF8(encoding);              /* owned by encoding */
        text = name != NULL ? PyUnicode_FromString(utf8) : NULL;
        bytes = text != NULL ? PyUnicode_AsEncodedString(text, name, "strict")
                             : NULL;
    }
    int ok = bytes != NULL;
    Py_XDECREF(bytes);
    Py_XDECREF(text);
    Py_XDECREF(encoding);
    PyErr_Clear();
    return ok;
}

static void
glyphs_init(glyphs_t *glyphs)
{
    glyphs->micro = stdout_can_encode("\xce\xbc") ? "\xce\xbcs" : "us";
    glyphs->plus_minus = stdout_can_encode("\xc2\xb1") ? "\xc2\xb1" : "+-";
}

/* Python's floor division by 3 (rounds toward minus infinity). */
static long
floor_div3(long value)
{
    long quotient = value / 3;
    if (value % 3 != 0 && value < 0) {
        quotient--;
    }
    return quotient;
}

/* IPython's _format_time(seconds, precision=3) into buf. */
static void
format_time(char *buf, size_t size, double seconds, const glyphs_t *glyphs)
{
    if (seconds >= 60.0) {
        static const struct {
            const char *suffix;
            double length;
        } parts[] = {{"d", 86400.0}, {"h", 3600.0}, {"min", 60.0}, {"s", 1.0}};
        double leftover = seconds;
        size_t used = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            double value = trunc(leftover / parts[i].length);
            if (value > 0 && used < size) {
                leftover = fmod(leftover, parts[i].length);
                int n = snprintf(buf + used, size - used, "%s%.0f%s",
                                 used > 0 ? " " : "", value, parts[i].suffix);
                used += n > 0 ? (size_t)n : 0;
            }
            if (leftover < 1) {
                break;
            }
        }
        return;
    }
    static const double scaling[] = {1.0, 1e3, 1e6, 1e9};
    const char *units[] = {"s", "ms", glyphs->micro, "ns"};
    long order = 3;
    if (seconds > 0.0) {
        order = -floor_div3((long)floor(log10(seconds)));
        if (order > 3) {
            order = 3;
        }
    }
    snprintf(buf, size, "%.*g %s", TIME_PRECISION, seconds * scaling[order],
             units[order]);
}

/* `value` with thousands separators, as Python's "{:,}". */
static void
format_count(char *buf, size_t size, long value)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%ld", value);
    size_t used = 0;
    for (int i = 0; i < n && used + 1 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            buf[used++] = ',';
        }
        buf[used++] = digits[i];
    }
    buf[used] = '\0';
}

/* Sum with a running compensation (Neumaier), near math.fsum's exact sum
 * for the handful of values %timeit adds. */
static double
compensated_sum(const double *values, long count)
{
    double sum = 0.0, compensation = 0.0;
    for (long i = 0; i < count; i++) {
        double next = sum + values[i];
        if (fabs(sum) >= fabs(values[i])) {
            compensation += (sum - next) + values[i];
        }
        else {
            compensation += (values[i] - next) + sum;
        }
        sum = next;
    }
    return sum + compensation;
}

/* Print what %timeit and %time print, plus the best time per loop. */
static void
print_results(const pyprof_ns_t *batches, long repeat, long loops,
              const run_times_t *first)
{
    glyphs_t glyphs;
    glyphs_init(&glyphs);
    double *per_loop = PyMem_Calloc((size_t)repeat, sizeof(double));
    if (per_loop == NULL) {
        fprintf(stderr, "pyprof time: out of memory\n");
        return;
    }
    pyprof_ns_t fastest = batches[0], slowest = batches[0];
    for (long i = 0; i < repeat; i++) {
        per_loop[i] = pyprof_ns_to_seconds(batches[i]) / loops;
        fastest = batches[i] < fastest ? batches[i] : fastest;
        slowest = batches[i] > slowest ? batches[i] : slowest;
    }
    double mean = compensated_sum(per_loop, repeat) / repeat;
    for (long i = 0; i < repeat; i++) {
        per_loop[i] = (per_loop[i] - mean) * (per_loop[i] - mean);
    }
    double stdev = sqrt(compensated_sum(per_loop, repeat) / repeat);
    PyMem_Free(per_loop);
    double best = pyprof_ns_to_seconds(fastest) / loops;
    double worst = pyprof_ns_to_seconds(slowest) / loops;

    char mean_text[64], stdev_text[64], best_text[64], loops_text[32];
    format_time(mean_text, sizeof(mean_text), mean, &glyphs);
    format_time(stdev_text, sizeof(stdev_text), stdev, &glyphs);
    format_time(best_text, sizeof(best_text), best, &glyphs);
    format_count(loops_text, sizeof(loops_text), loops);
    if (worst > SLOW_RUN_FACTOR * best && best > 0 && worst > 1e-6) {
        PySys_WriteStdout("The slowest run took %0.2f times longer than the "
                          "fastest. This could mean that an intermediate "
                          "result is being cached.\n",
                          worst / best);
    }
    PySys_WriteStdout("%s %s %s per loop (mean %s std. dev. of %ld run%s, "
                      "%s loop%s each)\n",
                      mean_text, glyphs.plus_minus, stdev_text,
                      glyphs.plus_minus, repeat, repeat == 1 ? "" : "s",
                      loops_text, loops == 1 ? "" : "s");
    PySys_WriteStdout("best of %ld: %s per loop\n", repeat, best_text);

    char user_text[64], system_text[64], total_text[64], wall_text[64];
    format_time(user_text, sizeof(user_text),
                pyprof_ns_to_seconds(first->user), &glyphs);
    format_time(system_text, sizeof(system_text),
                pyprof_ns_to_seconds(first->system), &glyphs);
    format_time(total_text, sizeof(total_text),
                pyprof_ns_to_seconds(first->user + first->system),
                &glyphs);
    format_time(wall_text, sizeof(wall_text),
                pyprof_ns_to_seconds(first->wall), &glyphs);
    PySys_WriteStdout("CPU times: user %s, sys: %s, total: %s\n", user_text,
                      system_text, total_text);
    PySys_WriteStdout("Wall time: %s\n", wall_text);
    flush_stdout();
}

/* ---------------------------------------------------------------------- */
/* Command */

/* loops * repeat, at most LONG_MAX (-n and -r are bounded apart). */
static long
batch_runs(long loops, long repeat)
{
    return loops > LONG_MAX / repeat ? LONG_MAX : loops * repeat;
}

/* Say, before the first run, how often the program will run: a user who
 * expected one run sees why its side effects repeat. */
static void
announce_runs(pyprof_progress_t *progress, const time_options_t *opts)
{
    if (opts->loops == 0) {
        pyprof_progress_note(progress,
                             "runs the program repeatedly in this process, "
                             "side effects included: once cold, then 1, "
                             "10, 100, ... times until a batch takes "
                             "0.2 s, then %ld batches of that many",
                             opts->repeat);
    }
    else {
        pyprof_progress_note(progress,
                             "runs the program %ld times in this process, "
                             "side effects included (once cold, then %ld "
                             "batches of %ld)",
                             batch_runs(opts->loops, opts->repeat) + 1,
                             opts->repeat,
                             opts->loops);
    }
}

/* Returns 0 to go on, 1 after printing help, 2 after a usage error. */
static int
parse_options(int argc, char **argv, time_options_t *opts)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof time", argc, argv);
    memset(opts, 0, sizeof(*opts));
    opts->repeat = DEFAULT_REPEAT;
    while (!pyprof_options_at_program(&scan)) {
        const char *value = NULL;
        int rc;
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 1;
        }
        if (pyprof_options_flag(&scan, "-q", "--quiet")) {
            opts->quiet = 1;
        }
        else if ((rc = pyprof_options_value(&scan, "-n", "--loops",
                                            &value)) != 0) {
            if (rc < 0 || pyprof_options_parse_long(&scan, "-n", value, 0,
                                                    LONG_MAX / 10,
                                                    &opts->loops) < 0) {
                return 2;
            }
        }
        else if ((rc = pyprof_options_value(&scan, "-r", "--repeat",
                                            &value)) != 0) {
            if (rc < 0 || pyprof_options_parse_long(&scan, "-r", value, 1,
                                                    1000000,
                                                    &opts->repeat) < 0) {
                return 2;
            }
        }
        else {
            pyprof_options_unknown(&scan);
            return 2;
        }
    }
    if (pyprof_runner_parse_target("pyprof time", argc - scan.index,
                                   argv + scan.index, &opts->target) < 0) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

int
pyprof_cmd_time(int argc, char **argv)
{
    time_options_t opts;
    int rc = parse_options(argc, argv, &opts);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    pyprof_ns_t *batches = PyMem_Calloc((size_t)opts.repeat,
                                        sizeof(pyprof_ns_t));
    if (batches == NULL) {
        fprintf(stderr, "pyprof time: out of memory\n");
        return 1;
    }
    int saved_stdout = -1;
    if (opts.quiet) {
        saved_stdout = silence_stdout();
        if (saved_stdout < 0) {
            fprintf(stderr, "pyprof time: cannot silence stdout: %s\n",
                    strerror(errno));
            PyMem_Free(batches);
            return 1;
        }
    }

    failure_t failure = {PYPROF_OUTCOME_OK, 0};
    run_times_t first;
    long loops = opts.loops;
    session_t session;
    memset(&session, 0, sizeof(session));
    session.target = &opts.target;
    pyprof_progress_init(&session.progress, "pyprof time", 0);
    announce_runs(&session.progress, &opts);
    pyprof_progress_watch_program(&session.progress);
    int failed = time_single_run(&session, &first, &failure) < 0 ||
                 (loops == 0 && choose_loops(&session, &loops, &failure) < 0);
    if (!failed && opts.loops == 0) {
        pyprof_progress_note(&session.progress,
                             "%ld loop%s per batch: %ld more runs", loops,
                             loops == 1 ? "" : "s",
                             batch_runs(loops, opts.repeat));
    }
    session.stage = "timing";
    session.done = 0;
    session.total = batch_runs(loops, opts.repeat);
    for (long i = 0; !failed && i < opts.repeat; i++) {
        failed = time_batch(&session, loops, &batches[i], &failure) < 0;
    }
    pyprof_progress_clear(&session.progress);
    restore_stdout(saved_stdout);

    int status = 0;
    if (failed) {
        status = failure.status;
        if (failure.outcome != PYPROF_OUTCOME_NOT_FOUND &&
            failure.outcome != PYPROF_OUTCOME_INTERRUPT) {
            fprintf(stderr,
                    "pyprof time: the program failed (exit status %d); "
                    "timing stopped\n",
                    status);
        }
    }
    else {
        print_results(batches, opts.repeat, loops, &first);
    }
    PyMem_Free(batches);
    return status;
}
