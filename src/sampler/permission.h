/* permission.h - why the target's memory may not be read, in one line.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_PERMISSION_H
#define PYPROF_SAMPLER_PERMISSION_H

#include <stddef.h>
#include <sys/types.h>

/* Write into err[0..errlen) the actual cause of a refused read of pid's
 * memory and its fix: another user's process, the Yama ptrace_scope (and
 * its value), a missing CAP_SYS_PTRACE (inside a container or not). */
void pyprof_permission_explain(pid_t pid, char *err, size_t errlen);

#endif
