/* cmd_record.c - `pyprof record`: a sampling profile of another process.
 *
 * The target is a running process (--pid) or a program pyprof starts as
 * its child: script.py / -m module / -c code under the Python pyprof runs
 * in (sys.executable), or `-- COMMAND ...` as given.  A child may be read
 * without privileges under Yama ptrace_scope 1, because pyprof is its
 * ancestor.  The child is started with fork + exec and a close-on-exec
 * pipe, so sampling begins only once the exec has happened (before it,
 * the child is a copy of pyprof's own interpreter).  The child gets the
 * pass-through `profile` builtin of every command from a sitecustomize
 * shim on a temporary PYTHONPATH (child_site.h), removed once it exits.
 *
 * The loop sleeps to absolute deadlines (clock_nanosleep TIMER_ABSTIME,
 * timer slack 1 ns) and samples every target at each (sampler/schedule.h).
 * Each deadline falls at a random point of its own period: a program whose
 * loop takes a near-multiple of the period would otherwise be sampled at
 * the same few phases of its loop and its functions' shares would be off
 * by several points (seen on a 70/30 split).  A wake-up that is late (a
 * loaded machine) takes the missed deadlines back to back, up to a backlog
 * of 4 periods or 20 ms; older ones are dropped and reported as missed, so
 * "rounds taken / expected" says how well the rate was kept.  Ctrl-C (SIGINT),
 * SIGTERM, --duration or the target's exit end the recording; the profile
 * is then written, and a child pyprof started runs to its own end (its
 * exit status becomes pyprof's).
 */
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/recording.h"
#include "../core/sink.h"
#include "../core/output.h"
#include "../report/pprof_export.h"
#include "../report/sample_table.h"
#include "../report/tree_formats.h"
#include "../sampler/sampler.h"
#include "../sampler/schedule.h"
#include "child_site.h"
#include "cmd_record.h"
#include "options.h"
#include "runner.h"
#include "sample_session.h"

static const char usage[] =
    "usage: pyprof record [--rate HZ] [--duration S] [-o FILE] [--format F]\n"
    "                     [--idle] [--gil] [--subprocesses] [--blocking]\n"
    "                     (--pid PID | script.py | -m module | -c code |\n"
    "                      -- COMMAND ...) [args...]\n";

static const char help_text[] =
    "\n"
    "Sample a running Python program from outside, without stopping it:\n"
    "every thread's Python stack, RATE times a second.\n"
    "\n"
    "options:\n"
    "  -p, --pid PID       sample this running process (reading another\n"
    "                      process needs root or CAP_SYS_PTRACE under Yama\n"
    "                      ptrace_scope 1; a program pyprof starts does not)\n"
    "  -r, --rate HZ       samples per second (default 100; up to 100000)\n"
    "  -d, --duration S    stop after S seconds (default: when the program\n"
    "                      exits, or at Ctrl-C)\n"
    "  -o, --output FILE   write the profile to FILE; the format follows the\n"
    "                      extension: .pb.gz/.pprof pprof, .html the report\n"
    "                      of pyprof view, .speedscope.json speedscope,\n"
    "                      .trace.json Chrome trace, .collapsed/.folded/.txt\n"
    "                      collapsed stacks; .pyprof, .pstats or a name of\n"
    "                      no format (.prof, none) pyprof's own recording (a\n"
    "                      pstats file with the exact stacks and lines:\n"
    "                      pyprof view/export/stats read it); another\n"
    "                      format's extension (.svg, .json, .png) is\n"
    "                      refused before anything runs\n"
    "  -f, --format F      pyprof|pprof|html|speedscope|chrome|collapsed\n"
    "  --idle              count threads that are not running on a CPU too\n"
    "                      (wall time; default: on-CPU threads only)\n"
    "  --gil               count only the thread holding the GIL\n"
    "  --subprocesses      follow every descendant process (multiprocessing\n"
    "                      workers, forkserver grandchildren), each under\n"
    "                      its pid\n"
    "  --blocking          stop the target's threads while each sample is\n"
    "                      read (consistent stacks; costs the target time)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Without -o the functions are printed by their share of the samples.\n"
    "A summary line (samples, duration, rounds taken of expected, errors)\n"
    "goes to stderr.\n";

