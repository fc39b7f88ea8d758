/* heap_api.c - objgraph's functions with objgraph's names and output.
 *
 * The blog's `objgraph.show_growth()` works by changing only the import:
 * same arguments, same counts (the objects gc.get_objects() returns, by
 * type(obj).__name__), same peak semantics (growth is measured against
 * the highest count seen so far, kept in a dict shared by growth() and
 * show_growth() unless peak_stats= is given), same order among equal
 * counts, and the same text.  The census itself is src/heap/census.c; this
 * file parses arguments, turns censuses into objgraph's lists, and adds
 * what objgraph lacks: census() with bytes per type and the growth check
 * behind pyprof.no_growth.
 *
 * The default peak-stats dict is the module attribute `_peak_stats` (per
 * module object, no C global).
 */
#include "heap_api.h"

#include <stdio.h>

#include "../core/sink.h"
#include "../heap/census.h"
#include "../heap/chain.h"
#include "../heap/leaking.h"
#include "../heap/new_ids.h"
#include "../heap/refgraph.h"
#include "../heap/walk.h"

/* objgraph's `if limit: rows = rows[:limit]`: None or 0 keeps every row.
 * Returns the number of rows to keep, or -1 with an exception set. */
static Py_ssize_t
row_limit(PyObject *limit, Py_ssize_t nrows)
{
    if (limit == NULL || limit == Py_None) {
        return nrows;
    }
    Py_ssize_t n = PyNumber_AsSsize_t(limit, PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (n == 0) {
        return nrows;
    }
    if (n < 0) {
        n = nrows + n > 0 ? nrows + n : 0;  /* Python's rows[:-k] */
    }
    return n < nrows ? n : nrows;
}

/* typestats() as a new dict name -> count; NULL with an exception set.
 * `call` holds the API call's argument tuple and keyword dict: made only
 * to call us (objgraph's Python calls make none), they are not counted. */
static PyObject *
census_dict(PyObject *objects, PyObject *filter, int shortnames,
            PyObject *const call[2])
{
    pyprof_census_t census;
    if (pyprof_census_init(&census) < 0) {
        return NULL;
    }
    pyprof_census_skip(&census, call[0]);
    pyprof_census_skip(&census, call[1]);
    PyObject *stats = NULL;
    if (pyprof_census_take(&census, objects, filter, 0) == 0) {
        stats = pyprof_census_by_name(&census, shortnames, NULL);
    }
    pyprof_census_clear(&census);
    return stats;
}

/* The items of `stats` (name -> int) as a new list of (name, count)
 * tuples sorted most-frequent-first, cut to `limit`. */
static PyObject *
sorted_items(PyObject *stats, PyObject *limit)
{
    PyObject *items = PyDict_Items(stats);
    if (items == NULL) {
        return NULL;
    }
    if (pyprof_census_sort_desc(items, 1) < 0) {
        Py_DECREF(items);
        return NULL;
    }
    Py_ssize_t keep = row_limit(limit, PyList_GET_SIZE(items));
    if (keep < 0) {
        Py_DECREF(items);
        return NULL;
    }
    if (keep < PyList_GET_SIZE(items) &&
        PyList_SetSlice(items, keep, PyList_GET_SIZE(items), NULL) < 0) {
        Py_DECREF(items);
        return NULL;
    }
    return items;
}

/* file.write(text), with file None meaning sys.stdout. */
static int
write_text(PyObject *file, PyObject *text)
{
    if (file == NULL || file == Py_None) {
        file = PySys_GetObject("stdout"); /* borrowed */
        if (file == NULL || file == Py_None) {
            PyErr_SetString(PyExc_RuntimeError, "lost sys.stdout");
            return -1;
        }
    }
    PyObject *result = PyObject_CallMethod(file, "write", "O", text);
    if (result == NULL) {
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

/* `name` left-justified to `width` code points; new reference. */
static PyObject *
ljust(PyObject *name, Py_ssize_t width)
{
    return PyObject_CallMethod(name, "ljust", "n", width);
}

/* The widest first item of the tuples in `rows`, in code points. */
static Py_ssize_t
name_width(PyObject *rows)
{
    Py_ssize_t width = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *name = PyTuple_GET_ITEM(PyList_GET_ITEM(rows, i), 0);
        if (PyUnicode_Check(name) && PyUnicode_GET_LENGTH(name) > width) {
            width = PyUnicode_GET_LENGTH(name);
        }
    }
    return width;
}

static PyObject *
heap_typestats(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"objects", "shortnames", "filter", NULL};
    PyObject *objects = Py_None, *filter = Py_None;
    int shortnames = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OpO:typestats", kwlist,
                                     &objects, &shortnames, &filter)) {
        return NULL;
    }
    PyObject *call[2] = {args, kwargs};
    return census_dict(objects == Py_None ? NULL : objects,
                       filter == Py_None ? NULL : filter, shortnames, call);
}

