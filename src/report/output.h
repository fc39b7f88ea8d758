/* output.h - write a finished report where the user asked.
 *
 * Reports are rendered into a memory sink first, then written whole: to
 * stdout for "-", else through a temporary file renamed over the target,
 * so a failed write never leaves half a report behind.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_OUTPUT_H
#define PYPROF_OUTPUT_H

#include <stddef.h>

/* Write len bytes of data to `path` ("-" for stdout).  Returns 0, or -1
 * with "PATH: reason" in errbuf. */
int pyprof_output_write(const char *path, const char *data, size_t len,
                        char *errbuf, size_t errlen);

#endif