/* The formats drawn from the profile's model and tree are
 * report/tree_formats.h's, by value; the others are record's own. */
typedef enum {
    FORMAT_HTML = PYPROF_TREE_HTML,
    FORMAT_SPEEDSCOPE = PYPROF_TREE_SPEEDSCOPE,
    FORMAT_CHROME = PYPROF_TREE_CHROME,
    FORMAT_COLLAPSED = PYPROF_TREE_COLLAPSED,
    FORMAT_DEFAULT = PYPROF_TREE_COLLAPSED + 1, FORMAT_PYPROF, FORMAT_PPROF
} format_t;

typedef struct {
    double rate;
    double duration;            /* seconds; 0 = unlimited */
    const char *output;         /* NULL: print the table */
    format_t format;
    unsigned flags;             /* PYPROF_RECORD_* */
    long pid;                   /* --pid, else 0 */
    char **command;             /* `-- COMMAND ...`, NULL-terminated */
    pyprof_target_t target;     /* script / -m / -c, when no pid/command */
} record_options_t;

static volatile sig_atomic_t stop_requested;    /* set by the signal
                                                   handler, read by the
                                                   loop; one thread */

static void
on_stop_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

static format_t
format_named(const char *name)
{
    static const struct {
        const char *name;
        format_t format;
    } names[] = {{"pyprof", FORMAT_PYPROF}, {"pprof", FORMAT_PPROF},
                 {"html", FORMAT_HTML}, {"speedscope", FORMAT_SPEEDSCOPE},
                 {"chrome", FORMAT_CHROME}, {"collapsed", FORMAT_COLLAPSED}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i].name) == 0) {
            return names[i].format;
        }
    }
    return FORMAT_DEFAULT;
}

/* What -o writes, by its extension (one rule, options.h): the first is
 * the command's own, a pstats file with the samples; .txt is collapsed
 * stacks, as py-spy's users name them. */
static const char *const output_suffixes[] = {
    ".pyprof", ".pstats", ".pb.gz", ".pprof", ".pb", ".html", ".htm",
    ".speedscope.json", ".trace.json", ".chrome.json", ".collapsed",
    ".folded", ".txt",
};
static const format_t output_formats[] = {
    FORMAT_PYPROF, FORMAT_PYPROF, FORMAT_PPROF, FORMAT_PPROF, FORMAT_PPROF,
    FORMAT_HTML, FORMAT_HTML, FORMAT_SPEEDSCOPE, FORMAT_CHROME, FORMAT_CHROME,
    FORMAT_COLLAPSED, FORMAT_COLLAPSED, FORMAT_COLLAPSED,
};
#define NOUTPUT_SUFFIXES (sizeof(output_suffixes) / sizeof(output_suffixes[0]))
_Static_assert(NOUTPUT_SUFFIXES
               == sizeof(output_formats) / sizeof(output_formats[0]),
               "one format per suffix");

/* Settle opts->format from -o's extension, or check that the extension
 * does not name another format than --format's.  0, or 2 after a
 * one-line refusal (before anything runs). */
static int
check_output_format(record_options_t *opts)
{
    int found = pyprof_options_output_format("pyprof record", opts->output,
                                             output_suffixes,
                                             NOUTPUT_SUFFIXES);
    if (found < 0) {
        return 2;
    }
    int named = pyprof_options_has_extension(opts->output,
                                             output_suffixes[found]);
    if (opts->format == FORMAT_DEFAULT) {
        opts->format = output_formats[found];
    }
    else if (named && output_formats[found] != opts->format) {
        fprintf(stderr, "pyprof record: -o %s names another format than "
                "--format's: change the extension or leave --format out\n",
                opts->output);
        return 2;
    }
    return 0;
}

