/* new_ids.c - objgraph's get_new_ids(), at() and at_addrs() (see
 * new_ids.h).
 *
 * get_new_ids keeps objgraph's state -- three defaultdict(set) of ids per
 * type name, old, current and new, and the shortnames choice -- in one
 * module-level dict, so the dict returned is the same object every call,
 * as objgraph's.  The objects are read from a snapshot of the collector's
 * lists (C memory): nothing of ours is counted, as objgraph's own list
 * from gc.get_objects() is not.
 */
#include "new_ids.h"

#include "census.h"
#include "walk.h"

/* {"old", "current", "new": defaultdict(set), "shortnames": bool}, made
 * at the first call.  A global like objgraph's _state default argument;
 * protected by the GIL. */
static PyObject *new_ids_state = NULL;

/* A new collections.defaultdict(set), or NULL with an exception set. */
static PyObject *
new_defaultdict_of_sets(void)
{
    PyObject *collections = PyImport_ImportModule("collections");
    if (collections == NULL) {
        return NULL;
    }
    PyObject *factory = PyObject_GetAttrString(collections, "defaultdict");
    Py_DECREF(collections);
    if (factory == NULL) {
        return NULL;
    }
    PyObject *dict = PyObject_CallOneArg(factory,
                                         (PyObject *)&PySet_Type);
    Py_DECREF(factory);
    return dict;
}

/* The state dict (borrowed), made on first use; NULL with an exception
 * set. */
static PyObject *
state(void)
{
    if (new_ids_state != NULL) {
        return new_ids_state;
    }
    PyObject *dict = PyDict_New();
    static const char *const keys[] = {"old", "current", "new"};
    for (size_t i = 0; dict != NULL && i < 3; i++) {
        PyObject *ids = new_defaultdict_of_sets();
        if (ids == NULL || PyDict_SetItemString(dict, keys[i], ids) < 0) {
            Py_XDECREF(ids);
            Py_CLEAR(dict);
            break;
        }
        Py_DECREF(ids);
    }
    if (dict != NULL
        && PyDict_SetItemString(dict, "shortnames", Py_True) < 0) {
        Py_CLEAR(dict);
    }
    new_ids_state = dict;
    return dict;
}

/* ids[name] (a set; defaultdict makes it when missing): borrowed-like
 * new reference, or NULL with an exception set. */
static PyObject *
ids_of(PyObject *ids, PyObject *name)
{
    return PyObject_GetItem(ids, name);
}

/* Fill `current` (emptied first, keys kept) with the ids of every tracked
 * object by type name.  0, or -1 with an exception set. */
static int
collect_current(PyObject *current, int shortnames)
{
    PyObject **items;
    Py_ssize_t count;
    PyGC_Collect();
    if (pyprof_heap_snapshot(&items, &count) < 0) {
        return -1;
    }
    int rc = 0;
    PyObject *names = PyDict_New();     /* type -> name, once per type */
    for (Py_ssize_t i = 0; names != NULL && i < count && rc == 0; i++) {
        PyObject *type = (PyObject *)Py_TYPE(items[i]);
        PyObject *name = PyDict_GetItemWithError(names, type);
        if (name == NULL) {
            name = PyErr_Occurred()
                       ? NULL
                       : pyprof_census_type_name(Py_TYPE(items[i]),
                                                 shortnames);
            if (name == NULL || PyDict_SetItem(names, type, name) < 0) {
                Py_XDECREF(name);
                rc = -1;
                break;
            }
            Py_DECREF(name);    /* `names` holds it */
        }
        PyObject *set = ids_of(current, name);
        PyObject *id = set != NULL ? PyLong_FromVoidPtr(items[i]) : NULL;
        if (id == NULL || PySet_Add(set, id) < 0) {
            rc = -1;
        }
        Py_XDECREF(id);
        Py_XDECREF(set);
    }
    if (names == NULL) {
        rc = -1;
    }
    Py_XDECREF(names);
    pyprof_heap_snapshot_free(items, count);
    return rc;
}

/* Every value of `ids` (a dict of sets) emptied, keys kept.  0 or -1. */
static int
clear_sets(PyObject *ids)
{
    PyObject *name, *set;
    Py_ssize_t pos = 0;
    while (PyDict_Next(ids, &pos, &name, &set)) {
        if (PySet_Clear(set) < 0) {
            return -1;
        }
    }
    return 0;
}

/* old[name] |= current[name] for every name of `current`.  0 or -1. */
static int
age(PyObject *old, PyObject *current)
{
    if (clear_sets(old) < 0) {
        return -1;
    }
    PyObject *name, *set;
    Py_ssize_t pos = 0;
    while (PyDict_Next(current, &pos, &name, &set)) {
        PyObject *into = ids_of(old, name);
        PyObject *res = into != NULL
                            ? PyObject_CallMethod(into, "update", "O", set)
                            : NULL;
        Py_XDECREF(into);
        if (res == NULL) {
            return -1;
        }
        Py_DECREF(res);
    }
    return 0;
}

