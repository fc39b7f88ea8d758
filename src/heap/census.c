/* census.c - objects by type: counts, objgraph's names, sys.getsizeof.
 *
 * The fast path (no filter, no sizes) counts during the collector walk:
 * one pointer-map probe per object keyed by its type, no Python code, no
 * allocation of Python objects -- which is what the walk requires and
 * what makes a census of millions of objects take milliseconds.  Names
 * are computed afterwards, once per type.  Anything that runs Python code
 * per object (filter=, __sizeof__) works on a snapshot of strong
 * references instead, because Python code may create or free tracked
 * objects and the walk may be following the collector's own lists.
 */
#include "census.h"

#include <stdlib.h>
#include <string.h>

#include "walk.h"

int
pyprof_census_init(pyprof_census_t *census)
{
    memset(census, 0, sizeof(*census));
    if (pyprof_ptrmap_init(&census->index) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

void
pyprof_census_clear(pyprof_census_t *census)
{
    for (size_t i = 0; i < census->nrows; i++) {
        Py_DECREF(census->rows[i].type);
    }
    free(census->rows);
    census->rows = NULL;
    census->nrows = census->capacity = 0;
    census->total = 0;
    pyprof_ptrmap_free(&census->index);
}

/* The row of `type`, added when new.  NULL when out of memory (no
 * exception set: the walk's visitor may not raise). */
static pyprof_census_row_t *
census_row(pyprof_census_t *census, PyTypeObject *type)
{
    uint32_t index;
    if (pyprof_ptrmap_get(&census->index, type, &index)) {
        return &census->rows[index];
    }
    if (census->nrows == census->capacity) {
        size_t capacity = census->capacity ? census->capacity * 2 : 256;
        pyprof_census_row_t *rows = realloc(
            census->rows, capacity * sizeof(pyprof_census_row_t));
        if (rows == NULL) {
            return NULL;
        }
        census->rows = rows;
        census->capacity = capacity;
    }
    if (pyprof_ptrmap_set(&census->index, type,
                          (uint32_t)census->nrows) < 0) {
        return NULL;
    }
    pyprof_census_row_t *row = &census->rows[census->nrows++];
    row->type = (PyTypeObject *)Py_NewRef((PyObject *)type);
    row->count = 0;
    row->bytes = 0;
    return row;
}

void
pyprof_census_skip(pyprof_census_t *census, PyObject *obj)
{
    if (obj != NULL && census->nskip < PYPROF_CENSUS_MAX_SKIP) {
        census->skip[census->nskip++] = obj;
    }
}

int
pyprof_census_skipped(const pyprof_census_t *census, PyObject *obj)
{
    for (int i = 0; i < census->nskip; i++) {
        if (census->skip[i] == obj) {
            return 1;
        }
    }
    return 0;
}

static int
count_visit(PyObject *obj, void *arg)
{
    pyprof_census_t *census = arg;
    if (census->nskip > 0 && pyprof_census_skipped(census, obj)) {
        return 0;
    }
    pyprof_census_row_t *row = census_row(census, Py_TYPE(obj));
    if (row == NULL) {
        census->out_of_memory = 1;
        return 1;
    }
    row->count++;
    census->total++;
    return 0;
}

/* sys.getsizeof(obj), or 0 when the object's __sizeof__ fails (the
 * census must survive broken objects).  -1 with an exception set only
 * when the interpreter is out of memory. */
static Py_ssize_t
object_size(PyObject *getsizeof, PyObject *obj)
{
    PyObject *result = PyObject_CallOneArg(getsizeof, obj);
    if (result == NULL) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    Py_ssize_t size = PyLong_AsSsize_t(result);
    Py_DECREF(result);
    if (size < 0) {
        PyErr_Clear();
        return 0;
    }
    return size;
}

/* Count one object that Python code may look at. */
static int
count_object(pyprof_census_t *census, PyObject *obj, PyObject *filter,
             PyObject *getsizeof)
{
    if (filter != NULL) {
        PyObject *keep = PyObject_CallOneArg(filter, obj);
        if (keep == NULL) {
            return -1;
        }
        int truth = PyObject_IsTrue(keep);
        Py_DECREF(keep);
        if (truth <= 0) {
            return truth;
        }
    }
    Py_ssize_t size = 0;
    if (getsizeof != NULL && (size = object_size(getsizeof, obj)) < 0) {
        return -1;
    }
    pyprof_census_row_t *row = census_row(census, Py_TYPE(obj));
    if (row == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    row->count++;
    row->bytes += size;
    census->total++;
    return 0;
}

int
pyprof_census_take(pyprof_census_t *census, PyObject *objects,
                   PyObject *filter, int sizes)
{
    if (objects == NULL && filter == NULL && !sizes) {
        if (pyprof_heap_walk(count_visit, census) < 0) {
            return -1;
        }
        if (census->out_of_memory) {
            PyErr_NoMemory();
            return -1;
        }
        return 0;
    }
    PyObject *getsizeof = NULL;
    if (sizes) {
        getsizeof = PySys_GetObject("getsizeof"); /* borrowed */
        if (getsizeof == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "sys.getsizeof is missing");
            return -1;
        }
        Py_INCREF(getsizeof);
    }
    int rc = -1;
    if (objects == NULL) {
        PyObject **items;
        Py_ssize_t count;
        if (pyprof_heap_snapshot(&items, &count) < 0) {
            goto done;
        }
        rc = 0;
        for (Py_ssize_t i = 0; i < count && rc == 0; i++) {
            if (!pyprof_census_skipped(census, items[i])) {
                rc = count_object(census, items[i], filter, getsizeof);
            }
        }
        pyprof_heap_snapshot_free(items, count);
    }
    else {
        PyObject *iterator = PyObject_GetIter(objects);
        if (iterator == NULL) {
            goto done;
        }
        PyObject *item;
        rc = 0;
        while (rc == 0 && (item = PyIter_Next(iterator)) != NULL) {
            rc = count_object(census, item, filter, getsizeof);
            Py_DECREF(item);
        }
        Py_DECREF(iterator);
        if (PyErr_Occurred()) {
            rc = -1;
        }
    }
done:
    Py_XDECREF(getsizeof);
    return rc;
}

/* tp_name after its last dot: what __name__ is for a static type. */
static PyObject *
fallback_name(PyTypeObject *type)
{
    const char *dot = strrchr(type->tp_name, '.');
    return PyUnicode_FromString(dot != NULL ? dot + 1 : type->tp_name);
}

PyObject *
pyprof_census_type_name(PyTypeObject *type, int shortnames)
{
    /* Looked up as objgraph does (type(obj).__name__), so a metaclass
     * that overrides __name__ is honoured; anything broken falls back. */
    PyObject *name = PyObject_GetAttrString((PyObject *)type, "__name__");
    if (name == NULL || !PyUnicode_Check(name)) {
        Py_XDECREF(name);
        if (PyErr_Occurred() &&
            PyErr_ExceptionMatches(PyExc_MemoryError)) {
            return NULL;
        }
        PyErr_Clear();
        name = fallback_name(type);
        if (name == NULL) {
            return NULL;
        }
    }
    if (shortnames) {
        return name;
    }
    PyObject *module = PyObject_GetAttrString((PyObject *)type,
                                              "__module__");
    if (module == NULL) {
        PyErr_Clear();
        return name;
    }
    int truth = PyObject_IsTrue(module);
    PyObject *full = NULL;
    if (truth > 0) {
        full = PyUnicode_FromFormat("%S.%U", module, name);
    }
    if (full == NULL) {
        PyErr_Clear();
        full = Py_NewRef(name);
    }
    Py_DECREF(module);
    Py_DECREF(name);
    return full;
}

/* dict[name] += value, inserting 0 first. */
static int
dict_add(PyObject *dict, PyObject *name, Py_ssize_t value)
{
    PyObject *old = PyDict_GetItemWithError(dict, name); /* borrowed */
    if (old == NULL && PyErr_Occurred()) {
        return -1;
    }
    Py_ssize_t sum = value;
    if (old != NULL) {
        sum += PyLong_AsSsize_t(old);
    }
    PyObject *number = PyLong_FromSsize_t(sum);
    if (number == NULL) {
        return -1;
    }
    int rc = PyDict_SetItem(dict, name, number);
    Py_DECREF(number);
    return rc;
}

PyObject *
pyprof_census_by_name(const pyprof_census_t *census, int shortnames,
                      PyObject **bytes_out)
{
    PyObject *counts = PyDict_New();
    PyObject *bytes = bytes_out != NULL ? PyDict_New() : NULL;
    if (counts == NULL || (bytes_out != NULL && bytes == NULL)) {
        goto error;
    }
    for (size_t i = 0; i < census->nrows; i++) {
        const pyprof_census_row_t *row = &census->rows[i];
        if (row->count == 0) {
            continue;
        }
        PyObject *name = pyprof_census_type_name(row->type, shortnames);
        if (name == NULL) {
            goto error;
        }
        int rc = dict_add(counts, name, row->count);
        if (rc == 0 && bytes != NULL) {
            rc = dict_add(bytes, name, row->bytes);
        }
        Py_DECREF(name);
        if (rc < 0) {
            goto error;
        }
    }
    if (bytes_out != NULL) {
        *bytes_out = bytes;
    }
    return counts;
error:
    Py_XDECREF(counts);
    Py_XDECREF(bytes);
    return NULL;
}

int
pyprof_census_type_matches(PyTypeObject *type, PyObject *typename)
{
    Py_ssize_t dot = PyUnicode_FindChar(
        typename, '.', 0, PyUnicode_GET_LENGTH(typename), 1);
    if (dot == -2) {
        return -1;
    }
    PyObject *name = pyprof_census_type_name(type, dot < 0);
    if (name == NULL) {
        return -1;
    }
    int equal = PyUnicode_Compare(name, typename) == 0;
    Py_DECREF(name);
    if (PyErr_Occurred()) {
        return -1;
    }
    return equal;
}

typedef struct {
    Py_ssize_t key;
    Py_ssize_t position;
} sort_entry_t;

static int
compare_desc(const void *a, const void *b)
{
    const sort_entry_t *x = a, *y = b;
    if (x->key != y->key) {
        return x->key > y->key ? -1 : 1;
    }
    return x->position < y->position ? -1 : 1;
}

int
pyprof_census_sort_desc(PyObject *pairs, Py_ssize_t key_index)
{
    Py_ssize_t n = PyList_GET_SIZE(pairs);
    if (n < 2) {
        return 0;
    }
    sort_entry_t *entries = malloc((size_t)n * sizeof(sort_entry_t));
    PyObject **items = malloc((size_t)n * sizeof(PyObject *));
    if (entries == NULL || items == NULL) {
        free(entries);
        free(items);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyList_GET_ITEM(pairs, i);
        entries[i].key = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, key_index));
        entries[i].position = i;
        items[i] = pair;
    }
    if (PyErr_Occurred()) {
        free(entries);
        free(items);
        return -1;
    }
    qsort(entries, (size_t)n, sizeof(sort_entry_t), compare_desc);
    /* The list keeps its references; only the slots are permuted. */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyList_SET_ITEM(pairs, i, items[entries[i].position]);
    }
    free(entries);
    free(items);
    return 0;
}