static PyObject *
most_common(PyObject *limit, PyObject *objects, int shortnames,
            PyObject *filter, PyObject *const call[2])
{
    PyObject *stats = census_dict(objects == Py_None ? NULL : objects,
                                  filter == Py_None ? NULL : filter,
                                  shortnames, call);
    if (stats == NULL) {
        return NULL;
    }
    PyObject *rows = sorted_items(stats, limit);
    Py_DECREF(stats);
    return rows;
}

static PyObject *
heap_most_common_types(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"limit", "objects", "shortnames", "filter",
                             NULL};
    PyObject *limit = NULL, *objects = Py_None, *filter = Py_None;
    int shortnames = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs,
                                     "|OOpO:most_common_types", kwlist,
                                     &limit, &objects, &shortnames,
                                     &filter)) {
        return NULL;
    }
    PyObject *ten = NULL;
    if (limit == NULL) {
        limit = ten = PyLong_FromLong(10);
        if (ten == NULL) {
            return NULL;
        }
    }
    PyObject *call[2] = {args, kwargs};
    PyObject *rows = most_common(limit, objects, shortnames, filter, call);
    Py_XDECREF(ten);
    return rows;
}

static PyObject *
heap_show_most_common_types(PyObject *module, PyObject *args,
                            PyObject *kwargs)
{
    static char *kwlist[] = {"limit", "objects", "shortnames", "file",
                             "filter", NULL};
    PyObject *limit = NULL, *objects = Py_None, *file = Py_None;
    PyObject *filter = Py_None;
    int shortnames = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs,
                                     "|OOpOO:show_most_common_types",
                                     kwlist, &limit, &objects, &shortnames,
                                     &file, &filter)) {
        return NULL;
    }
    PyObject *ten = NULL;
    if (limit == NULL) {
        limit = ten = PyLong_FromLong(10);
        if (ten == NULL) {
            return NULL;
        }
    }
    PyObject *call[2] = {args, kwargs};
    PyObject *rows = most_common(limit, objects, shortnames, filter, call);
    Py_XDECREF(ten);
    if (rows == NULL) {
        return NULL;
    }
    Py_ssize_t width = name_width(rows);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        PyObject *padded = ljust(PyTuple_GET_ITEM(row, 0), width);
        PyObject *line = padded == NULL ? NULL : PyUnicode_FromFormat(
            "%U %S\n", padded, PyTuple_GET_ITEM(row, 1));
        Py_XDECREF(padded);
        if (line == NULL || write_text(file, line) < 0) {
            Py_XDECREF(line);
            Py_DECREF(rows);
            return NULL;
        }
        Py_DECREF(line);
    }
    Py_DECREF(rows);
    Py_RETURN_NONE;
}

/* objgraph's growth(): collect, count, compare with and raise the peaks.
 * A new list of (name, count, delta). */
static PyObject *
compute_growth(PyObject *module, PyObject *limit, PyObject *peak_stats,
               int shortnames, PyObject *filter, PyObject *const call[2])
{
    PyObject *default_peaks = NULL;
    if (peak_stats == NULL || peak_stats == Py_None) {
        peak_stats = default_peaks = PyObject_GetAttrString(module,
                                                            "_peak_stats");
        if (peak_stats == NULL) {
            return NULL;
        }
    }
    PyObject *stats = NULL, *rows = NULL, *zero = NULL;
    PyGC_Collect();
    stats = census_dict(NULL, filter == Py_None ? NULL : filter,
                        shortnames, call);
    rows = PyList_New(0);
    zero = PyLong_FromLong(0);
    if (stats == NULL || rows == NULL || zero == NULL) {
        goto error;
    }
    PyObject *name, *count;
    Py_ssize_t pos = 0;
    while (PyDict_Next(stats, &pos, &name, &count)) {
        PyObject *old = PyObject_CallMethod(peak_stats, "get", "OO", name,
                                            zero);
        if (old == NULL) {
            goto error;
        }
        int grew = PyObject_RichCompareBool(count, old, Py_GT);
        PyObject *delta = grew > 0 ? PyNumber_Subtract(count, old) : NULL;
        Py_DECREF(old);
        if (grew < 0 || (grew > 0 && delta == NULL)) {
            goto error;
        }
        if (grew == 0) {
            continue;
        }
        PyObject *row = PyTuple_Pack(3, name, count, delta);
        Py_DECREF(delta);
        if (row == NULL || PyList_Append(rows, row) < 0 ||
            PyObject_SetItem(peak_stats, name, count) < 0) {
            Py_XDECREF(row);
            goto error;
        }
        Py_DECREF(row);
    }
    if (pyprof_census_sort_desc(rows, 2) < 0) {
        goto error;
    }
    Py_ssize_t keep = row_limit(limit, PyList_GET_SIZE(rows));
    if (keep < 0 ||
        (keep < PyList_GET_SIZE(rows) &&
         PyList_SetSlice(rows, keep, PyList_GET_SIZE(rows), NULL) < 0)) {
        goto error;
    }
    Py_DECREF(stats);
    Py_DECREF(zero);
    Py_XDECREF(default_peaks);
    return rows;
error:
    Py_XDECREF(stats);
    Py_XDECREF(rows);
    Py_XDECREF(zero);
    Py_XDECREF(default_peaks);
    return NULL;
}

