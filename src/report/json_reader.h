/* json_reader.h - a strict, bounded JSON parser for files pyprof reads.
 *
 * `pyprof view` reads JSON written by other pyprof commands (the line
 * profile of `pyprof lines -o FILE.json`), but a file on disk is outside
 * data: this parser accepts RFC 8259 JSON only, limits nesting depth,
 * decodes \u escapes (surrogate pairs included) to UTF-8 and rejects
 * strings that are not UTF-8 or contain NUL.  It is fuzzed.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_JSON_READER_H
#define PYPROF_JSON_READER_H

#include <stddef.h>

typedef enum {
    PYPROF_JSON_NULL, PYPROF_JSON_BOOL, PYPROF_JSON_NUMBER,
    PYPROF_JSON_STRING, PYPROF_JSON_ARRAY, PYPROF_JSON_OBJECT
} pyprof_json_kind_t;

typedef struct pyprof_json pyprof_json_t;
struct pyprof_json {
    pyprof_json_kind_t kind;
    double number;          /* NUMBER; BOOL: 0 or 1 */
    char *string;           /* STRING: NUL-terminated UTF-8 */
    char *key;              /* member name when inside an object */
    pyprof_json_t *first;   /* ARRAY/OBJECT: first element */
    pyprof_json_t *next;    /* next sibling */
    size_t count;           /* ARRAY/OBJECT: number of elements */
};

/* Parse `len` bytes.  Returns the root (free it with pyprof_json_free), or
 * NULL with a one-line reason in errbuf. */
pyprof_json_t *pyprof_json_parse(const char *data, size_t len, char *errbuf,
                                 size_t errlen);

void pyprof_json_free(pyprof_json_t *root);

/* The member `key` of an object, or NULL (borrowed). */
const pyprof_json_t *pyprof_json_get(const pyprof_json_t *object,
                                     const char *key);

/* Non-zero when `v` (NULL allowed) is a finite number, a string. */
int pyprof_json_is_number(const pyprof_json_t *v);
int pyprof_json_is_string(const pyprof_json_t *v);

#endif
