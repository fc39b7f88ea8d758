/* mprof_files.c - `pyprof mprof plot|list|clean|rm|peak`: the profiles
 * `mprof run` left in the current directory, chosen and printed as
 * memory_profiler's mprof chooses and prints them (see mprof_files.h). */
#include "mprof_files.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/output.h"
#include "../core/sink.h"
#include "../memory/mprof_file.h"
#include "../report/mprof_html.h"
#include "../report/mprof_svg.h"
#include "cmd_mprof.h"
#include "options.h"

static size_t
count_names(char **names)
{
    size_t count = 0;
    while (names[count] != NULL) {
        count++;
    }
    return count;
}

/* Append a copy of `name` to the NULL-terminated `*list` unless it is
 * there already.  Returns 0, or -1 when out of memory. */
static int
add_unique(char ***list, const char *name)
{
    size_t count = count_names(*list);
    for (size_t i = 0; i < count; i++) {
        if (strcmp((*list)[i], name) == 0) {
            return 0;
        }
    }
    char **grown = realloc(*list, (count + 2) * sizeof(**list));
    if (grown == NULL) {
        return -1;
    }
    *list = grown;
    grown[count] = strdup(name);
    grown[count + 1] = NULL;
    return grown[count] == NULL ? -1 : 0;
}

/* The profiles `args` name, in order and without repeats, as mprof's
 * get_profile_filenames reads them: an existing file, or an index into
 * `list`'s numbering (negative counts from the newest).  With no args,
 * the newest profile.  Returns a new NULL-terminated array (free it with
 * pyprof_mprof_free_names), or NULL after a one-line message. */
static char **
select_profiles(const char *command, char **args, int nargs)
{
    char **profiles = pyprof_mprof_list(".");
    char **chosen = profiles != NULL ? calloc(1, sizeof(*chosen)) : NULL;
    if (chosen == NULL) {
        fprintf(stderr, "%s: cannot list this directory: %s\n", command,
                strerror(errno != 0 ? errno : ENOMEM));
        goto error;
    }
    long count = (long)count_names(profiles);
    if (nargs == 0 && count == 0) {
        fprintf(stderr, "%s: no mprofile_*.dat file in this directory (run "
                        "'pyprof mprof run' first)\n", command);
        goto error;
    }
    if (nargs == 0 && add_unique(&chosen, profiles[count - 1]) < 0) {
        goto out_of_memory;
    }
    for (int i = 0; i < nargs; i++) {
        const char *arg = args[i];
        struct stat st;
        char *end;
        long index = strtol(arg, &end, 10);
        int is_index = *arg != '\0' && *end == '\0';
        int exists = stat(arg, &st) == 0;
        const char *name = arg;
        if (is_index && !exists) {
            if (index < 0) {
                index += count;
            }
            if (index < 0 || index >= count) {
                fprintf(stderr, "%s: no profile number %s (%ld in this "
                                "directory)\n", command, arg, count);
                goto error;
            }
            name = profiles[index];
        }
        else if (!exists) {
            fprintf(stderr, "%s: %s: no such file\n", command, arg);
            goto error;
        }
        else if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "%s: %s: %s\n", command, arg, strerror(EISDIR));
            goto error;
        }
        if (add_unique(&chosen, name) < 0) {
            goto out_of_memory;
        }
    }
    pyprof_mprof_free_names(profiles);
    return chosen;
out_of_memory:
    fprintf(stderr, "%s: out of memory\n", command);
error:
    if (profiles != NULL) {
        pyprof_mprof_free_names(profiles);
    }
    if (chosen != NULL) {
        pyprof_mprof_free_names(chosen);
    }
    return NULL;
}

/* The one profile `arg` names (NULL: the newest).  Returns a new string,
 * or NULL after a message. */
static char *
resolve_profile(const char *command, const char *arg)
{
    char *args[1] = {(char *)arg};
    char **chosen = select_profiles(command, args, arg != NULL);
    if (chosen == NULL) {
        return NULL;
    }
    char *name = chosen[0];
    chosen[0] = NULL;
    pyprof_mprof_free_names(chosen);
    return name;
}