static PyObject *
heap_growth(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"limit", "peak_stats", "shortnames", "filter",
                             NULL};
    PyObject *limit = NULL, *peak_stats = Py_None, *filter = Py_None;
    int shortnames = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOpO:growth", kwlist,
                                     &limit, &peak_stats, &shortnames,
                                     &filter)) {
        return NULL;
    }
    PyObject *ten = NULL;
    if (limit == NULL) {
        limit = ten = PyLong_FromLong(10);
        if (ten == NULL) {
            return NULL;
        }
    }
    PyObject *call[2] = {args, kwargs};
    PyObject *rows = compute_growth(module, limit, peak_stats, shortnames,
                                    filter, call);
    Py_XDECREF(ten);
    return rows;
}

static PyObject *
heap_show_growth(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"limit", "peak_stats", "shortnames", "file",
                             "filter", NULL};
    PyObject *limit = NULL, *peak_stats = Py_None, *file = Py_None;
    PyObject *filter = Py_None;
    int shortnames = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOpOO:show_growth",
                                     kwlist, &limit, &peak_stats,
                                     &shortnames, &file, &filter)) {
        return NULL;
    }
    PyObject *ten = NULL;
    if (limit == NULL) {
        limit = ten = PyLong_FromLong(10);
        if (ten == NULL) {
            return NULL;
        }
    }
    PyObject *call[2] = {args, kwargs};
    PyObject *rows = compute_growth(module, limit, peak_stats, shortnames,
                                    filter, call);
    Py_XDECREF(ten);
    if (rows == NULL) {
        return NULL;
    }
    Py_ssize_t width = name_width(rows);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        Py_ssize_t count = PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 1));
        Py_ssize_t delta = PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 2));
        char numbers[64];
        snprintf(numbers, sizeof(numbers), "%9zd %+9zd\n", count, delta);
        PyObject *padded = ljust(PyTuple_GET_ITEM(row, 0), width);
        PyObject *line = padded == NULL ? NULL : PyUnicode_FromFormat(
            "%U%s", padded, numbers);
        Py_XDECREF(padded);
        if (line == NULL || write_text(file, line) < 0) {
            Py_XDECREF(line);
            Py_DECREF(rows);
            return NULL;
        }
        Py_DECREF(line);
    }
    Py_DECREF(rows);
    Py_RETURN_NONE;
}

/* The census of `objects` (NULL: the heap but the census's skipped
 * objects) as a pointer map of the types objgraph's name `typename`
 * matches. */
static int
matching_types(PyObject *typename, PyObject *objects,
               pyprof_census_t *census, pyprof_ptrmap_t *matches)
{
    if (!PyUnicode_Check(typename)) {
        PyErr_SetString(PyExc_TypeError, "typename must be a str");
        return -1;
    }
    if (pyprof_census_take(census, objects, NULL, 0) < 0) {
        return -1;
    }
    for (size_t i = 0; i < census->nrows; i++) {
        int match = pyprof_census_type_matches(census->rows[i].type,
                                               typename);
        if (match < 0) {
            return -1;
        }
        if (match && pyprof_ptrmap_set(matches, census->rows[i].type,
                                       (uint32_t)i) < 0) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

static PyObject *
heap_count(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"typename", "objects", NULL};
    PyObject *typename, *objects = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:count", kwlist,
                                     &typename, &objects)) {
        return NULL;
    }
    pyprof_census_t census;
    pyprof_ptrmap_t matches;
    if (pyprof_census_init(&census) < 0) {
        return NULL;
    }
    if (pyprof_ptrmap_init(&matches) < 0) {
        pyprof_census_clear(&census);
        return PyErr_NoMemory();
    }
    PyObject *result = NULL;
    pyprof_census_skip(&census, args);
    pyprof_census_skip(&census, kwargs);
    if (matching_types(typename, objects == Py_None ? NULL : objects,
                       &census, &matches) == 0) {
        Py_ssize_t total = 0;
        for (size_t i = 0; i < census.nrows; i++) {
            uint32_t index;
            if (pyprof_ptrmap_get(&matches, census.rows[i].type, &index)) {
                total += census.rows[i].count;
            }
        }
        result = PyLong_FromSsize_t(total);
    }
    pyprof_ptrmap_free(&matches);
    pyprof_census_clear(&census);
    return result;
}

typedef struct {
    const pyprof_ptrmap_t *matches;
    const pyprof_census_t *census;  /* its skipped objects are left out */
    PyObject *result;   /* borrowed: the list being filled */
    int failed;
} by_type_walk_t;

