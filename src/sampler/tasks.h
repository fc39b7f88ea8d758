/* tasks.h - what the kernel says about the target's threads.
 *
 * A thread's name (/proc/PID/task/TID/comm) and whether it is on a CPU
 * (state R in /proc/PID/task/TID/stat).  The stat file of each thread is
 * kept open, so a sample costs one pread per thread; entries of threads
 * not seen for a while are dropped.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_TASKS_H
#define PYPROF_SAMPLER_TASKS_H

#include <stdint.h>
#include <sys/types.h>

#define PYPROF_TASK_NAME_MAX 64

typedef struct {
    long tid;
    int stat_fd;             /* -1 until first needed */
    int name_read;
    uint64_t last_seen;      /* the sample that last saw the thread */
    int running_before;      /* state read before a blocking sample
                                stopped the thread (stopped reads 't') */
    char name[PYPROF_TASK_NAME_MAX];
} pyprof_task_t;

typedef struct {
    pid_t pid;
    pyprof_task_t *tasks;
    size_t count, capacity;
} pyprof_tasks_t;

void pyprof_tasks_init(pyprof_tasks_t *tasks, pid_t pid);
void pyprof_tasks_clear(pyprof_tasks_t *tasks);

/* The entry of `tid`, created when new; NULL when out of memory. */
pyprof_task_t *pyprof_tasks_get(pyprof_tasks_t *tasks, long tid,
                                uint64_t sample);

/* The entry of `tid` when there is one (not created), else NULL. */
pyprof_task_t *pyprof_tasks_find(pyprof_tasks_t *tasks, long tid);

/* The thread's name, read now when `fresh` or never read ("" if it cannot
 * be read). */
const char *pyprof_tasks_name(pyprof_tasks_t *tasks, pyprof_task_t *task,
                              int fresh);

/* 1 when the thread is running or runnable, 0 when not, -1 unknown. */
int pyprof_tasks_running(pyprof_tasks_t *tasks, pyprof_task_t *task);

/* 1 when /proc/PID/task/TID exists. */
int pyprof_tasks_exists(pid_t pid, long tid);

/* Drop entries not seen since sample `oldest`. */
void pyprof_tasks_prune(pyprof_tasks_t *tasks, uint64_t oldest);

#endif
