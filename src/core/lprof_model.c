/* lprof_model.c - the plain-C line-timing model. */
#include "lprof_model.h"

#include <stdlib.h>
#include <string.h>

pyprof_lprof_t *
pyprof_lprof_new(void)
{
    return calloc(1, sizeof(pyprof_lprof_t));
}

void
pyprof_lprof_free(pyprof_lprof_t *model)
{
    if (model == NULL) {
        return;
    }
    for (size_t i = 0; i < model->nfuncs; i++) {
        free(model->funcs[i].filename);
        free(model->funcs[i].name);
        free(model->funcs[i].lines);
    }
    free(model->funcs);
    free(model);
}

pyprof_lprof_func_t *
pyprof_lprof_add(pyprof_lprof_t *model, const char *filename,
                 const char *name, int first_line, size_t nlines)
{
    if (model->nfuncs == model->capacity) {
        size_t capacity = model->capacity ? model->capacity * 2 : 16;
        pyprof_lprof_func_t *funcs = realloc(model->funcs,
                                             capacity * sizeof(*funcs));
        if (funcs == NULL) {
            return NULL;
        }
        model->funcs = funcs;
        model->capacity = capacity;
    }
    pyprof_lprof_func_t *func = &model->funcs[model->nfuncs];
    memset(func, 0, sizeof(*func));
    func->filename = strdup(filename);
    func->name = strdup(name);
    func->lines = calloc(nlines ? nlines : 1, sizeof(*func->lines));
    if (func->filename == NULL || func->name == NULL || func->lines == NULL) {
        free(func->filename);
        free(func->name);
        free(func->lines);
        return NULL;
    }
    func->first_line = first_line;
    func->nlines = nlines;
    for (size_t i = 0; i < nlines; i++) {
        func->lines[i].lineno = first_line + (int)i;
    }
    model->nfuncs++;
    return func;
}

static int
compare_funcs(const void *a, const void *b)
{
    const pyprof_lprof_func_t *x = a, *y = b;
    int c = strcmp(x->filename, y->filename);
    if (c != 0) {
        return c;
    }
    if (x->first_line != y->first_line) {
        return x->first_line < y->first_line ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

void
pyprof_lprof_sort(pyprof_lprof_t *model)
{
    if (model->nfuncs > 1) {
        qsort(model->funcs, model->nfuncs, sizeof(*model->funcs),
              compare_funcs);
    }
}

pyprof_ns_t
pyprof_lprof_total_ns(const pyprof_lprof_func_t *func)
{
    pyprof_ns_t total = 0;
    for (size_t i = 0; i < func->nlines; i++) {
        total += func->lines[i].time_ns;
    }
    return total;
}
