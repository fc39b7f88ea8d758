/* selection.c - --function / --module / --path for the line engine. */
#include <Python.h>

#include "runner.h"
#include "selection.h"

int
pyprof_selection_option(pyprof_options_t *scan, pyprof_lines_t *lines,
                        const char *command)
{
    static const struct {
        const char *name;
        pyprof_lines_rule_kind_t kind;
    } options[] = {
        {"--function", PYPROF_LINES_RULE_FUNCTION},
        {"--module", PYPROF_LINES_RULE_MODULE},
        {"--path", PYPROF_LINES_RULE_PATH},
    };
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        const char *value = NULL;
        int rc = pyprof_options_value(scan, NULL, options[i].name, &value);
        if (rc == 0) {
            continue;
        }
        if (rc < 0) {
            return -1;
        }
        if (*value == '\0') {
            fprintf(stderr, "%s: empty name given to %s\n", command,
                    options[i].name);
            return -1;
        }
        if (pyprof_lines_add_rule(lines, options[i].kind, value) < 0) {
            pyprof_runner_print_error(command);
            return -1;
        }
        return 1;
    }
    return 0;
}