static int
parse_double(const char *option, const char *text, double min, double max,
             double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= min)
        || !(v <= max)) {
        fprintf(stderr, "pyprof record: %s takes a number from %g to %g, "
                "not '%s'\n", option, min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* Returns 0 to go on, 1 after printing help, 2 after a usage error. */
static int
parse_options(int argc, char **argv, record_options_t *opts)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof record", argc, argv);
    memset(opts, 0, sizeof(*opts));
    opts->format = FORMAT_DEFAULT;
    opts->rate = 100.0;
    const char *format = NULL;
    for (;;) {
        const char *arg = pyprof_options_current(&scan);
        if (arg != NULL && strcmp(arg, "--") == 0) {
            scan.index++;
            if (scan.index >= argc) {
                fprintf(stderr, "pyprof record: no command after --\n%s",
                        usage);
                return 2;
            }
            opts->command = argv + scan.index;
            break;
        }
        if (opts->pid != 0 && arg == NULL) {
            break;
        }
        if (pyprof_options_at_program(&scan)) {
            break;
        }
        const char *value = NULL;
        int rc;
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 1;
        }
        else if (pyprof_options_flag(&scan, NULL, "--idle")) {
            opts->flags |= PYPROF_RECORD_IDLE;
        }
        else if (pyprof_options_flag(&scan, NULL, "--gil")) {
            opts->flags |= PYPROF_RECORD_GIL;
        }
        else if (pyprof_options_flag(&scan, NULL, "--subprocesses")) {
            opts->flags |= PYPROF_RECORD_SUBPROCESSES;
        }
        else if (pyprof_options_flag(&scan, NULL, "--blocking")) {
            opts->flags |= PYPROF_RECORD_BLOCKING;
        }
        else if ((rc = pyprof_options_value(&scan, "-o", "--output",
                                            &opts->output)) != 0
                 || (rc = pyprof_options_value(&scan, "-f", "--format",
                                               &format)) != 0) {
            if (rc < 0) {
                return 2;
            }
        }
        else if ((rc = pyprof_options_value(&scan, "-r", "--rate",
                                            &value)) != 0) {
            if (rc < 0 || parse_double("--rate", value, 0.1, 100000.0,
                                       &opts->rate) < 0) {
                return 2;
            }
        }
        else if ((rc = pyprof_options_value(&scan, "-d", "--duration",
                                            &value)) != 0) {
            if (rc < 0 || parse_double("--duration", value, 0.001, 1e9,
                                       &opts->duration) < 0) {
                return 2;
            }
        }
        else if ((rc = pyprof_options_value(&scan, "-p", "--pid",
                                            &value)) != 0) {
            if (rc < 0 || pyprof_options_parse_long(&scan, "--pid", value, 1,
                                                    INT_MAX, &opts->pid) < 0) {
                return 2;
            }
        }
        else {
            pyprof_options_unknown(&scan);
            return 2;
        }
    }
    if (format != NULL) {
        opts->format = format_named(format);
        if (opts->format == FORMAT_DEFAULT) {
            fprintf(stderr, "pyprof record: unknown format '%s' (pyprof, "
                    "pprof, html, speedscope, chrome or collapsed)\n", format);
            return 2;
        }
    }
    if (opts->pid != 0) {
        if (opts->command != NULL || scan.index < argc) {
            fprintf(stderr, "pyprof record: --pid takes no program\n%s",
                    usage);
            return 2;
        }
        return 0;
    }
    if (opts->command == NULL
        && pyprof_runner_parse_target("pyprof record", argc - scan.index,
                                      argv + scan.index, &opts->target) < 0) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

/* The program's argv for exec: a new NULL-terminated array (strings
 * borrowed, but argv[0] is a new string) or NULL with a message. */
static char **
child_argv(const record_options_t *opts)
{
    if (opts->command != NULL) {
        size_t n = 0;
        while (opts->command[n] != NULL) {
            n++;
        }
        char **argv = calloc(n + 1, sizeof(char *));
        if (argv == NULL) {
            return NULL;
        }
        memcpy(argv, opts->command, n * sizeof(char *));
        argv[0] = strdup(opts->command[0]);
        return argv[0] != NULL ? argv : (free(argv), NULL);
    }
    /* sys.executable: borrowed reference; its UTF-8 copied. */
    PyObject *exe = PySys_GetObject("executable");
    const char *exe_path = exe != NULL && PyUnicode_Check(exe)
                           ? PyUnicode_AsUTF8(exe) : NULL;
    if (exe_path == NULL || *exe_path == '\0') {
        PyErr_Clear();
        fprintf(stderr, "pyprof record: sys.executable is unknown; use "
                "-- COMMAND ...\n");
        return NULL;
    }
    const pyprof_target_t *t = &opts->target;
    char **argv = calloc((size_t)t->argc + 4, sizeof(char *));
    if (argv == NULL || (argv[0] = strdup(exe_path)) == NULL) {
        free(argv);
        return NULL;
    }
    size_t k = 1;
    if (t->kind == PYPROF_TARGET_MODULE) {
        argv[k++] = "-m";
    }
    else if (t->kind == PYPROF_TARGET_CODE) {
        argv[k++] = "-c";
    }
    argv[k++] = (char *)t->name;
    for (int i = 0; i < t->argc; i++) {
        argv[k++] = t->argv[i];
    }
    return argv;
}

/* `name` looked up in $PATH as execvp would (done before fork, so the
 * child calls only async-signal-safe functions).  A new string, or NULL. */
static char *
find_program(const char *name)
{
    if (strchr(name, '/') != NULL) {
        return strdup(name);
    }
    const char *path = getenv("PATH");
    if (path == NULL) {
        path = "/usr/local/bin:/usr/bin:/bin";
    }
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        char *candidate = malloc(len + strlen(name) + 2);
        if (candidate == NULL) {
            return NULL;
        }
        snprintf(candidate, len + strlen(name) + 2, "%.*s%s%s", (int)len,
                 p, len ? "/" : "", name);
        if (access(candidate, X_OK) == 0) {
            return candidate;
        }
        free(candidate);
        if (colon == NULL) {
            return NULL;
        }
        p = colon + 1;
    }
}