static int
by_type_visit(PyObject *obj, void *arg)
{
    by_type_walk_t *walk = arg;
    uint32_t index;
    if (!pyprof_ptrmap_get(walk->matches, Py_TYPE(obj), &index) ||
        pyprof_census_skipped(walk->census, obj)) {
        return 0;
    }
    /* Appending grows the list's item array only: no tracked object is
     * created, so this is allowed inside the walk. */
    if (PyList_Append(walk->result, obj) < 0) {
        walk->failed = 1;
        return 1;
    }
    return 0;
}

static PyObject *
heap_by_type(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"typename", "objects", NULL};
    PyObject *typename, *objects = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:by_type", kwlist,
                                     &typename, &objects)) {
        return NULL;
    }
    pyprof_census_t census;
    pyprof_ptrmap_t matches;
    if (pyprof_census_init(&census) < 0) {
        return NULL;
    }
    if (pyprof_ptrmap_init(&matches) < 0) {
        pyprof_census_clear(&census);
        return PyErr_NoMemory();
    }
    PyObject *result = PyList_New(0), *items = NULL;
    if (result == NULL) {
        goto error;
    }
    if (objects != Py_None) {
        /* Read twice (types, then objects): a generator must be kept. */
        objects = items = PySequence_List(objects);
        if (items == NULL) {
            goto error;
        }
    }
    pyprof_census_skip(&census, result);
    pyprof_census_skip(&census, args);
    pyprof_census_skip(&census, kwargs);
    if (matching_types(typename, objects == Py_None ? NULL : objects,
                       &census, &matches) < 0) {
        goto error;
    }
    if (matches.count == 0) {
        goto done;
    }
    if (objects == Py_None) {
        by_type_walk_t walk = {&matches, &census, result, 0};
        if (pyprof_heap_walk(by_type_visit, &walk) < 0) {
            goto error;
        }
        if (walk.failed) {
            goto error;
        }
    }
    else {
        PyObject *iterator = PyObject_GetIter(objects);
        if (iterator == NULL) {
            goto error;
        }
        PyObject *item;
        while ((item = PyIter_Next(iterator)) != NULL) {
            uint32_t index;
            int rc = 0;
            if (pyprof_ptrmap_get(&matches, Py_TYPE(item), &index)) {
                rc = PyList_Append(result, item);
            }
            Py_DECREF(item);
            if (rc < 0) {
                break;
            }
        }
        Py_DECREF(iterator);
        if (PyErr_Occurred()) {
            goto error;
        }
    }
done:
    Py_XDECREF(items);
    pyprof_ptrmap_free(&matches);
    pyprof_census_clear(&census);
    return result;
error:
    Py_XDECREF(items);
    Py_XDECREF(result);
    pyprof_ptrmap_free(&matches);
    pyprof_census_clear(&census);
    return NULL;
}

static PyObject *
heap_get_leaking_objects(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"objects", NULL};
    PyObject *objects = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:get_leaking_objects",
                                     kwlist, &objects)) {
        return NULL;
    }
    return pyprof_heap_leaking_objects(objects == Py_None ? NULL : objects);
}

static PyObject *
heap_census(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"limit", "shortnames", "objects", "collect",
                             NULL};
    PyObject *limit = Py_None, *objects = Py_None;
    int shortnames = 1, collect = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OpOp:census", kwlist,
                                     &limit, &shortnames, &objects,
                                     &collect)) {
        return NULL;
    }
    if (collect) {
        PyGC_Collect();
    }
    pyprof_census_t census;
    if (pyprof_census_init(&census) < 0) {
        return NULL;
    }
    PyObject *counts = NULL, *bytes = NULL, *rows = NULL;
    pyprof_census_skip(&census, args);
    pyprof_census_skip(&census, kwargs);
    if (pyprof_census_take(&census, objects == Py_None ? NULL : objects,
                           NULL, 1) < 0 ||
        (counts = pyprof_census_by_name(&census, shortnames, &bytes)) ==
            NULL ||
        (rows = sorted_items(counts, limit)) == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *pair = PyList_GET_ITEM(rows, i);
        PyObject *name = PyTuple_GET_ITEM(pair, 0);
        PyObject *size = PyDict_GetItemWithError(bytes, name); /* borrowed */
        PyObject *row = size == NULL ? NULL : PyTuple_Pack(
            3, name, PyTuple_GET_ITEM(pair, 1), size);
        if (row == NULL) {
            Py_CLEAR(rows);
            goto done;
        }
        PyList_SetItem(rows, i, row); /* steals row, drops pair */
    }
done:
    pyprof_census_clear(&census);
    Py_XDECREF(counts);
    Py_XDECREF(bytes);
    return rows;
}

static PyObject *
heap_show_refs(PyObject *module, PyObject *args, PyObject *kwargs)
{
    return pyprof_refgraph_show(args, kwargs, 0);
}

static PyObject *
heap_show_backrefs(PyObject *module, PyObject *args, PyObject *kwargs)
{
    return pyprof_refgraph_show(args, kwargs, 1);
}

