/* child_site.c - the sitecustomize shim that gives record's child the
 * `profile` builtin (see child_site.h).
 *
 * Why a shim on PYTHONPATH: the builtin must exist before the program's
 * first line, inside a process pyprof only samples, and on whatever Python
 * the command names (3.10-3.15, not pyprof's own).  Start-up code that a
 * stock python runs from an environment variable is sitecustomize (via
 * PYTHONPATH) or a .pth file (only in a site directory, which pyprof must
 * not write to); a wrapper script (`python -c bootstrap script.py`) would
 * leave its frames under the program and change sys.argv and __main__.
 * The shim runs during site's import and is gone before the program starts.
 *
 * The directory is a fresh mkdtemp under $TMPDIR (or /tmp) holding only
 * sitecustomize.py and, when the user had a PYTHONPATH, a file PYTHONPATH
 * with its bytes (an empty PYTHONPATH differs from none, and "DIR:" would
 * add the working directory to sys.path).  Left behind by a killed pyprof
 * it is inert: nothing names it once the child has started.
 */
#include "child_site.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/readfile.h"

extern char **environ;

/* Non-zero when `word` ("-XYZ", one argv word of python's options) holds
 * -S, -I or -E; *stop is set at -c/-m (what follows is the program) and
 * *skip_next when the word's last option takes the next word (-W, -X). */
static int
option_word_refused(const char *word, int *stop, int *skip_next)
{
    for (const char *c = word + 1; *c != '\0'; c++) {
        if (*c == 'S' || *c == 'I' || *c == 'E') {
            return 1;
        }
        if (*c == 'c' || *c == 'm') {
            *stop = 1;
            return 0;
        }
        if (*c == 'W' || *c == 'X') {
            *skip_next = c[1] == '\0';
            return 0;
        }
    }
    return 0;
}

int
pyprof_child_site_refused(char *const *argv)
{
    const char *slash = strrchr(argv[0], '/');
    if (strncmp(slash ? slash + 1 : argv[0], "python", 6) != 0) {
        return 0;
    }
    for (size_t i = 1; argv[i] != NULL; i++) {
        const char *word = argv[i];
        if (word[0] != '-' || word[1] == '\0' || strcmp(word, "--") == 0) {
            return 0;               /* the program starts here */
        }
        if (word[1] == '-') {        /* --check-hash-based-pycs MODE */
            if (strcmp(word, "--check-hash-based-pycs") == 0
                && argv[i + 1] != NULL) {
                i++;
            }
            continue;
        }
        int stop = 0, skip_next = 0;
        if (option_word_refused(word, &stop, &skip_next)) {
            return 1;
        }
        if (stop) {
            return 0;
        }
        if (skip_next && argv[i + 1] != NULL) {
            i++;
        }
    }
    return 0;
}

/* Write `len` bytes to dir/name.  0, or -1 with errno set. */
static int
write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name)
        >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    FILE *out = fopen(path, "wb");
    if (out == NULL) {
        return -1;
    }
    int ok = fwrite(data, 1, len, out) == len;
    int saved = errno;
    if (fclose(out) != 0 || !ok) {
        errno = ok ? errno : saved;
        return -1;
    }
    return 0;
}

/* environ with PYTHONPATH=DIR[:the user's]: a new array whose only new
 * string is that entry.  NULL when memory runs out. */
static char **
environ_with_shim(const char *dir)
{
    const char *user = getenv("PYTHONPATH");
    size_t count = 0;
    while (environ[count] != NULL) {
        count++;
    }
    char **env = calloc(count + 2, sizeof(char *));
    size_t entry_len = strlen("PYTHONPATH=") + strlen(dir)
                       + (user && *user ? 1 + strlen(user) : 0) + 1;
    char *entry = malloc(entry_len);
    if (env == NULL || entry == NULL) {
        free(env);
        free(entry);
        return NULL;
    }
    snprintf(entry, entry_len, "PYTHONPATH=%s%s%s", dir,
             user && *user ? ":" : "", user && *user ? user : "");
    size_t k = 0;
    env[k++] = entry;
    for (size_t i = 0; i < count; i++) {
        if (strncmp(environ[i], "PYTHONPATH=", 11) != 0) {
            env[k++] = environ[i];
        }
    }
    env[k] = NULL;
    return env;
}

/* Fill the fresh directory: the shim, and the user's PYTHONPATH. */
static int
fill_dir(const char *dir, const char *shim_path, char *errbuf,
         size_t errlen)
{
    size_t len;
    unsigned char *shim = pyprof_read_file(shim_path, 1 << 20, &len);
    if (shim == NULL) {
        snprintf(errbuf, errlen, "%s: %s", shim_path, strerror(errno));
        return -1;
    }
    int rc = write_file(dir, "sitecustomize.py", shim, len);
    free(shim);
    const char *user = getenv("PYTHONPATH");
    if (rc == 0 && user != NULL) {
        rc = write_file(dir, "PYTHONPATH", user, strlen(user));
    }
    if (rc < 0) {
        snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
    }
    return rc;
}

int
pyprof_child_site_prepare(pyprof_child_site_t *site, const char *shim_path,
                          char *errbuf, size_t errlen)
{
    site->dir = NULL;
    site->env = NULL;
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0') {
        tmp = "/tmp";
    }
    size_t len = strlen(tmp) + sizeof("/pyprof-record-XXXXXX");
    char *dir = malloc(len);
    if (dir == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    snprintf(dir, len, "%s/pyprof-record-XXXXXX", tmp);
    if (mkdtemp(dir) == NULL) {
        snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
        free(dir);
        return -1;
    }
    site->dir = dir;
    if (fill_dir(dir, shim_path, errbuf, errlen) < 0) {
        pyprof_child_site_remove(site);
        return -1;
    }
    site->env = environ_with_shim(dir);
    if (site->env == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        pyprof_child_site_remove(site);
        return -1;
    }
    return 0;
}

char **
pyprof_child_site_environ(const pyprof_child_site_t *site)
{
    return site->env != NULL ? site->env : environ;
}

/* Remove every file of `dir`, then `dir`; one level of subdirectories
 * (the child's __pycache__) is emptied and removed too. */
static void
remove_tree(const char *dir, int depth)
{
    DIR *listing = opendir(dir);
    if (listing != NULL) {
        struct dirent *entry;
        while ((entry = readdir(listing)) != NULL) {
            if (strcmp(entry->d_name, ".") == 0
                || strcmp(entry->d_name, "..") == 0) {
                continue;
            }
            char path[4096];
            if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
                                 entry->d_name) >= sizeof(path)) {
                continue;
            }
            if (unlink(path) != 0 && errno == EISDIR && depth > 0) {
                remove_tree(path, depth - 1);
            }
        }
        closedir(listing);
    }
    rmdir(dir);
}

void
pyprof_child_site_remove(pyprof_child_site_t *site)
{
    if (site->dir != NULL) {
        remove_tree(site->dir, 1);
        free(site->dir);
        site->dir = NULL;
    }
    if (site->env != NULL) {
        free(site->env[0]);
        free(site->env);
        site->env = NULL;
    }
}
