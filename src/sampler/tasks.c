/* tasks.c - per-thread /proc reads of the target (see tasks.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tasks.h"

#define MAX_TASKS 65536

void
pyprof_tasks_init(pyprof_tasks_t *tasks, pid_t pid)
{
    memset(tasks, 0, sizeof(*tasks));
    tasks->pid = pid;
}

void
pyprof_tasks_clear(pyprof_tasks_t *tasks)
{
    for (size_t i = 0; i < tasks->count; i++) {
        if (tasks->tasks[i].stat_fd >= 0) {
            close(tasks->tasks[i].stat_fd);
        }
    }
    free(tasks->tasks);
    tasks->tasks = NULL;
    tasks->count = tasks->capacity = 0;
}

pyprof_task_t *
pyprof_tasks_find(pyprof_tasks_t *tasks, long tid)
{
    for (size_t i = 0; i < tasks->count; i++) {
        if (tasks->tasks[i].tid == tid) {
            return &tasks->tasks[i];
        }
    }
    return NULL;
}

pyprof_task_t *
pyprof_tasks_get(pyprof_tasks_t *tasks, long tid, uint64_t sample)
{
    for (size_t i = 0; i < tasks->count; i++) {
        if (tasks->tasks[i].tid == tid) {
            tasks->tasks[i].last_seen = sample;
            return &tasks->tasks[i];
        }
    }
    if (tasks->count == tasks->capacity) {
        size_t capacity = tasks->capacity ? tasks->capacity * 2 : 16;
        if (capacity > MAX_TASKS) {
            return NULL;
        }
        pyprof_task_t *grown =
            realloc(tasks->tasks, capacity * sizeof(*grown));
        if (grown == NULL) {
            return NULL;
        }
        tasks->tasks = grown;
        tasks->capacity = capacity;
    }
    pyprof_task_t *task = &tasks->tasks[tasks->count++];
    memset(task, 0, sizeof(*task));
    task->tid = tid;
    task->stat_fd = -1;
    task->last_seen = sample;
    return task;
}

static int
open_task_file(pid_t pid, long tid, const char *file)
{
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task/%ld/%s", (int)pid, tid,
             file);
    return open(path, O_RDONLY | O_CLOEXEC);
}

const char *
pyprof_tasks_name(pyprof_tasks_t *tasks, pyprof_task_t *task, int fresh)
{
    if (task->name_read && !fresh) {
        return task->name;
    }
    task->name_read = 1;
    if (tasks->pid <= 0 || task->tid <= 0) {
        task->name[0] = '\0';
        return task->name;
    }
    int fd = open_task_file(tasks->pid, task->tid, "comm");
    if (fd < 0) {
        task->name[0] = '\0';
        return task->name;
    }
    ssize_t got = read(fd, task->name, sizeof(task->name) - 1);
    close(fd);
    if (got < 0) {
        got = 0;
    }
    task->name[got] = '\0';
    char *newline = strchr(task->name, '\n');
    if (newline) {
        *newline = '\0';
    }
    return task->name;
}

int
pyprof_tasks_running(pyprof_tasks_t *tasks, pyprof_task_t *task)
{
    if (tasks->pid <= 0 || task->tid <= 0) {
        return -1;
    }
    if (task->stat_fd < 0) {
        task->stat_fd = open_task_file(tasks->pid, task->tid, "stat");
        if (task->stat_fd < 0) {
            return -1;
        }
    }
    char buf[512];
    ssize_t got = pread(task->stat_fd, buf, sizeof(buf) - 1, 0);
    if (got <= 0) {
        close(task->stat_fd);
        task->stat_fd = -1;
        return -1;
    }
    buf[got] = '\0';
    /* "tid (comm) S ...": comm may hold ')' and spaces; the state follows
     * the last ')' */
    char *close_paren = strrchr(buf, ')');
    if (close_paren == NULL || close_paren[1] != ' ') {
        return -1;
    }
    return close_paren[2] == 'R';
}

int
pyprof_tasks_exists(pid_t pid, long tid)
{
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task/%ld", (int)pid, tid);
    return access(path, F_OK) == 0;
}

void
pyprof_tasks_prune(pyprof_tasks_t *tasks, uint64_t oldest)
{
    size_t kept = 0;
    for (size_t i = 0; i < tasks->count; i++) {
        pyprof_task_t *task = &tasks->tasks[i];
        if (task->last_seen < oldest) {
            if (task->stat_fd >= 0) {
                close(task->stat_fd);
            }
            continue;
        }
        tasks->tasks[kept++] = *task;
    }
    tasks->count = kept;
}