int
pyprof_mprof_plot(int argc, char **argv)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof mprof plot", argc, argv);
    const char *output = NULL, *title = NULL, *file = NULL;
    while (pyprof_options_current(&scan) != NULL) {
        int rc;
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            pyprof_cmd_mprof_help(stdout, argv[0]);
            return 0;
        }
        if ((rc = pyprof_options_value(&scan, "-o", "--output", &output)) ||
            (rc = pyprof_options_value(&scan, "-t", "--title", &title))) {
            if (rc < 0) {
                return 2;
            }
        }
        else if (pyprof_options_at_option(&scan) &&
                 strcmp(pyprof_options_current(&scan), "-1") != 0) {
            pyprof_options_unknown(&scan);
            return 2;
        }
        else if (file == NULL) {
            file = pyprof_options_current(&scan);
            scan.index++;
        }
        else {
            fprintf(stderr, "pyprof mprof plot: one profile at a time\n");
            return 2;
        }
    }
    /* mprof plot -o writes what matplotlib makes of the extension; we
     * draw SVG and HTML in C (a PNG would need a rasteriser). */
    static const char *const formats[] = {".svg", ".html", ".htm"};
    int format = output == NULL ? 0
        : pyprof_options_output_format(scan.command, output, formats, 3);
    if (format < 0) {
        return 2;
    }
    char *path = resolve_profile(scan.command, file);
    if (path == NULL) {
        return 1;
    }
    char errbuf[512];
    pyprof_mprof_data_t *data = pyprof_mprof_read(path, errbuf,
                                                  sizeof(errbuf));
    int status = 1;
    char *svg_path = NULL;
    if (data == NULL) {
        fprintf(stderr, "pyprof mprof plot: %s\n", errbuf);
        goto done;
    }
    if (data->nmem == 0) {
        fprintf(stderr, "pyprof mprof plot: %s has no memory samples "
                        "(the run ended or was killed before the first "
                        "one)\n", path);
        goto done;
    }
    if (data->truncated) {
        fprintf(stderr, "pyprof mprof plot: %s ends in a cut-off line "
                        "(the run was killed?); plotting its %zu complete "
                        "samples\n", path, data->nmem);
    }
    if (output == NULL) {
        size_t n = strlen(path);
        svg_path = malloc(n + 5);
        if (svg_path == NULL) {
            fprintf(stderr, "pyprof mprof plot: out of memory\n");
            goto done;
        }
        memcpy(svg_path, path, n + 1);
        if (n > 4 && strcmp(path + n - 4, ".dat") == 0) {
            svg_path[n - 4] = '\0';
        }
        strcat(svg_path, ".svg");
        output = svg_path;
    }
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    if (format == 0) {
        pyprof_mprof_svg_write(&sink, data, title);
    }
    else if (pyprof_mprof_html_write(&sink, data,
                                     title != NULL ? title : path) < 0) {
        sink.failed = 1;
    }
    if (pyprof_sink_failed(&sink)) {
        fprintf(stderr, "pyprof mprof plot: out of memory\n");
    }
    else if (pyprof_output_write(output, sink.data, sink.len, errbuf,
                                 sizeof(errbuf)) < 0) {
        fprintf(stderr, "pyprof mprof plot: cannot write %s\n", errbuf);
    }
    else {
        fprintf(stderr, "pyprof mprof: wrote %s\n", output);
        status = 0;
    }
    pyprof_sink_free_buffer(&sink);
done:
    pyprof_mprof_data_free(data);
    free(svg_path);
    free(path);
    return status;
}

int
pyprof_mprof_list_or_clean(int argc, char **argv, int clean)
{
    int dry_run = 0;
    pyprof_options_t scan;
    pyprof_options_init(&scan, clean ? "pyprof mprof clean"
                                     : "pyprof mprof list", argc, argv);
    while (pyprof_options_current(&scan) != NULL) {
        if (clean && pyprof_options_flag(&scan, NULL, "--dry-run")) {
            dry_run = 1;
        }
        else if (pyprof_options_flag(&scan, "-h", "--help")) {
            pyprof_cmd_mprof_help(stdout, argv[0]);
            return 0;
        }
        else {
            fprintf(stderr, "%s: unexpected argument '%s'\n", scan.command,
                    pyprof_options_current(&scan));
            return 2;
        }
    }
    char **names = pyprof_mprof_list(".");
    if (names == NULL) {
        fprintf(stderr, "%s: cannot list this directory: %s\n",
                scan.command, strerror(errno));
        return 1;
    }
    int status = 0;
    if (clean && dry_run) {
        printf("Files to be removed: \n");
    }
    for (int i = 0; names[i] != NULL; i++) {
        const char *n = names[i];
        if (!clean) {
            /* mprof: "0 mprofile_20261125184500.dat 18:45:00 25/11/2026" */
            printf("%d %s %.2s:%.2s:%.2s %.2s/%.2s/%.4s\n", i, n, n + 17,
                   n + 19, n + 21, n + 15, n + 13, n + 9);
        }
        else if (dry_run) {
            printf("%s\n", n);
        }
        else if (unlink(n) != 0) {
            fprintf(stderr, "%s: cannot remove %s: %s\n", scan.command, n,
                    strerror(errno));
            status = 1;
        }
    }
    pyprof_mprof_free_names(names);
    return status;
}