/* Start the program with environment `env`; returns its pid once it has
 * exec'd, or -1 with a message printed. */
static pid_t
start_child(char **argv, char **env)
{
    char *program = find_program(argv[0]);
    if (program == NULL) {
        fprintf(stderr, "pyprof record: %s: command not found\n", argv[0]);
        return -1;
    }
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        fprintf(stderr, "pyprof record: pipe: %s\n", strerror(errno));
        free(program);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* The child: only async-signal-safe calls until exec.  Python
         * ignores SIGPIPE and SIGXFSZ; the program gets the defaults, as
         * when started from a shell. */
        close(pipefd[0]);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGXFSZ, SIG_DFL);
        execve(program, argv, env);
        int err = errno;
        ssize_t ignored = write(pipefd[1], &err, sizeof(err));
        (void)ignored;
        _exit(127);
    }
    int saved = errno;
    close(pipefd[1]);
    if (pid < 0) {
        close(pipefd[0]);
        fprintf(stderr, "pyprof record: fork: %s\n", strerror(saved));
        free(program);
        return -1;
    }
    int err = 0;
    ssize_t got;
    do {
        got = read(pipefd[0], &err, sizeof(err));
    } while (got < 0 && errno == EINTR);
    close(pipefd[0]);
    if (got == (ssize_t)sizeof(err)) {
        fprintf(stderr, "pyprof record: cannot run %s: %s\n", program,
                strerror(err));
        waitpid(pid, NULL, 0);
        free(program);
        return -1;
    }
    free(program);
    return pid;
}

/* python/pyprof/_child_site.py, installed beside pyprof's __init__.py:
 * a new string, or NULL with no exception set. */
static char *
child_site_source(void)
{
    PyObject *package = PyImport_ImportModule("pyprof");   /* new */
    PyObject *init = package ? PyObject_GetAttrString(package, "__file__")
                             : NULL;                         /* new */
    const char *init_path = init && PyUnicode_Check(init)
                            ? PyUnicode_AsUTF8(init) : NULL;
    char *path = NULL;
    const char *slash = init_path ? strrchr(init_path, '/') : NULL;
    if (slash != NULL) {
        size_t dir_len = (size_t)(slash - init_path);
        path = malloc(dir_len + sizeof("/_child_site.py"));
        if (path != NULL) {
            snprintf(path, dir_len + sizeof("/_child_site.py"),
                     "%.*s/_child_site.py", (int)dir_len, init_path);
        }
    }
    PyErr_Clear();
    Py_XDECREF(init);
    Py_XDECREF(package);
    return path;
}

/* Give the child the `profile` builtin (child_site.h) unless its command
 * line says it would not see it; a failure costs only the builtin. */
