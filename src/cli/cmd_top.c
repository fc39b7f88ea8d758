/* cmd_top.c - `pyprof top --pid PID`: functions by their share of the
 * samples, redrawn every second, like `py-spy top`.
 *
 * Each interval samples into a fresh recording (sample_session.h), whose
 * rows (report/sample_table.h) are drawn over the previous screen.  On a
 * terminal the keyboard is put in raw mode (no echo, no line buffering)
 * so `q` quits at once; the terminal's mode and cursor are restored on
 * every way out: q, Ctrl-C (SIGINT), SIGTERM, SIGHUP, the target's exit.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/recording.h"
#include "../report/paths.h"
#include "../report/sample_table.h"
#include "../sampler/schedule.h"
#include "cmd_top.h"
#include "options.h"
#include "sample_session.h"

static const char usage[] =
    "usage: pyprof top --pid PID [--rate HZ] [--idle] [--gil]\n";

static const char help_text[] =
    "\n"
    "Show what a running Python program is doing, live: its functions by\n"
    "their share of the samples over the last second (own: the innermost\n"
    "frame; total: anywhere on the stack).  Press q to quit.\n"
    "\n"
    "options:\n"
    "  -p, --pid PID  the process to watch\n"
    "  -r, --rate HZ  samples per second (default 100)\n"
    "  --idle         count threads that are not running on a CPU too\n"
    "  --gil          count only the thread holding the GIL\n"
    "  -h, --help     show this help\n";

static volatile sig_atomic_t quit_requested;    /* set by signal handlers,
                                                   read by the loop */

static void
on_quit_signal(int signo)
{
    (void)signo;
    quit_requested = 1;
}

typedef struct {
    int raw;                    /* the keyboard is in raw mode */
    struct termios saved;
    int screen;                 /* stdout is a terminal: redraw in place */
} terminal_t;

static void
terminal_enter(terminal_t *term)
{
    memset(term, 0, sizeof(*term));
    term->screen = isatty(STDOUT_FILENO);
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &term->saved) == 0) {
        struct termios raw = term->saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        term->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    if (term->screen) {
        fputs("\033[?25l\033[2J", stdout);     /* hide cursor, clear */
        fflush(stdout);
    }
}

static void
terminal_leave(terminal_t *term)
{
    if (term->raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &term->saved);
    }
    if (term->screen) {
        fputs("\033[?25h\n", stdout);          /* show the cursor */
        fflush(stdout);
    }
}

/* Non-zero when q (or Q) was typed. */
static int
quit_key(const terminal_t *term)
{
    if (!term->raw) {
        return 0;
    }
    struct pollfd in = {STDIN_FILENO, POLLIN, 0};
    while (poll(&in, 1, 0) > 0 && (in.revents & POLLIN)) {
        char c;
        if (read(STDIN_FILENO, &c, 1) != 1) {
            return 0;
        }
        if (c == 'q' || c == 'Q') {
            return 1;
        }
    }
    return 0;
}

static int
screen_rows(void)
{
    struct winsize size;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 6) {
        return size.ws_row;
    }
    return 40;
}

static void
draw(const terminal_t *term, const pyprof_recording_t *rec, long pid,
     double rate, double seconds)
{
    pyprof_stats_t *stats;
    pyprof_pathtree_t tree;
    if (pyprof_recording_export(rec, &stats, &tree) < 0) {
        return;
    }
    pyprof_pathtree_free(&tree);
    size_t nrows = 0;
    pyprof_sample_row_t *rows = pyprof_sample_rows(stats, &nrows);
    long long samples = (long long)pyprof_recording_samples(rec);
    if (term->screen) {
        fputs("\033[H", stdout);
    }
    printf("pyprof top: pid %ld, %lld samples in %.1f s at %g Hz "
           "(press q to quit)\033[K\n\033[K\n", pid, samples, seconds, rate);
    printf("  %%Own %%Total  Function (file:line)\033[K\n");
    int room = term->screen ? screen_rows() - 4 : 30;
    double whole = samples > 0 ? (double)samples : 1.0;
    for (size_t i = 0; rows != NULL && i < nrows && (int)i < room; i++) {
        const pyprof_func_t *f = pyprof_stats_get(stats, rows[i].func);
        char *label = pyprof_paths_label(f);
        printf("%6.1f %6.1f  %s\033[K\n", 100.0 * (double)rows[i].own / whole,
               100.0 * (double)rows[i].total / whole,
               label ? label : f->funcname);
        free(label);
    }
    if (term->screen) {
        fputs("\033[J", stdout);                /* clear the rest */
    }
    else {
        putchar('\n');
    }
    fflush(stdout);
    free(rows);
    pyprof_stats_free(stats);
}

/* The sampling loop's clock (what sampler/schedule.h's deadlines are
 * in). */
