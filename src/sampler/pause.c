/* pause.c - PTRACE_SEIZE + PTRACE_INTERRUPT per thread (see pause.h). */
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "pause.h"
#include "sampler.h"

/* Wait until `tid` reports its ptrace stop.  0, or -1 when it exited. */
static int
wait_stopped(long tid)
{
    for (;;) {
        int status;
        pid_t got = waitpid((pid_t)tid, &status, __WALL);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            return -1;
        }
        if (WIFSTOPPED(status)) {
            return 0;
        }
    }
}

int
pyprof_pause_threads(pid_t pid, const long *tids, size_t n, long *paused,
                     size_t *npaused)
{
    (void)pid;
    *npaused = 0;
    for (size_t i = 0; i < n; i++) {
        long tid = tids[i];
        if (ptrace(PTRACE_SEIZE, (pid_t)tid, 0, 0) < 0) {
            if (errno == ESRCH) {
                continue; /* the thread exited */
            }
            int refused = errno == EPERM || errno == EACCES;
            pyprof_resume_threads(paused, *npaused);
            *npaused = 0;
            return refused ? PYPROF_SAMPLER_PERMISSION
                           : PYPROF_SAMPLER_INCONSISTENT;
        }
        if (ptrace(PTRACE_INTERRUPT, (pid_t)tid, 0, 0) < 0
            || wait_stopped(tid) < 0) {
            ptrace(PTRACE_DETACH, (pid_t)tid, 0, 0);
            continue;
        }
        paused[(*npaused)++] = tid;
    }
    return 0;
}

void
pyprof_resume_threads(const long *paused, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ptrace(PTRACE_DETACH, (pid_t)paused[i], 0, 0);
    }
}