static void
prepare_child_site(pyprof_child_site_t *site, char **argv)
{
    site->dir = NULL;
    site->env = NULL;
    if (pyprof_child_site_refused(argv)) {
        return;
    }
    char errbuf[512] = "pyprof's _child_site.py not found";
    char *source = child_site_source();
    if (source == NULL || pyprof_child_site_prepare(site, source, errbuf,
                                                   sizeof(errbuf)) < 0) {
        fprintf(stderr, "pyprof record: warning: the program gets no "
                "profile builtin: %s\n", errbuf);
    }
    free(source);
}

/* The sampling loop's clock (what sampler/schedule.h's deadlines are
 * in). */
static int64_t
monotonic_ns(void)
{
    return pyprof_clock_read_ns(CLOCK_MONOTONIC);
}

/* CPU time this thread has used (user + system). */
static int64_t
thread_cpu_ns(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_THREAD, &usage) != 0) {
        return 0;
    }
    return ((int64_t)usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
               * 1000000000
           + ((int64_t)usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
               * 1000;
}

static int64_t
realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The child's exit status as a shell reports it; -1 while it runs. */
static int
reap(pid_t child, int block, int *exited)
{
    if (child <= 0 || *exited) {
        return -1;
    }
    int status;
    pid_t got;
    do {
        got = waitpid(child, &status, block ? 0 : WNOHANG);
    } while (got < 0 && errno == EINTR);
    if (got != child) {
        return -1;
    }
    *exited = 1;
    return WIFEXITED(status) ? WEXITSTATUS(status)
                             : 128 + WTERMSIG(status);
}

/* Sleep until the absolute monotonic time `until_ns` (or a signal that
 * asks to stop). */
static void
sleep_until(int64_t until_ns)
{
    struct timespec deadline = {(time_t)(until_ns / 1000000000),
                                (long)(until_ns % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL)
               == EINTR && !stop_requested) {
    }
}

/* Sampling rounds between two looks at whether the child exited. */
#define REAP_EVERY 256

/* Sample until a stop condition; fills the recording's info and the
 * number of deadlines dropped for being too late (*missed). */
static void
sample_loop(pyprof_session_t *session, pyprof_recording_t *rec,
            const record_options_t *opts, pid_t child, int *child_exited,
            int *child_status, int64_t *cpu_ns, int64_t *missed)
{
    int64_t cpu_start = thread_cpu_ns();
    pyprof_recording_info_t *info = pyprof_recording_info(rec);
    int64_t start = monotonic_ns();
    int64_t limit = opts->duration > 0
                    ? start + (int64_t)llround(opts->duration * 1e9) : 0;
    int64_t next_scan = start;
    pyprof_schedule_t schedule;
    pyprof_schedule_init(&schedule, start, (int64_t)llround(1e9 / opts->rate),
                         (uint64_t)realtime_ns() | 1);
    if (opts->flags & PYPROF_RECORD_BLOCKING) {
        /* Each sample stops the target: catching up would stop it back to
         * back.  A late wake-up takes only its own period's deadline. */
        schedule.backlog_ns = 0;
    }
    schedule.end_ns = limit;
    info->start_unix_ns = realtime_ns();
    /* wake-ups within 1 us of the deadline, not the default 50 us */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    /* one clock read per round: after a sleep to an absolute deadline the
     * time is at least that deadline, which is what the checks need */
    int64_t now = start;
    while (!stop_requested) {
        if (limit && now >= limit) {
            break;
        }
        if ((opts->flags & PYPROF_RECORD_SUBPROCESSES) && now >= next_scan) {
            pyprof_session_rescan(session);
            next_scan = now + 100000000;
        }
        int live = pyprof_session_sample(session);
        info->ticks_taken++;
        /* a child that exits fails its next sample (live drops to 0), so
         * it is reaped then; the rounds between only keep a zombie from
         * lasting (a waitpid a round is a syscall a sample) */
        if (child > 0 && !*child_exited
            && (live == 0 || info->ticks_taken % REAP_EVERY == 0)) {
            int status = reap(child, 0, child_exited);
            if (*child_exited) {
                *child_status = status;
            }
        }
        if (live == 0 && (child <= 0 || *child_exited)) {
            break;
        }
        now = monotonic_ns();
        int64_t next = pyprof_schedule_next(&schedule, now);
        if (limit && next > limit) {
            next = limit;
        }
        if (next > now) {
            sleep_until(next);
            now = next;
        }
    }
    int64_t end = monotonic_ns();
    if (limit && end > limit) {
        end = limit;
    }
    info->duration_ns = end - start;
    /* the deadlines that fell in the recording, the one at its start
     * included (rate x duration undercounts by that one when the
     * target's exit ends the recording with a sample: "2 of 1") */
    info->ticks_expected =
        (int64_t)pyprof_schedule_finish(&schedule, start + info->duration_ns);
    info->errors = pyprof_session_errors(session);
    *missed = (int64_t)schedule.missed;
    *cpu_ns = thread_cpu_ns() - cpu_start;
}

/* Render the recording in the chosen format into `sink`. */
static int
render(pyprof_recording_t *rec, format_t format, const char *title,
       pyprof_sink_t *sink)
{
    if (format == FORMAT_PYPROF) {
        return pyprof_recording_serialize(rec, sink);
    }
    if (format == FORMAT_PPROF) {
        return pyprof_export_pprof_recording(sink, rec);
    }
    pyprof_stats_t *stats;
    pyprof_pathtree_t tree;
    int rc = format == FORMAT_COLLAPSED
             ? pyprof_recording_export_counts(rec, &stats, &tree)
             : pyprof_recording_export(rec, &stats, &tree);
    if (rc < 0) {
        return -1;
    }
    rc = pyprof_tree_format_write(sink, (pyprof_tree_format_t)format, stats,
                                  &tree, title);
    pyprof_stats_free(stats);
    pyprof_pathtree_free(&tree);
    return rc;
}

static int
write_output(pyprof_recording_t *rec, const record_options_t *opts,
             const char *title)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    int rc;
    if (opts->output == NULL) {
        rc = pyprof_sample_table(&sink, rec, 25);
        if (rc == 0 && !pyprof_sink_failed(&sink)) {
            fwrite(sink.data, 1, sink.len, stdout);
            fflush(stdout);
        }
    }
    else {
        format_t format = opts->format;
        rc = render(rec, format, title, &sink);
        char errbuf[512];
        if (rc == 0 && !pyprof_sink_failed(&sink)
            && pyprof_output_write(opts->output, sink.data ? sink.data : "",
                                   sink.len, errbuf, sizeof(errbuf)) < 0) {
            fprintf(stderr, "pyprof record: cannot write %s\n", errbuf);
            rc = -2;
        }
    }
    if (rc == -1 || pyprof_sink_failed(&sink)) {
        fprintf(stderr, "pyprof record: out of memory\n");
        rc = -1;
    }
    pyprof_sink_free_buffer(&sink);
    return rc < 0 ? -1 : 0;
}