/* The census after a full collection as a new dict type -> count, not
 * counting `skip`.  Keyed by type so that a baseline taken now compares
 * exactly with a later one. */
static PyObject *
counts_by_type(PyObject *skip)
{
    PyGC_Collect();
    pyprof_census_t census;
    if (pyprof_census_init(&census) < 0) {
        return NULL;
    }
    PyObject *counts = NULL;
    pyprof_census_skip(&census, skip);
    if (pyprof_census_take(&census, NULL, NULL, 0) < 0 ||
        (counts = PyDict_New()) == NULL) {
        goto done;
    }
    for (size_t i = 0; i < census.nrows; i++) {
        PyObject *n = PyLong_FromSsize_t(census.rows[i].count);
        if (n == NULL ||
            PyDict_SetItem(counts, (PyObject *)census.rows[i].type, n) < 0) {
            Py_XDECREF(n);
            Py_CLEAR(counts);
            goto done;
        }
        Py_DECREF(n);
    }
done:
    pyprof_census_clear(&census);
    return counts;
}

static PyObject *
heap_growth_baseline(PyObject *module, PyObject *unused)
{
    return counts_by_type(NULL);
}

/* Whether `type` is one of `types` (None: every type); each item is a type
 * object or objgraph's name.  1, 0, or -1 with an exception set. */
static int
type_selected(PyTypeObject *type, PyObject *types)
{
    if (types == Py_None) {
        return 1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(types); i++) {
        PyObject *item = PyList_GET_ITEM(types, i);
        if (PyType_Check(item)) {
            if (item == (PyObject *)type) {
                return 1;
            }
            continue;
        }
        if (!PyUnicode_Check(item)) {
            PyErr_SetString(PyExc_TypeError,
                            "no_growth(types=...) takes types or type "
                            "names");
            return -1;
        }
        int match = pyprof_census_type_matches(type, item);
        if (match != 0) {
            return match;
        }
    }
    return 0;
}

/* _no_growth_check(before, types, tolerance): compare a census now with
 * the baseline `before`; raise HeapGrowthError with the growth table when
 * some selected type name grew by more than `tolerance` objects. */
static PyObject *
heap_no_growth_check(PyObject *module, PyObject *const *args,
                     Py_ssize_t nargs)
{
    /* METH_FASTCALL: an argument tuple holding `before` would be a
     * tracked object alive during the census, and counted as growth. */
    if (nargs != 3 || !PyDict_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "_no_growth_check(before: dict, types, tolerance)");
        return NULL;
    }
    PyObject *before = args[0], *types = args[1];
    Py_ssize_t tolerance = PyNumber_AsSsize_t(args[2], PyExc_OverflowError);
    if (tolerance == -1 && PyErr_Occurred()) {
        return NULL;
    }
    /* Nothing this check makes may exist during its own census. */
    PyObject *after = counts_by_type(before);
    if (after == NULL) {
        return NULL;
    }
    PyObject *selected = types == Py_None ? Py_NewRef(Py_None)
                                          : PySequence_List(types);
    PyObject *rows = PyDict_New();  /* name -> (name, before, after, delta) */
    PyObject *table = NULL, *result = NULL;
    if (selected == NULL || rows == NULL) {
        goto done;
    }
    PyObject *keys[2] = {after, before};
    for (int side = 0; side < 2; side++) {
        PyObject *type, *unused;
        Py_ssize_t pos = 0;
        while (PyDict_Next(keys[side], &pos, &type, &unused)) {
            if (side == 1 && PyDict_Contains(after, type)) {
                continue;
            }
            int match = type_selected((PyTypeObject *)type, selected);
            if (match < 0) {
                goto done;
            }
            if (!match) {
                continue;
            }
            PyObject *b = PyDict_GetItemWithError(before, type);
            PyObject *a = PyDict_GetItemWithError(after, type);
            if (PyErr_Occurred()) {
                goto done;
            }
            Py_ssize_t nb = b != NULL ? PyLong_AsSsize_t(b) : 0;
            Py_ssize_t na = a != NULL ? PyLong_AsSsize_t(a) : 0;
            PyObject *name = pyprof_census_type_name((PyTypeObject *)type,
                                                     1);
            if (name == NULL) {
                goto done;
            }
            PyObject *old = PyDict_GetItemWithError(rows, name);
            if (old != NULL) {
                nb += PyLong_AsSsize_t(PyTuple_GET_ITEM(old, 1));
                na += PyLong_AsSsize_t(PyTuple_GET_ITEM(old, 2));
            }
            PyObject *row = PyErr_Occurred() ? NULL : Py_BuildValue(
                "(Onnn)", name, nb, na, na - nb);
            int rc = row == NULL ? -1 : PyDict_SetItem(rows, name, row);
            Py_XDECREF(row);
            Py_DECREF(name);
            if (rc < 0) {
                goto done;
            }
        }
    }
    PyObject *grown = PyDict_Values(rows);
    if (grown == NULL) {
        goto done;
    }
    table = PyList_New(0);
    Py_ssize_t width = 4;
    for (Py_ssize_t i = 0; table != NULL && i < PyList_GET_SIZE(grown);
         i++) {
        PyObject *row = PyList_GET_ITEM(grown, i);
        if (PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 3)) > tolerance) {
            if (PyList_Append(table, row) < 0) {
                Py_CLEAR(table);
            }
            else if (PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(row, 0)) >
                     width) {
                width = PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(row, 0));
            }
        }
    }
    Py_DECREF(grown);
    if (table == NULL || pyprof_census_sort_desc(table, 3) < 0) {
        goto done;
    }
    if (PyList_GET_SIZE(table) == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    pyprof_sink_t text;
    pyprof_sink_init_buffer(&text);
    pyprof_sink_printf(&text,
                       "the block left more objects behind than allowed "
                       "(tolerance %zd per type):\n%-*s %9s %9s %9s\n",
                       tolerance, (int)width, "type", "before", "after",
                       "+delta");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(table); i++) {
        PyObject *row = PyList_GET_ITEM(table, i);
        const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(row, 0));
        pyprof_sink_printf(
            &text, "%-*s %9zd %9zd %+9zd\n", (int)width,
            name != NULL ? name : "?",
            PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 1)),
            PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 2)),
            PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 3)));
    }
    PyErr_Clear();
    size_t len;
    char *message = pyprof_sink_take(&text, &len);
    if (message == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* Without the last newline, as exception messages go. */
    PyObject *error = PyObject_GetAttrString(module, "HeapGrowthError");
    if (error != NULL) {
        PyObject *str = PyUnicode_DecodeUTF8(message, (Py_ssize_t)len - 1,
                                             "replace");
        if (str != NULL) {
            PyObject *exc = PyObject_CallOneArg(error, str);
            if (exc != NULL &&
                PyObject_SetAttrString(exc, "rows", table) == 0) {
                PyErr_SetObject(error, exc);
            }
            Py_XDECREF(exc);
            Py_DECREF(str);
        }
        Py_DECREF(error);
    }
    free(message);
done:
    Py_XDECREF(selected);
    Py_XDECREF(after);
    Py_XDECREF(rows);
    Py_XDECREF(table);
    return result;
}

