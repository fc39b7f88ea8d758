/* progress.c - what a long command is doing, on a terminal only (see
 * progress.h).  The status line is "\r" + text + "erase to end of line",
 * so a shorter text leaves nothing of a longer one; a note first erases
 * the status line, then the status line comes back at its next redraw. */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define ERASE_LINE "\r\033[K"

void
pyprof_progress_init(pyprof_progress_t *progress, const char *command,
                     pyprof_ns_t delay_ns)
{
    progress->command = command;
    progress->enabled = isatty(STDERR_FILENO);
    progress->line_shown = 0;
    progress->quiet_until = pyprof_clock_read_ns(CLOCK_MONOTONIC) + delay_ns;
    progress->last_drawn = 0;
}

int
pyprof_progress_enabled(const pyprof_progress_t *progress)
{
    return progress->enabled;
}

void
pyprof_progress_clear(pyprof_progress_t *progress)
{
    if (progress->enabled && progress->line_shown) {
        fputs(ERASE_LINE, stderr);
        fflush(stderr);
        progress->line_shown = 0;
    }
}

void
pyprof_progress_note(pyprof_progress_t *progress, const char *fmt, ...)
{
    if (!progress->enabled) {
        return;
    }
    pyprof_progress_clear(progress);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", progress->command);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
}

void
pyprof_progress_status(pyprof_progress_t *progress, int force,
                       const char *fmt, ...)
{
    if (!progress->enabled) {
        return;
    }
    pyprof_ns_t now = pyprof_clock_read_ns(CLOCK_MONOTONIC);
    if (!force && (now < progress->quiet_until ||
                   now - progress->last_drawn < PYPROF_PROGRESS_REDRAW_NS)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, ERASE_LINE "%s: ", progress->command);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    progress->line_shown = 1;
    progress->last_drawn = now;
}
