/* progress.h - what a long command is doing, on a terminal only.
 *
 * `pyprof time` runs a program dozens or thousands of times, `pyprof heap`
 * takes a census per call, `pyprof view` of a big profile renders for
 * seconds.  When stderr is a terminal, these say so as they go: notes
 * (whole lines that stay) and a status line redrawn in place ("run 12 of
 * 70"), at most every PYPROF_PROGRESS_REDRAW_NS and erased when the work
 * is done.  When stderr is not a terminal (a pipe, a file, a test)
 * nothing at all is printed, so scripts see the same output as before.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_PROGRESS_H
#define PYPROF_PROGRESS_H

#include "../core/clock.h"

#define PYPROF_PROGRESS_REDRAW_NS (PYPROF_NS_PER_SEC / 10)

typedef struct {
    const char *command;    /* "pyprof time": each line starts with it */
    int enabled;            /* stderr is a terminal */
    int line_shown;         /* a status line is on screen */
    pyprof_ns_t quiet_until;    /* no status line before this time */
    pyprof_ns_t last_drawn;     /* when the status line was drawn */
    long long written;      /* bytes the process had written after our
                               last write (-1: unknown) */
    int watch_program;      /* pyprof_progress_watch_program was called */
    int others_write;       /* the program has written since we watch */
    int program_paused;     /* pyprof_progress_program_paused: the line
                               may be drawn whatever the program wrote */
} pyprof_progress_t;

/* Start reporting for `command` (borrowed; must outlive *progress).  A
 * status line appears only once `delay_ns` has passed, so quick work
 * shows none; notes are printed at once. */
void pyprof_progress_init(pyprof_progress_t *progress, const char *command,
                          pyprof_ns_t delay_ns);

/* A program runs between the updates, writing where it likes -- to the
 * terminal too.  While it runs (from pyprof_progress_program_resumes to
 * pyprof_progress_program_paused, and from this call until the first
 * pause), a status line is drawn only as long as it has written nothing
 * since our last write (a process cannot tell where it wrote), and what is
 * on screen is not erased: the line never sticks to the front of the
 * program's lines.  While it is paused the line is drawn whatever it
 * wrote, and erased again when it resumes if it has ever written, so it
 * never mixes with the program's output (a quiet program's line stays,
 * redrawn in place, and does not flash).  Call after init, before the
 * program first runs. */
void pyprof_progress_watch_program(pyprof_progress_t *progress);

/* The program stops running until pyprof_progress_program_resumes (between
 * two runs of `time`, during a census of `heap`). */
void pyprof_progress_program_paused(pyprof_progress_t *progress);

/* The program runs again: a status line drawn while it was paused is
 * erased if the program writes. */
void pyprof_progress_program_resumes(pyprof_progress_t *progress);

/* Non-zero when anything will be shown (stderr is a terminal). */
int pyprof_progress_enabled(const pyprof_progress_t *progress);

/* A line that stays: "COMMAND: text". */
void pyprof_progress_note(pyprof_progress_t *progress, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Redraw the status line as "COMMAND: text", unless it was drawn less
 * than PYPROF_PROGRESS_REDRAW_NS ago (or the delay has not passed) and
 * `force` is 0. */
void pyprof_progress_status(pyprof_progress_t *progress, int force,
                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Erase the status line, if one is shown (before printing results, or
 * before anything else is written to the terminal). */
void pyprof_progress_clear(pyprof_progress_t *progress);

/* A new phase of the work begins ("drawing the report" after "reading"):
 * its first status line is drawn at once, not held back by the redraw
 * limit, which is for a counter redrawn in place (still not before the
 * delay of pyprof_progress_init). */
void pyprof_progress_new_phase(pyprof_progress_t *progress);

#endif