/* ---- reference chains (objgraph's leak recipe) ------------------------ */

/* (obj, predicate, max_depth=20, extra_ignore=()) from a vectorcall, so
 * no argument tuple of ours refers to obj while its referrers are
 * walked.  0, or -1 with TypeError set. */
static int
chain_args(const char *name, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames, PyObject **values)
{
    static const char *const names[] = {"obj", "predicate", "max_depth",
                                        "extra_ignore"};
    values[0] = values[1] = values[2] = values[3] = NULL;
    if (nargs > 4) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most 4 arguments",
                     name);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        values[i] = args[i];
    }
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        int slot = -1;
        for (int i = 0; i < 4; i++) {
            if (PyUnicode_CompareWithASCIIString(key, names[i]) == 0) {
                slot = i;
            }
        }
        if (slot < 0 || values[slot] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got %s argument '%U'", name,
                         slot < 0 ? "an unexpected" : "multiple values for",
                         key);
            return -1;
        }
        values[slot] = args[nargs + k];
    }
    if (values[0] == NULL || values[1] == NULL) {
        PyErr_Format(PyExc_TypeError, "%s() needs obj and predicate", name);
        return -1;
    }
    return 0;
}

static PyObject *
find_chain(const char *name, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames, int backrefs)
{
    PyObject *values[4];
    if (chain_args(name, args, nargs, kwnames, values) < 0) {
        return NULL;
    }
    Py_ssize_t max_depth = 20;
    if (values[2] != NULL) {
        max_depth = PyNumber_AsSsize_t(values[2], PyExc_OverflowError);
        if (max_depth == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    return pyprof_chain_find(values[0], values[1], max_depth, values[3],
                             backrefs);
}

static PyObject *
heap_find_backref_chain(PyObject *module, PyObject *const *args,
                        Py_ssize_t nargs, PyObject *kwnames)
{
    return find_chain("find_backref_chain", args, nargs, kwnames, 1);
}

static PyObject *
heap_find_ref_chain(PyObject *module, PyObject *const *args,
                    Py_ssize_t nargs, PyObject *kwnames)
{
    return find_chain("find_ref_chain", args, nargs, kwnames, 0);
}

static PyObject *
heap_is_proper_module(PyObject *module, PyObject *obj)
{
    return PyBool_FromLong(pyprof_chain_is_proper_module(obj));
}

/* show_chain's filter: id(x) in the chains' ids (self, a set). */
static PyObject *
in_chains(PyObject *ids, PyObject *obj)
{
    PyObject *id = PyLong_FromVoidPtr(obj);
    int in = id != NULL ? PySet_Contains(ids, id) : -1;
    Py_XDECREF(id);
    return in < 0 ? NULL : PyBool_FromLong(in);
}

static PyMethodDef in_chains_def = {"in_chains", in_chains, METH_O, NULL};

/* show_chain(*chains, backrefs=True, **kw): show_backrefs of the chains'
 * last objects (show_refs of their first with backrefs=False), as deep as
 * the longest chain, drawing only the chains' objects, as objgraph's. */
static PyObject *
heap_show_chain(PyObject *module, PyObject *args, PyObject *kwargs)
{
    PyObject *kw = kwargs != NULL ? PyDict_Copy(kwargs) : PyDict_New();
    PyObject *ids = PySet_New(NULL), *ends = PyList_New(0);
    PyObject *filter = NULL, *call_args = NULL, *result = NULL;
    if (kw == NULL || ids == NULL || ends == NULL) {
        goto done;
    }
    int backrefs = 1;
    PyObject *flag = PyDict_GetItemString(kw, "backrefs"); /* borrowed */
    if (flag != NULL) {
        backrefs = PyObject_IsTrue(flag);
        if (backrefs < 0 || PyDict_DelItemString(kw, "backrefs") < 0) {
            goto done;
        }
    }
    Py_ssize_t longest = -1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args); i++) {
        PyObject *chain = PySequence_List(PyTuple_GET_ITEM(args, i));
        if (chain == NULL) {
            goto done;
        }
        Py_ssize_t n = PyList_GET_SIZE(chain);
        int rc = 0;
        for (Py_ssize_t j = 0; j < n && rc == 0; j++) {
            PyObject *id = PyLong_FromVoidPtr(PyList_GET_ITEM(chain, j));
            rc = id != NULL ? PySet_Add(ids, id) : -1;
            Py_XDECREF(id);
        }
        if (rc == 0 && n > 0) {
            rc = PyList_Append(ends, PyList_GET_ITEM(chain,
                                                     backrefs ? n - 1 : 0));
            longest = n > longest ? n : longest;
        }
        Py_DECREF(chain);
        if (rc < 0) {
            goto done;
        }
    }
    if (longest < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "max() arg is an empty sequence");
        goto done;
    }
    filter = PyCFunction_New(&in_chains_def, ids);
    PyObject *depth = filter != NULL ? PyLong_FromSsize_t(longest - 1)
                                     : NULL;
    int rc = depth != NULL ? PyDict_SetItemString(kw, "max_depth", depth)
                           : -1;
    Py_XDECREF(depth);
    if (rc < 0 || PyDict_SetItemString(kw, "filter", filter) < 0) {
        goto done;
    }
    call_args = PyTuple_Pack(1, ends);
    if (call_args != NULL) {
        result = pyprof_refgraph_show(call_args, kw, backrefs);
    }
