/* child_site.h - the `profile` builtin for a program pyprof record starts.
 *
 * record samples its child from outside: the child is plain python, with
 * no pyprof frames under the program.  It still gets the pass-through
 * `profile` builtin every pyprof command gives (issue #13) through a
 * sitecustomize.py shim (python/pyprof/_child_site.py) copied alone into a
 * fresh directory put first on the child's PYTHONPATH; the user's
 * PYTHONPATH, if set, is kept in a file beside it, and the shim restores it
 * in the child's os.environ, takes its directory off sys.path and imports
 * the real sitecustomize.  A Python started with -S, -I or -E would not run
 * the shim but would see PYTHONPATH: such a command gets nothing.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_CHILD_SITE_H
#define PYPROF_CHILD_SITE_H

#include <stddef.h>

typedef struct {
    char *dir;      /* the shim's directory (malloc'd), NULL if none */
    char **env;     /* the child's environment (malloc'd array, only its
                       PYTHONPATH= string owned), NULL: environ as it is */
} pyprof_child_site_t;

/* Non-zero when argv (the command record starts) is a python run with -S,
 * -I or -E before its program: one that would not import the shim, or not
 * see it, but whose os.environ would show PYTHONPATH.  Commands not named
 * python* are given the shim (a Python they start picks it up). */
int pyprof_child_site_refused(char *const *argv);

/* Make the shim's directory from the file at `shim_path` and the child's
 * environment from `environ`.  0, or -1 with a message in errbuf (nothing
 * left behind). */
int pyprof_child_site_prepare(pyprof_child_site_t *site,
                              const char *shim_path, char *errbuf,
                              size_t errlen);

/* The environment to exec the child with: site->env, or environ. */
char **pyprof_child_site_environ(const pyprof_child_site_t *site);

/* Remove the directory (and the __pycache__ the child wrote in it) and
 * free what prepare allocated; a site never prepared is left alone. */
void pyprof_child_site_remove(pyprof_child_site_t *site);

#endif
