/* progress.c - what a long command is doing, on a terminal only (see
 * progress.h).  The status line is "\r" + text + "erase to end of line",
 * so a shorter text leaves nothing of a longer one; a note first erases
 * the status line, then the status line comes back at its next redraw.
 *
 * The program writes to the same terminal (its stderr is ours, its
 * stdout often is too), and a status line left on screen while it runs
 * would be glued to the front of its next line.  Erasing the line before
 * each run of a quiet program would show it only between runs: a flash.
 * So the process's own count of bytes written (/proc/self/io's wchar) is
 * compared with what it was after our last write: once anyone else wrote
 * in between -- the program -- the line is drawn only while the program
 * is paused (between runs, during a census) and erased before it resumes;
 * while it runs none is drawn and none is erased (that would erase the
 * program's text).  Notes are whole lines: they interleave with nothing.
 */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ERASE_LINE "\r\033[K"

/* Bytes this process has passed to write() so far, or -1 when the kernel
 * does not say. */
static long long
bytes_written(void)
{
    FILE *io = fopen("/proc/self/io", "r");
    if (io == NULL) {
        return -1;
    }
    char line[128];
    long long written = -1;
    while (fgets(line, sizeof(line), io) != NULL) {
        if (strncmp(line, "wchar:", 6) == 0) {
            written = strtoll(line + 6, NULL, 10);
            break;
        }
    }
    fclose(io);
    return written;
}

/* Remember how much was written, after a write of ours. */
static void
mark_written(pyprof_progress_t *progress)
{
    if (progress->watch_program) {
        progress->written = bytes_written();
    }
}

/* Non-zero when something besides us has written since we watch.  When
 * it wrote after our last write, a line of ours on screen is no longer
 * ours to erase (the program's text follows it, or is on it). */
static int
others_wrote(pyprof_progress_t *progress)
{
    if (!progress->watch_program) {
        return 0;
    }
    long long now = bytes_written();
    if (now >= 0 && progress->written >= 0 && now != progress->written) {
        progress->others_write = 1;
        progress->line_shown = 0;
        progress->written = now;
    }
    return progress->others_write;
}

void
pyprof_progress_init(pyprof_progress_t *progress, const char *command,
                     pyprof_ns_t delay_ns)
{
    progress->command = command;
    progress->enabled = isatty(STDERR_FILENO);
    progress->line_shown = 0;
    progress->quiet_until = pyprof_clock_read_ns(CLOCK_MONOTONIC) + delay_ns;
    progress->last_drawn = 0;
    progress->others_write = 0;
    progress->program_paused = 0;
    progress->watch_program = 0;
    progress->written = -1;
}

void
pyprof_progress_watch_program(pyprof_progress_t *progress)
{
    progress->watch_program = progress->enabled;
    mark_written(progress);
}

void
pyprof_progress_program_paused(pyprof_progress_t *progress)
{
    progress->program_paused = 1;
}

void
pyprof_progress_program_resumes(pyprof_progress_t *progress)
{
    progress->program_paused = 0;
    if (others_wrote(progress)) {
        pyprof_progress_clear(progress);
    }
}

int
pyprof_progress_enabled(const pyprof_progress_t *progress)
{
    return progress->enabled;
}

void
pyprof_progress_clear(pyprof_progress_t *progress)
{
    if (!progress->enabled) {
        return;
    }
    others_wrote(progress);     /* forgets a line the program wrote after */
    if (progress->line_shown) {
        fputs(ERASE_LINE, stderr);
        fflush(stderr);
        progress->line_shown = 0;
        mark_written(progress);
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
    mark_written(progress);
}

void
pyprof_progress_new_phase(pyprof_progress_t *progress)
{
    progress->last_drawn = 0;
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
    if (others_wrote(progress) && !progress->program_paused) {
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
    mark_written(progress);
}