static int64_t
monotonic_ns(void)
{
    return pyprof_clock_read_ns(CLOCK_MONOTONIC);
}

/* Sample for one interval (absolute deadlines, late ones caught up:
 * sampler/schedule.h); returns the number of live targets. */
static int
sample_interval(pyprof_session_t *session, const terminal_t *term,
                double rate)
{
    int64_t start = monotonic_ns();
    pyprof_schedule_t schedule;
    pyprof_schedule_init(&schedule, start, (int64_t)(1e9 / rate), 0);
    int live = 1;
    while (!quit_requested && monotonic_ns() - start < 1000000000) {
        live = pyprof_session_sample(session);
        if (live == 0 || quit_key(term)) {
            if (live != 0) {
                quit_requested = 1;
            }
            break;
        }
        int64_t now = monotonic_ns();
        int64_t next = pyprof_schedule_next(&schedule, now);
        if (next > now) {
            struct timespec deadline = {(time_t)(next / 1000000000),
                                        (long)(next % 1000000000)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
        }
    }
    return live;
}

static int
parse_options(int argc, char **argv, long *pid, double *rate,
              unsigned *flags)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof top", argc, argv);
    *pid = 0;
    *rate = 100.0;
    *flags = 0;
    while (pyprof_options_current(&scan) != NULL) {
        const char *value;
        int rc;
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 1;
        }
        else if (pyprof_options_flag(&scan, NULL, "--idle")) {
            *flags |= PYPROF_RECORD_IDLE;
        }
        else if (pyprof_options_flag(&scan, NULL, "--gil")) {
            *flags |= PYPROF_RECORD_GIL;
        }
        else if ((rc = pyprof_options_value(&scan, "-p", "--pid",
                                            &value)) != 0) {
            if (rc < 0 || pyprof_options_parse_long(&scan, "--pid", value, 1,
                                                    INT_MAX, pid) < 0) {
                return 2;
            }
        }
        else if ((rc = pyprof_options_value(&scan, "-r", "--rate",
                                            &value)) != 0) {
            long hz;
            if (rc < 0 || pyprof_options_parse_long(&scan, "--rate", value, 1,
                                                    10000, &hz) < 0) {
                return 2;
            }
            *rate = (double)hz;
        }
        else {
            pyprof_options_unknown(&scan);
            return 2;
        }
    }
    if (*pid == 0) {
        fprintf(stderr, "pyprof top: --pid is required\n%s", usage);
        return 2;
    }
    return 0;
}

int
pyprof_cmd_top(int argc, char **argv)
{
    long pid;
    double rate;
    unsigned flags;
    int rc = parse_options(argc, argv, &pid, &rate, &flags);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    pyprof_recording_t *rec = pyprof_recording_new();
    pyprof_session_t *session = rec ? pyprof_session_new(rec, flags) : NULL;
    char errbuf[512];
    if (session == NULL) {
        fprintf(stderr, "pyprof top: out of memory\n");
        pyprof_recording_free(rec);
        return 1;
    }
    if (pyprof_session_attach(session, (pid_t)pid, 1000, errbuf,
                              sizeof(errbuf)) != 0) {
        fprintf(stderr, "pyprof top: %s\n", errbuf);
        pyprof_session_free(session);
        pyprof_recording_free(rec);
        return 1;
    }
    struct sigaction quit_action, old[3];
    int signals[3] = {SIGINT, SIGTERM, SIGHUP};
    memset(&quit_action, 0, sizeof(quit_action));
    quit_action.sa_handler = on_quit_signal;
    sigemptyset(&quit_action.sa_mask);
    quit_requested = 0;
    for (int i = 0; i < 3; i++) {
        sigaction(signals[i], &quit_action, &old[i]);
    }
    terminal_t term;
    terminal_enter(&term);
    int status = 0;
    while (!quit_requested) {
        pyprof_recording_t *interval = pyprof_recording_new();
        if (interval == NULL) {
            status = 1;
            break;
        }
        pyprof_recording_info(interval)->rate_hz = rate;
        pyprof_session_set_recording(session, interval);
        int64_t start = monotonic_ns();
        int live = sample_interval(session, &term, rate);
        if (!quit_requested) {
            draw(&term, interval, pid, rate,
                 (double)(monotonic_ns() - start) / 1e9);
        }
        pyprof_session_set_recording(session, rec);
        pyprof_recording_free(interval);
        if (live == 0) {
            terminal_leave(&term);
            term.raw = term.screen = 0;
            fprintf(stderr, "pyprof top: process %ld exited\n", pid);
            break;
        }
    }
    terminal_leave(&term);
    for (int i = 0; i < 3; i++) {
        sigaction(signals[i], &old[i], NULL);
    }
    pyprof_session_free(session);
    pyprof_recording_free(rec);
    return status;
}
