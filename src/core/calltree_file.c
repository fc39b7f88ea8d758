/* calltree_file.c - the call-path trailer of pyprof's pstats files.
 *
 * See calltree_file.h for the layout.  The reader trusts nothing: the
 * footer's length is checked against the data, the node count against the
 * body size, every parent against the node's own index and every function
 * against the model, and every number for being finite.
 */
#include "calltree_file.h"
#include "readfile.h"
#include "section.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The magics are the bytes on disk, not C strings: no NUL (a string
 * literal filling the array exactly is an error for GCC 15+ under -Werror,
 * -Wunterminated-string-initialization). */
static const char body_magic[16] = {'P', 'Y', 'P', 'R', 'O', 'F', '-', 'P',
                                    'A', 'T', 'H', 'S', '-', 'v', '1', '\n'};
static const char foot_magic[8] = {'P', 'Y', 'P', 'R', 'O', 'F', 'P', 'T'};

#define NODE_BYTES 32u
#define HEAD_BYTES 24u  /* magic + nfuncs + nnodes */
#define FOOT_BYTES PYPROF_SECTION_FOOT_BYTES

int
pyprof_pathtree_init(pyprof_pathtree_t *tree)
{
    memset(tree, 0, sizeof(*tree));
    tree->nodes = malloc(64 * sizeof(*tree->nodes));
    if (tree->nodes == NULL) {
        return -1;
    }
    tree->capacity = 64;
    tree->count = 1;
    tree->nodes[0] = (pyprof_path_node_t){0, PYPROF_PATH_NO_FUNC, 0, 0.0,
                                          0.0};
    return 0;
}

void
pyprof_pathtree_free(pyprof_pathtree_t *tree)
{
    free(tree->nodes);
    memset(tree, 0, sizeof(*tree));
}

uint32_t
pyprof_pathtree_add(pyprof_pathtree_t *tree, uint32_t parent, uint32_t func,
                    int64_t calls, double tottime, double cumtime)
{
    if (parent >= tree->count || tree->count == UINT32_MAX - 1) {
        return PYPROF_PATH_NO_FUNC;
    }
    if (tree->count == tree->capacity) {
        uint32_t capacity = tree->capacity > UINT32_MAX / 2
                                ? UINT32_MAX - 1 : tree->capacity * 2;
        pyprof_path_node_t *nodes = realloc(tree->nodes,
                                            capacity * sizeof(*nodes));
        if (nodes == NULL) {
            return PYPROF_PATH_NO_FUNC;
        }
        tree->nodes = nodes;
        tree->capacity = capacity;
    }
    uint32_t id = tree->count++;
    tree->nodes[id] = (pyprof_path_node_t){parent, func, calls, tottime,
                                           cumtime};
    return id;
}

void
pyprof_pathtree_serialize(pyprof_sink_t *out, const pyprof_pathtree_t *tree,
                          size_t nfuncs)
{
    pyprof_sink_write(out, body_magic, sizeof(body_magic));
    pyprof_section_put_u32(out, (uint32_t)nfuncs);
    pyprof_section_put_u32(out, tree->count);
    for (uint32_t i = 0; i < tree->count; i++) {
        const pyprof_path_node_t *n = &tree->nodes[i];
        pyprof_section_put_u32(out, n->parent);
        pyprof_section_put_u32(out, n->func);
        pyprof_section_put_u64(out, (uint64_t)n->calls);
        pyprof_section_put_f64(out, n->tottime);
        pyprof_section_put_f64(out, n->cumtime);
    }
    pyprof_section_put_footer(out, HEAD_BYTES
                                       + (uint64_t)tree->count * NODE_BYTES,
                              foot_magic);
}

int
pyprof_pathtree_parse_trailer(pyprof_pathtree_t *tree,
                              const unsigned char *data, size_t len,
                              size_t nfuncs, char *errbuf, size_t errlen)
{
    uint64_t body_len;
    if (!pyprof_section_footer(data, len, foot_magic, &body_len)) {
        return 0;
    }
    if (body_len < HEAD_BYTES || body_len > len - FOOT_BYTES) {
        snprintf(errbuf, errlen, "call-path trailer: bad length");
        return -1;
    }
    const unsigned char *body = data + len - FOOT_BYTES - body_len;
    if (memcmp(body, body_magic, sizeof(body_magic)) != 0) {
        snprintf(errbuf, errlen, "call-path trailer: bad magic");
        return -1;
    }
    uint32_t file_funcs = pyprof_section_get_u32(body + 16);
    uint32_t nnodes = pyprof_section_get_u32(body + 20);
    if (file_funcs != nfuncs) {
        snprintf(errbuf, errlen,
                 "call-path trailer names %u functions, the profile has %zu",
                 (unsigned)file_funcs, nfuncs);
        return -1;
    }
    if (nnodes == 0 || (body_len - HEAD_BYTES) / NODE_BYTES != nnodes
        || (body_len - HEAD_BYTES) % NODE_BYTES != 0) {
        snprintf(errbuf, errlen, "call-path trailer: bad node count");
        return -1;
    }
    const unsigned char *p = body + HEAD_BYTES;
    for (uint32_t i = 0; i < nnodes; i++, p += NODE_BYTES) {
        uint32_t parent = pyprof_section_get_u32(p);
        uint32_t func = pyprof_section_get_u32(p + 4);
        int64_t calls = (int64_t)pyprof_section_get_u64(p + 8);
        double tt = pyprof_section_get_f64(p + 16);
        double ct = pyprof_section_get_f64(p + 24);
        if (!isfinite(tt) || !isfinite(ct) || calls < 0) {
            snprintf(errbuf, errlen, "call-path trailer: node %u has bad "
                     "numbers", (unsigned)i);
            return -1;
        }
        if (i == 0) {
            tree->nodes[0] = (pyprof_path_node_t){0, PYPROF_PATH_NO_FUNC,
                                                  calls, tt, ct};
            continue;
        }
        if (parent >= i || func >= nfuncs) {
            snprintf(errbuf, errlen, "call-path trailer: node %u is "
                     "malformed", (unsigned)i);
            return -1;
        }
        if (pyprof_pathtree_add(tree, parent, func, calls, tt, ct)
            == PYPROF_PATH_NO_FUNC) {
            snprintf(errbuf, errlen, "out of memory");
            return -1;
        }
    }
    tree->exact = 1;
    return 1;
}

int
pyprof_pathtree_read_file(pyprof_pathtree_t *tree, const char *path,
                          size_t nfuncs, char *errbuf, size_t errlen)
{
    size_t len;
    unsigned char *data = pyprof_read_file(path, PYPROF_READ_MAX, &len);
    if (data == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char reason[200];
    int rc = pyprof_pathtree_parse_trailer(tree, data, len, nfuncs, reason,
                                           sizeof(reason));
    free(data);
    if (rc < 0) {
        snprintf(errbuf, errlen, "%s: %s", path, reason);
    }
    return rc;
}