/* The rows (name, old, current, new, delta) of objgraph's table, with
 * new_ids filled and names that have neither old nor current objects
 * dropped from the three dicts.  New list or NULL. */
static PyObject *
compare(PyObject *old, PyObject *current, PyObject *new_ids)
{
    PyObject *rows = PyList_New(0);
    PyObject *gone = PyList_New(0);
    PyObject *names = rows != NULL && gone != NULL
                          ? PyDict_Keys(current) : NULL;
    if (names == NULL || clear_sets(new_ids) < 0) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names); i++) {
        PyObject *name = PyList_GET_ITEM(names, i);
        PyObject *was = ids_of(old, name);
        PyObject *now = was != NULL ? ids_of(current, name) : NULL;
        if (now == NULL) {
            Py_XDECREF(was);
            goto error;
        }
        Py_ssize_t nold = PySet_GET_SIZE(was), nnow = PySet_GET_SIZE(now);
        PyObject *fresh = NULL, *into = NULL, *row = NULL, *res = NULL;
        int rc = -1;
        if (nold == 0 && nnow == 0) {
            rc = PyList_Append(gone, name);
        }
        else if ((fresh = PyNumber_Subtract(now, was)) != NULL
                 && (into = ids_of(new_ids, name)) != NULL
                 && (res = PyObject_CallMethod(into, "update", "O", fresh))
                        != NULL
                 && (row = Py_BuildValue("(Onnnn)", name, nold, nnow,
                                         PySet_GET_SIZE(fresh),
                                         nnow - nold)) != NULL) {
            rc = PyList_Append(rows, row);
        }
        Py_XDECREF(row);
        Py_XDECREF(res);
        Py_XDECREF(into);
        Py_XDECREF(fresh);
        Py_DECREF(was);
        Py_DECREF(now);
        if (rc < 0) {
            goto error;
        }
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(gone); i++) {
        PyObject *name = PyList_GET_ITEM(gone, i);
        if (PyObject_DelItem(old, name) < 0
            || PyObject_DelItem(current, name) < 0
            || PyObject_DelItem(new_ids, name) < 0) {
            goto error;
        }
    }
    Py_DECREF(names);
    Py_DECREF(gone);
    return rows;
error:
    Py_XDECREF(names);
    Py_XDECREF(gone);
    Py_XDECREF(rows);
    return NULL;
}

/* print(text, file=file), file None meaning sys.stdout.  0 or -1. */
static int
print_line(PyObject *file, PyObject *text)
{
    if (file == Py_None) {
        file = PySys_GetObject("stdout"); /* borrowed */
        if (file == NULL || file == Py_None) {
            return 0;
        }
    }
    PyObject *line = PyUnicode_FromFormat("%U\n", text);
    PyObject *res = line != NULL
                        ? PyObject_CallMethod(file, "write", "O", line)
                        : NULL;
    Py_XDECREF(line);
    Py_XDECREF(res);
    return res != NULL ? 0 : -1;
}

/* objgraph's table of `rows` to `file`.  0 or -1. */
static int
print_table(PyObject *rows, PyObject *file)
{
    Py_ssize_t width = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *name = PyTuple_GET_ITEM(PyList_GET_ITEM(rows, i), 0);
        if (PyUnicode_GET_LENGTH(name) > width) {
            width = PyUnicode_GET_LENGTH(name);
        }
    }
    PyObject *rule = PyUnicode_New(width + 13 * 4, '=');
    if (rule == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < width + 13 * 4; i++) {
        PyUnicode_WRITE(PyUnicode_KIND(rule), PyUnicode_DATA(rule), i, '=');
    }
    /* Python's % formatting: PyUnicode_FromFormat's %-*s is 3.12+. */
    PyObject *header_format = PyUnicode_FromString("%-*s%13s%13s%13s%13s");
    PyObject *header_values = Py_BuildValue(
        "(nsssss)", width, "Type", "Old_ids", "Current_ids", "New_ids",
        "Count_Deltas");
    PyObject *header = header_format != NULL && header_values != NULL
                           ? PyUnicode_Format(header_format, header_values)
                           : NULL;
    Py_XDECREF(header_format);
    Py_XDECREF(header_values);
    int rc = header != NULL && print_line(file, rule) == 0
                     && print_line(file, header) == 0
                     && print_line(file, rule) == 0
                 ? 0 : -1;
    Py_XDECREF(header);
    PyObject *format = PyUnicode_FromString("%-*s%13d%13d%+13d%+13d");
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(rows); i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        PyObject *values = format != NULL ? Py_BuildValue(
            "(nOOOOO)", width, PyTuple_GET_ITEM(row, 0),
            PyTuple_GET_ITEM(row, 1), PyTuple_GET_ITEM(row, 2),
            PyTuple_GET_ITEM(row, 3), PyTuple_GET_ITEM(row, 4)) : NULL;
        PyObject *line = values != NULL ? PyUnicode_Format(format, values)
                                        : NULL;
        rc = line != NULL ? print_line(file, line) : -1;
        Py_XDECREF(line);
        Py_XDECREF(values);
    }
    Py_XDECREF(format);
    if (rc == 0) {
        rc = print_line(file, rule);
    }
    Py_DECREF(rule);
    return rc;
}