done:
    Py_XDECREF(call_args);
    Py_XDECREF(filter);
    Py_XDECREF(ends);
    Py_XDECREF(ids);
    Py_XDECREF(kw);
    return result;
}

static PyObject *
heap_at(PyObject *module, PyObject *address)
{
    return pyprof_object_at(address);
}

static PyObject *
heap_at_addrs(PyObject *module, PyObject *addresses)
{
    return pyprof_objects_at(addresses);
}

static PyObject *
heap_get_new_ids(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"skip_update", "limit", "sortby", "shortnames",
                             "file", NULL};
    int skip_update = 0;
    PyObject *limit = NULL, *sortby = NULL, *shortnames = Py_None;
    PyObject *file = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|pOOOO:get_new_ids",
                                     kwlist, &skip_update, &limit, &sortby,
                                     &shortnames, &file)) {
        return NULL;
    }
    PyObject *ten = limit == NULL ? PyLong_FromLong(10) : NULL;
    PyObject *deltas = sortby == NULL ? PyUnicode_FromString("deltas")
                                      : NULL;
    PyObject *result = NULL;
    if ((limit != NULL || ten != NULL) && (sortby != NULL || deltas != NULL)) {
        result = pyprof_new_ids(skip_update, limit ? limit : ten,
                                sortby ? sortby : deltas, shortnames, file);
    }
    Py_XDECREF(ten);
    Py_XDECREF(deltas);
    return result;
}

#define KW (METH_VARARGS | METH_KEYWORDS)
#define FN(f) ((PyCFunction)(void (*)(void))(f))

