/* offsets.h - where things are in a target's CPython structures.
 *
 * The sampler reads every structure through one pyprof_layout_t, filled
 * once per target by pyprof_layout_get(): from tables generated from the
 * real headers (tools/gen_offsets.c) for 3.10-3.12, and from the target's
 * own _Py_DebugOffsets (the head of _PyRuntime) from 3.13 on -- so a patch
 * release that moves a field needs no change here, only a new minor
 * version's _Py_DebugOffsets struct does.  Every per-version difference of
 * the sampler lives here: the code that walks threads and frames asks the
 * layout, never the version.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_OFFSETS_H
#define PYPROF_SAMPLER_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

/* How co_linetable encodes line numbers. */
enum {
    PYPROF_LINETABLE_310 = 1, /* (bytes delta, line delta) pairs */
    PYPROF_LINETABLE_311 = 2, /* PEP 657 location table */
};

/* How a dict's keys object starts (PyDictKeysObject). */
enum {
    PYPROF_DICTKEYS_310 = 1, /* dk_size, indices sized by it, 24-byte
                                entries (hash, key, value) */
    PYPROF_DICTKEYS_311 = 2, /* dk_log2_size, dk_log2_index_bytes,
                                dk_kind: 16-byte entries (key, value)
                                unless the kind is general */
};

/* Where an instance keeps its attributes (a Python class's object). */
enum {
    PYPROF_ATTRS_310 = 1, /* a dict at tp_dictoffset */
    PYPROF_ATTRS_311 = 2, /* managed: values at -32, dict at -24 */
    PYPROF_ATTRS_312 = 3, /* managed: -24 holds a dict, or values - 1 */
    PYPROF_ATTRS_313 = 4, /* managed dict at -24, else inline values at
                             tp_basicsize (with a header) */
};

/* All offsets are bytes from the start of the structure named by the
 * prefix; 0 in a field marked optional means "absent in this version". */
typedef struct {
    uint32_t version;              /* PY_VERSION_HEX of the target */
    /* _PyRuntimeState */
    uint64_t runtime_interpreters_head;
    uint64_t runtime_gil_locked;   /* optional: 3.10/3.11 keep the GIL in */
    uint64_t runtime_gil_holder;   /* _PyRuntime.ceval.gil */
    /* PyInterpreterState */
    uint64_t interp_next;
    uint64_t interp_id;
    uint64_t interp_threads_head;
    uint64_t interp_ceval_gil;     /* optional: 3.12+ pointer to its GIL */
    /* struct _gil_runtime_state (3.12+, through interp_ceval_gil) */
    uint64_t gil_locked;
    uint64_t gil_holder;
    /* PyThreadState */
    uint64_t tstate_size;          /* bytes read per thread state */
    uint64_t tstate_next;
    uint64_t tstate_interp;
    uint64_t tstate_frame;         /* 3.10 frame, 3.13+ current_frame */
    uint64_t tstate_cframe;        /* 3.11/3.12: cframe, then ... */
    uint64_t cframe_current_frame; /* ... its current_frame */
    int has_cframe;
    uint64_t tstate_thread_id;
    uint64_t tstate_native_thread_id; /* optional (3.11+) */
    /* frames: PyFrameObject before 3.11, _PyInterpreterFrame after */
    uint64_t frame_size;           /* bytes read per frame */
    uint64_t frame_previous;
    uint64_t frame_code;
    uint64_t frame_instr;          /* 3.10 int f_lasti (instructions);
                                      3.11+ pointer into the bytecode */
    uint64_t frame_owner;          /* optional (3.11+): char owner */
    int frame_is_object;           /* 3.10 */
    int code_is_tagged;            /* 3.14+: f_executable is a _PyStackRef */
    int owner_skip_a;              /* owner values of frames that are not */
    int owner_skip_b;              /* Python code (C-stack shims, 3.14's
                                      interpreter sentinels); -1 none */
    /* PyCodeObject */
    uint64_t code_size;            /* bytes read per code object head */
    uint64_t code_filename;
    uint64_t code_name;
    uint64_t code_qualname;        /* optional (3.11+) */
    uint64_t code_linetable;
    uint64_t code_firstlineno;
    uint64_t code_adaptive;        /* 3.11+: first code unit */
    int linetable_format;          /* PYPROF_LINETABLE_* */
    /* PyUnicodeObject (compact forms only) */
    uint64_t unicode_length;
    uint64_t unicode_state;
    uint64_t unicode_ascii_size;   /* data of a compact ASCII string */
    uint64_t unicode_compact_size; /* data of another compact string */
    /* PyBytesObject */
    uint64_t bytes_size;
    uint64_t bytes_sval;
    /* thread names (threading._active, threadnames.h): the interpreter's
     * sys.modules, dicts, ints, instance attributes */
    uint64_t interp_modules;       /* PyInterpreterState: sys.modules */
    uint64_t dict_keys;            /* PyDictObject.ma_keys */
    uint64_t dict_values;          /* PyDictObject.ma_values */
    int dictkeys_format;           /* PYPROF_DICTKEYS_* */
    uint64_t values_header;        /* PyDictValues: bytes before values[] */
    uint64_t module_dict;          /* PyModuleObject.md_dict */
    uint64_t object_type;          /* PyObject.ob_type */
    uint64_t type_flags;           /* PyTypeObject.tp_flags */
    uint64_t type_basicsize;
    uint64_t type_dictoffset;
    uint64_t heaptype_cached_keys; /* PyHeapTypeObject.ht_cached_keys */
    int attrs_format;              /* PYPROF_ATTRS_* */
    uint64_t long_size;            /* ob_size before 3.12, lv_tag after */
    uint64_t long_digits;          /* 30-bit digits, one per uint32 */
    int long_is_tagged;            /* 3.12+: lv_tag = ndigits << 3 | sign */
} pyprof_layout_t;

/* Bytes at the head of _PyRuntime that pyprof_layout_get() needs to see
 * (it is the largest _Py_DebugOffsets known, rounded up). */
#define PYPROF_LAYOUT_HEAD_BYTES 1024

/* Fill *layout for CPython `version_hex`.  `runtime_head[0..head_len)` are
 * the first bytes of the target's _PyRuntime (needed from 3.13 on; may be
 * NULL before).  Returns 0; or PYPROF_SAMPLER_UNSUPPORTED (a version with
 * no table, a free-threaded build) or PYPROF_SAMPLER_INCONSISTENT (no
 * valid _Py_DebugOffsets), with a one-line message in err. */
int pyprof_layout_get(uint32_t version_hex, const unsigned char *runtime_head,
                      size_t head_len, pyprof_layout_t *layout, char *err,
                      size_t errlen);

#endif