static void
print_summary(pyprof_recording_t *rec, pyprof_session_t *session,
              const record_options_t *opts, int64_t cpu_ns, int64_t missed)
{
    const pyprof_recording_info_t *info = pyprof_recording_info(rec);
    double taken = info->ticks_expected > 0
        ? 100.0 * (double)info->ticks_taken / (double)info->ticks_expected
        : 0.0;
    int64_t samples = pyprof_recording_samples(rec);
    fprintf(stderr, "pyprof record: %lld sample%s in %.2f s from %d "
            "process%s at %g Hz: %lld of %lld expected sampling rounds "
            "(%.1f%%, %lld missed by late wake-ups), %lld error%s, "
            "sampler CPU %.3f s%s%s\n",
            (long long)samples, samples == 1 ? "" : "s",
            (double)info->duration_ns / 1e9,
            pyprof_session_process_count(session),
            pyprof_session_process_count(session) == 1 ? "" : "es",
            opts->rate, (long long)info->ticks_taken,
            (long long)info->ticks_expected, taken,
            (long long)missed, (long long)info->errors,
            info->errors == 1 ? "" : "s", (double)cpu_ns / 1e9,
            opts->output ? "; wrote " : "",
            opts->output ? opts->output : "");
    if (samples == 0 && info->ticks_taken > 0) {
        fprintf(stderr, "pyprof record: warning: no samples: %s\n",
                opts->flags & PYPROF_RECORD_GIL
                    ? "no thread was seen holding the GIL (its holder may "
                      "be unknown on this version; drop --gil)"
                    : opts->flags & PYPROF_RECORD_IDLE
                    ? "no thread had a Python stack"
                    : "no thread ran Python code on a CPU (try --idle)");
    }
}