int
pyprof_mprof_rm(int argc, char **argv)
{
    int dry_run = 0;
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof mprof rm", argc, argv);
    while (pyprof_options_at_option(&scan) &&
           pyprof_options_current(&scan)[1] != '\0' &&
           !isdigit((unsigned char)pyprof_options_current(&scan)[1])) {
        if (pyprof_options_flag(&scan, NULL, "--dry-run")) {
            dry_run = 1;
        }
        else if (pyprof_options_flag(&scan, "-h", "--help")) {
            pyprof_cmd_mprof_help(stdout, argv[0]);
            return 0;
        }
        else {
            pyprof_options_unknown(&scan);
            return 2;
        }
    }
    int nargs = argc - scan.index;
    if (nargs == 0) {
        fprintf(stderr, "pyprof mprof rm: a profile to remove must be given "
                        "(number or file name)\n");
        return 2;
    }
    /* Every name is checked before anything is removed. */
    char **chosen = select_profiles(scan.command, argv + scan.index, nargs);
    if (chosen == NULL) {
        return 1;
    }
    int status = 0;
    if (dry_run) {
        printf("Files to be removed: \n");
    }
    for (size_t i = 0; chosen[i] != NULL; i++) {
        if (dry_run) {
            printf("%s\n", chosen[i]);
        }
        else if (unlink(chosen[i]) != 0) {
            fprintf(stderr, "pyprof mprof rm: cannot remove %s: %s\n",
                    chosen[i], strerror(errno));
            status = 1;
        }
    }
    pyprof_mprof_free_names(chosen);
    return status;
}

/* The highest MEM sample of `data`, of those taken while a call of
 * `func` ran when func is not NULL; NAN when there is none. */
static double
peak_mib(const pyprof_mprof_data_t *data, const char *func)
{
    double peak = NAN;
    for (size_t i = 0; i < data->nmem; i++) {
        const pyprof_mprof_point_t *m = &data->mem[i];
        int inside = func == NULL;
        for (size_t f = 0; f < data->nfuncs && !inside; f++) {
            const pyprof_mprof_func_t *call = &data->funcs[f];
            inside = strcmp(call->name, func) == 0 &&
                     call->t_start <= m->timestamp &&
                     m->timestamp <= call->t_end;
        }
        if (inside && !(m->mib <= peak)) {
            peak = m->mib;
        }
    }
    return peak;
}

/* mprof's line: "<file>\t<peak> MiB", then a line per child process
 * with its highest sample, in the order the children first appear. */
static void
print_peak(const char *path, const pyprof_mprof_data_t *data,
           const char *func)
{
    double peak = peak_mib(data, func);
    if (isnan(peak)) {
        printf("%s\tNaN MiB\n", path);
        return;
    }
    printf("%s\t%.3f MiB\n", path, peak);
    /* One pass over the samples; a program has few children, so each
     * sample looks its child up among those seen so far. */
    int *children = malloc(data->nchld * sizeof(*children));
    double *peaks = malloc(data->nchld * sizeof(*peaks));
    size_t nchildren = 0;
    for (size_t i = 0; i < data->nchld && children && peaks; i++) {
        size_t k = 0;
        while (k < nchildren && children[k] != data->chld_index[i]) {
            k++;
        }
        if (k == nchildren) {
            children[nchildren] = data->chld_index[i];
            peaks[nchildren++] = data->chld[i].mib;
        }
        else if (data->chld[i].mib > peaks[k]) {
            peaks[k] = data->chld[i].mib;
        }
    }
    for (size_t k = 0; k < nchildren; k++) {
        printf("  Child %d\t\t\t%.3f MiB\n", children[k], peaks[k]);
    }
    free(children);
    free(peaks);
}

int
pyprof_mprof_peak(int argc, char **argv)
{
    const char *func = NULL;
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof mprof peak", argc, argv);
    char **files = calloc((size_t)argc + 1, sizeof(*files));
    int nfiles = 0;
    if (files == NULL) {
        fprintf(stderr, "pyprof mprof peak: out of memory\n");
        return 1;
    }
    int status = 0;
    while (pyprof_options_current(&scan) != NULL) {
        int rc;
        const char *arg = pyprof_options_current(&scan);
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            pyprof_cmd_mprof_help(stdout, argv[0]);
            goto done;
        }
        if ((rc = pyprof_options_value(&scan, NULL, "--func", &func))) {
            if (rc < 0) {
                status = 2;
                goto done;
            }
        }
        else if (pyprof_options_at_option(&scan) &&
                 !isdigit((unsigned char)arg[1])) {
            pyprof_options_unknown(&scan);
            status = 2;
            goto done;
        }
        else {
            files[nfiles++] = (char *)arg;
            scan.index++;
        }
    }
    char **chosen = select_profiles(scan.command, files, nfiles);
    if (chosen == NULL) {
        status = 1;
        goto done;
    }
    if (nfiles == 0) {
        printf("Using last profile data.\n");
    }
    for (size_t i = 0; chosen[i] != NULL; i++) {
        char errbuf[512];
        pyprof_mprof_data_t *data =
            pyprof_mprof_read(chosen[i], errbuf, sizeof(errbuf));
        if (data == NULL) {
            fprintf(stderr, "pyprof mprof peak: %s\n", errbuf);
            status = 1;
            continue;
        }
        if (data->nmem == 0) {      /* mprof fails here too (exit 1) */
            fprintf(stderr, "pyprof mprof peak: %s has no memory samples "
                            "(the run ended or was killed before the first "
                            "one)\n", chosen[i]);
            status = 1;
            pyprof_mprof_data_free(data);
            continue;
        }
        print_peak(chosen[i], data, func);
        pyprof_mprof_data_free(data);
    }
    pyprof_mprof_free_names(chosen);
done:
    free(files);
    return status;
}