/* Sort rows by column `index` then name, largest first, as objgraph's
 * rows.sort(key=itemgetter(index, 0), reverse=True).  0 or -1. */
static int
sort_rows(PyObject *rows, Py_ssize_t index)
{
    PyObject *operator = PyImport_ImportModule("operator");
    PyObject *key = operator != NULL
                        ? PyObject_CallMethod(operator, "itemgetter", "nn",
                                              index, (Py_ssize_t)0)
                        : NULL;
    Py_XDECREF(operator);
    if (key == NULL) {
        return -1;
    }
    PyObject *sort = PyObject_GetAttrString(rows, "sort");
    PyObject *noargs = PyTuple_New(0);
    PyObject *kwargs = Py_BuildValue("{sOsO}", "key", key, "reverse",
                                     Py_True);
    PyObject *res = sort != NULL && noargs != NULL && kwargs != NULL
                        ? PyObject_Call(sort, noargs, kwargs) : NULL;
    Py_XDECREF(res);
    Py_XDECREF(kwargs);
    Py_XDECREF(noargs);
    Py_XDECREF(sort);
    Py_DECREF(key);
    return res != NULL ? 0 : -1;
}

PyObject *
pyprof_new_ids(int skip_update, PyObject *limit, PyObject *sortby,
               PyObject *shortnames, PyObject *file)
{
    PyObject *st = state();
    if (st == NULL) {
        return NULL;
    }
    PyObject *old = PyDict_GetItemString(st, "old");         /* borrowed */
    PyObject *current = PyDict_GetItemString(st, "current"); /* borrowed */
    PyObject *new_ids = PyDict_GetItemString(st, "new");     /* borrowed */
    if (skip_update) {
        return Py_NewRef(new_ids);
    }
    static const char *const columns[] = {"old", "current", "new",
                                          "deltas"};
    Py_ssize_t index = 0;
    for (Py_ssize_t i = 0; i < 4 && index == 0; i++) {
        if (PyUnicode_Check(sortby)
            && PyUnicode_CompareWithASCIIString(sortby, columns[i]) == 0) {
            index = i + 1;
        }
    }
    if (index == 0) {
        PyErr_SetObject(PyExc_KeyError, sortby);
        return NULL;
    }
    if (shortnames == Py_None) {
        shortnames = PyDict_GetItemString(st, "shortnames"); /* borrowed */
    }
    else if (PyDict_SetItemString(st, "shortnames", shortnames) < 0) {
        return NULL;
    }
    int short_names = PyObject_IsTrue(shortnames);
    if (short_names < 0 || age(old, current) < 0 || clear_sets(current) < 0
        || collect_current(current, short_names) < 0) {
        return NULL;
    }
    PyObject *rows = compare(old, current, new_ids);
    if (rows == NULL || sort_rows(rows, index) < 0) {
        Py_XDECREF(rows);
        return NULL;
    }
    if (limit != Py_None) {
        Py_ssize_t n = PyNumber_AsSsize_t(limit, PyExc_OverflowError);
        if ((n == -1 && PyErr_Occurred())
            || PyList_SetSlice(rows, n < 0 ? PyList_GET_SIZE(rows) + n : n,
                               PY_SSIZE_T_MAX, NULL) < 0) {
            Py_DECREF(rows);
            return NULL;
        }
    }
    int rc = PyList_GET_SIZE(rows) > 0 ? print_table(rows, file) : 0;
    Py_DECREF(rows);
    return rc < 0 ? NULL : Py_NewRef(new_ids);
}

typedef struct {
    void *address;
    PyObject *found;    /* borrowed during the walk */
} find_t;

static int
find_visit(PyObject *obj, void *arg)
{
    find_t *find = arg;
    if ((void *)obj == find->address) {
        find->found = obj;
        return 1;
    }
    return 0;
}

PyObject *
pyprof_object_at(PyObject *address)
{
    find_t find = {PyLong_AsVoidPtr(address), NULL};
    if (find.address == NULL && PyErr_Occurred()) {
        return NULL;
    }
    if (pyprof_heap_walk(find_visit, &find) < 0) {
        return NULL;
    }
    return Py_NewRef(find.found != NULL ? find.found : Py_None);
}

PyObject *
pyprof_objects_at(PyObject *addresses)
{
    PyObject **items;
    Py_ssize_t count;
    if (pyprof_heap_snapshot(&items, &count) < 0) {
        return NULL;
    }
    PyObject *found = PyList_New(0);
    for (Py_ssize_t i = 0; found != NULL && i < count; i++) {
        PyObject *id = PyLong_FromVoidPtr(items[i]);
        int in = id != NULL ? PySequence_Contains(addresses, id) : -1;
        Py_XDECREF(id);
        if (in < 0 || (in && PyList_Append(found, items[i]) < 0)) {
            Py_CLEAR(found);
        }
    }
    pyprof_heap_snapshot_free(items, count);
    return found;
}