int
pyprof_cmd_record(int argc, char **argv)
{
    record_options_t opts;
    int rc = parse_options(argc, argv, &opts);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    if (opts.output != NULL && check_output_format(&opts) != 0) {
        return 2;
    }
    char errbuf[512];
    if (opts.output != NULL
        && pyprof_output_check(opts.output, errbuf, sizeof(errbuf)) < 0) {
        fprintf(stderr, "pyprof record: cannot write %s\n", errbuf);
        return 1;
    }
    int missing_status = 1;
    if (opts.pid == 0 && opts.command == NULL
        && pyprof_runner_program_missing(&opts.target, &missing_status)) {
        return missing_status;  /* what the child would print; no child */
    }
    pyprof_recording_t *rec = pyprof_recording_new();
    pyprof_session_t *session = rec ? pyprof_session_new(rec, opts.flags)
                                    : NULL;
    if (session == NULL) {
        fprintf(stderr, "pyprof record: out of memory\n");
        pyprof_recording_free(rec);
        return 1;
    }
    pyprof_recording_info(rec)->rate_hz = opts.rate;
    pyprof_recording_info(rec)->flags = opts.flags;
    pid_t child = 0;
    pyprof_child_site_t site = {NULL, NULL};
    int child_exited = 0, child_status = 0, status = 0;
    char title[300];
    if (opts.pid != 0) {
        snprintf(title, sizeof(title), "pid %ld", opts.pid);
    }
    else {
        char **cargv = child_argv(&opts);
        if (cargv == NULL) {
            pyprof_session_free(session);
            pyprof_recording_free(rec);
            return 1;
        }
        snprintf(title, sizeof(title), "%s", opts.command != NULL
                 ? opts.command[0] : opts.target.name);
        prepare_child_site(&site, cargv);
        child = start_child(cargv, pyprof_child_site_environ(&site));
        free(cargv[0]);
        free(cargv);
        if (child < 0) {
            pyprof_child_site_remove(&site);
            pyprof_session_free(session);
            pyprof_recording_free(rec);
            return 127;
        }
    }
    struct sigaction stop_action, old_int, old_term;
    memset(&stop_action, 0, sizeof(stop_action));
    stop_action.sa_handler = on_stop_signal;
    sigemptyset(&stop_action.sa_mask);
    stop_requested = 0;
    sigaction(SIGINT, &stop_action, &old_int);
    sigaction(SIGTERM, &stop_action, &old_term);
    pid_t target = opts.pid != 0 ? (pid_t)opts.pid : child;
    int attach = pyprof_session_attach(session, target,
                                       child > 0 ? 10000 : 1000, errbuf,
                                       sizeof(errbuf));
    if (attach != 0 && child > 0) {
        /* a short program can end before it is read (on a loaded machine
         * its whole run fits in the attach's first tries): that is its
         * own exit, not an error of pyprof's */
        int code = reap(child, 0, &child_exited);
        if (child_exited) {
            child_status = code;
        }
    }
    if (attach != 0 && child_exited) {
        /* an empty file where one was asked for; no empty table on the
         * program's stdout */
        if (opts.output != NULL && write_output(rec, &opts, title) < 0) {
            status = 1;
        }
        fprintf(stderr, "pyprof record: warning: no samples: the program "
                "exited (status %d) before it could be read%s%s\n",
                child_status, opts.output ? "; wrote " : "",
                opts.output ? opts.output : "");
    }
    else if (attach != 0 && !(child > 0 && (opts.flags
                                            & PYPROF_RECORD_SUBPROCESSES))) {
        fprintf(stderr, "pyprof record: %s\n", errbuf);
        status = 1;
    }
    else {
        int64_t cpu_ns = 0, missed = 0;
        sample_loop(session, rec, &opts, child, &child_exited, &child_status,
                    &cpu_ns, &missed);
        if (write_output(rec, &opts, title) < 0) {
            status = 1;
        }
        print_summary(rec, session, &opts, cpu_ns, missed);
    }
    pyprof_session_free(session);
    pyprof_recording_free(rec);
    if (child > 0) {
        int code = child_exited ? child_status
                                : reap(child, 1, &child_exited);
        if (status == 0) {
            status = code;
        }
    }
    pyprof_child_site_remove(&site);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return status;
}