static PyMethodDef heap_methods[] = {
    {"find_backref_chain", FN(heap_find_backref_chain),
     METH_FASTCALL | METH_KEYWORDS,
     "find_backref_chain(obj, predicate, max_depth=20, extra_ignore=())"
     "\n\nA shortest chain of references leading to obj, from an object "
     "for which predicate is true: [found, ..., obj], or [obj]."},
    {"find_ref_chain", FN(heap_find_ref_chain),
     METH_FASTCALL | METH_KEYWORDS,
     "find_ref_chain(obj, predicate, max_depth=20, extra_ignore=())\n\n"
     "A shortest chain of references from obj to an object for which "
     "predicate is true: [obj, ..., found], or [obj]."},
    {"show_chain", FN(heap_show_chain), KW,
     "show_chain(*chains, backrefs=True, **kw)\n\nDraw chains of "
     "references (from find_backref_chain) as show_backrefs does."},
    {"is_proper_module", heap_is_proper_module, METH_O,
     "is_proper_module(obj) -> bool\n\nobj is a module of sys.modules."},
    {"at", heap_at, METH_O,
     "at(addr)\n\nThe tracked object whose id() is addr, or None."},
    {"at_addrs", heap_at_addrs, METH_O,
     "at_addrs(address_set) -> list\n\nThe tracked objects whose ids "
     "are in address_set."},
    {"get_new_ids", FN(heap_get_new_ids), KW,
     "get_new_ids(skip_update=False, limit=10, sortby='deltas', "
     "shortnames=None, file=None) -> dict\n\nIds of the objects new "
     "since the last call, per type name; prints objgraph's table."},
    {"typestats", FN(heap_typestats), KW,
     "typestats(objects=None, shortnames=True, filter=None) -> dict\n\n"
     "Count the objects the garbage collector tracks by type name, as\n"
     "objgraph.typestats() does."},
    {"most_common_types", FN(heap_most_common_types), KW,
     "most_common_types(limit=10, objects=None, shortnames=True, "
     "filter=None)\n\nA list of (type name, count), most frequent first."},
    {"show_most_common_types", FN(heap_show_most_common_types), KW,
     "show_most_common_types(limit=10, objects=None, shortnames=True, "
     "file=None, filter=None)\n\nPrint most_common_types() as objgraph "
     "does."},
    {"growth", FN(heap_growth), KW,
     "growth(limit=10, peak_stats=None, shortnames=True, filter=None)\n\n"
     "A list of (type name, count, increase) of the types whose count\n"
     "exceeds its peak so far; raises the peaks."},
    {"show_growth", FN(heap_show_growth), KW,
     "show_growth(limit=10, peak_stats=None, shortnames=True, file=None, "
     "filter=None)\n\nPrint growth() as objgraph.show_growth() does."},
    {"count", FN(heap_count), KW,
     "count(typename, objects=None) -> int\n\nHow many tracked objects "
     "have this type name ('name' or 'module.name')."},
    {"by_type", FN(heap_by_type), KW,
     "by_type(typename, objects=None) -> list\n\nThe tracked objects with "
     "this type name ('name' or 'module.name')."},
    {"get_leaking_objects", FN(heap_get_leaking_objects), KW,
     "get_leaking_objects(objects=None) -> list\n\nThe objects no tracked "
     "object refers to."},
    {"census", FN(heap_census), KW,
     "census(limit=None, shortnames=True, objects=None, collect=True)\n\n"
     "A list of (type name, count, bytes) of the tracked objects, most\n"
     "frequent first; bytes is the sum of sys.getsizeof()."},
    {"show_refs", FN(heap_show_refs), KW,
     "show_refs(objs, max_depth=3, extra_ignore=(), filter=None, "
     "too_many=10, highlight=None, filename=None, extra_info=None, "
     "refcounts=False, shortnames=True, output=None)\n\n"
     "Write the graph of the objects reachable from objs as Graphviz DOT."},
    {"show_backrefs", FN(heap_show_backrefs), KW,
     "show_backrefs(objs, max_depth=3, extra_ignore=(), filter=None, "
     "too_many=10, highlight=None, filename=None, extra_info=None, "
     "refcounts=False, shortnames=True, output=None)\n\n"
     "Write the graph of the objects that refer to objs as Graphviz DOT."},
    {"_growth_baseline", heap_growth_baseline, METH_NOARGS,
     "_growth_baseline() -> dict\n\nThe census by type after a full "
     "collection: pyprof.no_growth's starting point."},
    {"_no_growth_check", FN(heap_no_growth_check), METH_FASTCALL,
     "_no_growth_check(before, types, tolerance)\n\nRaise "
     "HeapGrowthError (with .rows) when a type grew by more than "
     "tolerance objects since the baseline `before`."},
    {NULL, NULL, 0, NULL},
};

int
pyprof_heap_api_add(PyObject *module)
{
    if (PyModule_AddFunctions(module, heap_methods) < 0) {
        return -1;
    }
    PyObject *peaks = PyDict_New();
    if (peaks == NULL || PyModule_AddObject(module, "_peak_stats",
                                            peaks) < 0) {
        Py_XDECREF(peaks);
        return -1;
    }
    PyObject *error = PyErr_NewExceptionWithDoc(
        "pyprof.HeapGrowthError",
        "A pyprof.no_growth() block left more objects behind than allowed.",
        PyExc_AssertionError, NULL);
    if (error == NULL || PyModule_AddObject(module, "HeapGrowthError",
                                            error) < 0) {
        Py_XDECREF(error);
        return -1;
    }
    return 0;
}
