/* test_recording.c - the sample tree: pstats' numbers (self and total
 * samples, recursion counted once per sample), the function-level paths
 * (lines merged), the file section round trip, and its reader refusing
 * damage. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/pstats_file.h"
#include "core/recording.h"
#include "report/pprof_export.h"

static pyprof_recording_t *
sample_recording(void)
{
    pyprof_recording_t *rec = pyprof_recording_new();
    pyprof_recording_info(rec)->rate_hz = 100.0;
    pyprof_recording_info(rec)->duration_ns = 2000000000;
    uint32_t proc = pyprof_recording_process(rec, 42, "python app.py");
    uint32_t thr = pyprof_recording_thread(rec, 43, "MainThread");
    uint32_t mod = pyprof_recording_function(rec, "app.py", 1, "<module>");
    uint32_t fib = pyprof_recording_function(rec, "app.py", 5, "fib");
    uint32_t work = pyprof_recording_function(rec, "app.py", 9, "work");
    /* 30 samples in work line 10, 20 in work line 11, 10 in fib inside fib
     * (recursion), 5 in fib called once. */
    pyprof_frame_ref_t a[] = {{proc, 0}, {thr, 0}, {mod, 20}, {work, 10}};
    pyprof_frame_ref_t b[] = {{proc, 0}, {thr, 0}, {mod, 20}, {work, 11}};
    pyprof_frame_ref_t c[] = {{proc, 0}, {thr, 0}, {mod, 21}, {fib, 7},
                              {fib, 6}};
    pyprof_frame_ref_t d[] = {{proc, 0}, {thr, 0}, {mod, 21}, {fib, 6}};
    CHECK(pyprof_recording_add(rec, a, 4, 30) == 0);
    CHECK(pyprof_recording_add(rec, b, 4, 20) == 0);
    CHECK(pyprof_recording_add(rec, c, 5, 10) == 0);
    CHECK(pyprof_recording_add(rec, d, 4, 5) == 0);
    pyprof_frame_ref_t bad[] = {{99, 0}};
    CHECK(pyprof_recording_add(rec, bad, 1, 1) < 0);
    CHECK(pyprof_recording_samples(rec) == 65);
    return rec;
}

static const pyprof_func_t *
find(const pyprof_stats_t *stats, const char *name)
{
    for (size_t i = 0; i < pyprof_stats_count(stats); i++) {
        if (strcmp(pyprof_stats_get(stats, i)->funcname, name) == 0) {
            return pyprof_stats_get(stats, i);
        }
    }
    return NULL;
}

static void
check_export(const pyprof_recording_t *rec)
{
    pyprof_stats_t *stats;
    pyprof_pathtree_t tree;
    CHECK(pyprof_recording_export(rec, &stats, &tree) == 0);
    const pyprof_func_t *work = find(stats, "work");
    const pyprof_func_t *fib = find(stats, "fib");
    const pyprof_func_t *mod = find(stats, "<module>");
    const pyprof_func_t *thr = find(stats, "<thread 43 MainThread>");
    CHECK(find(stats, "<process 42 python app.py>") != NULL);
    CHECK(work && work->cc == 50 && work->nc == 50);
    CHECK(work && fabs(work->tt - 0.5) < 1e-12 && fabs(work->ct - 0.5) < 1e-12);
    /* fib: 15 self samples; on the stack in 15 samples, not 25. */
    CHECK(fib && fib->cc == 15 && fib->nc == 15);
    CHECK(fib && fabs(fib->ct - 0.15) < 1e-12);
    CHECK(mod && mod->cc == 0 && mod->nc == 65 && fabs(mod->ct - 0.65) < 1e-12);
    CHECK(thr && thr->nc == 65 && thr->cc == 0);
    /* fib's callers: <module> (15 through it) and fib itself (10). */
    CHECK(fib && fib->ncallers == 2);
    int seen = 0;
    for (size_t i = 0; fib && i < fib->ncallers; i++) {
        const pyprof_func_t *caller = pyprof_stats_get(stats,
                                                       fib->callers[i].caller);
        if (strcmp(caller->funcname, "<module>") == 0) {
            seen += fib->callers[i].nc == 15
                    && fabs(fib->callers[i].tt - 0.05) < 1e-12;
        }
        if (strcmp(caller->funcname, "fib") == 0) {
            seen += fib->callers[i].nc == 10
                    && fabs(fib->callers[i].tt - 0.10) < 1e-12;
        }
    }
    CHECK(seen == 2);
    /* Function paths: root, process, thread, <module>, work (lines
     * merged), fib, fib>fib. */
    CHECK(tree.exact && tree.count == 7);
    CHECK(tree.nodes[0].calls == 65 && fabs(tree.nodes[0].cumtime - 0.65)
          < 1e-12);
    int work_nodes = 0;
    for (uint32_t i = 1; i < tree.count; i++) {
        if (strcmp(pyprof_stats_get(stats, tree.nodes[i].func)->funcname,
                   "work") == 0) {
            work_nodes++;
            CHECK(tree.nodes[i].calls == 50
                  && fabs(tree.nodes[i].tottime - 0.5) < 1e-12);
        }
    }
    CHECK(work_nodes == 1);
    pyprof_stats_free(stats);
    pyprof_pathtree_free(&tree);
}

static void
test_round_trip(void)
{
    pyprof_recording_t *rec = sample_recording();
    check_export(rec);
    pyprof_recording_info(rec)->ticks_expected = 200;
    pyprof_recording_info(rec)->ticks_taken = 199;
    pyprof_recording_info(rec)->flags = PYPROF_RECORD_IDLE;
    pyprof_sink_t image;
    pyprof_sink_init_buffer(&image);
    CHECK(pyprof_recording_serialize(rec, &image) == 0);
    const unsigned char *data = (const unsigned char *)image.data;
    pyprof_recording_t *back = NULL;
    char err[300] = "";
    CHECK(pyprof_recording_parse(data, image.len, &back, err, sizeof(err))
          == 1);
    if (back != NULL) {
        check_export(back);
        const pyprof_recording_info_t *info = pyprof_recording_info(back);
        CHECK(info->rate_hz == 100.0 && info->ticks_taken == 199
              && info->ticks_expected == 200 && info->flags == 1
              && info->duration_ns == 2000000000);
        uint32_t n1, n2;
        const pyprof_sample_node_t *a = pyprof_recording_nodes(rec, &n1);
        const pyprof_sample_node_t *b = pyprof_recording_nodes(back, &n2);
        CHECK(n1 == n2 && memcmp(a, b, n1 * sizeof(*a)) == 0);
        pyprof_sink_t pb;
        pyprof_sink_init_buffer(&pb);
        CHECK(pyprof_export_pprof_recording(&pb, back) == 0);
        CHECK(pb.len > 20 && (unsigned char)pb.data[0] == 0x1f);
        pyprof_sink_free_buffer(&pb);
    }
    pyprof_recording_free(back);
    /* The image is a pstats file for everyone else. */
    pyprof_stats_t *stats = pyprof_stats_new();
    CHECK(pyprof_pstats_parse(stats, data, image.len, err, sizeof(err)) == 0);
    CHECK(pyprof_stats_count(stats) == 5);
    pyprof_stats_free(stats);
    /* Damage: a flipped node count, a parent pointing forward. */
    unsigned char *copy = malloc(image.len);
    size_t section = 0;
    for (size_t i = 0; i + 16 <= image.len; i++) {
        if (memcmp(data + i, "PYPROF-SAMPLE-v1", 16) == 0) {
            section = i;
        }
    }
    CHECK(section > 0);
    memcpy(copy, data, image.len);
    copy[section + 20] ^= 1;
    CHECK(pyprof_recording_parse(copy, image.len, &back, err, sizeof(err))
          == -1 && back == NULL);
    memcpy(copy, data, image.len);
    copy[section + 80 + 24 * 2] = 9;  /* node 2's parent */
    CHECK(pyprof_recording_parse(copy, image.len, &back, err, sizeof(err))
          == -1);
    CHECK(strstr(err, "node 2") != NULL);
    /* A denormal rate: 1/rate is inf, and 0 samples times inf a NaN
     * time the rewrite could not read back (found by the fuzzer). */
    memcpy(copy, data, image.len);
    double tiny = 5.2557592401024e-310;
    memcpy(copy + section + 24, &tiny, sizeof(tiny));
    CHECK(pyprof_recording_parse(copy, image.len, &back, err, sizeof(err))
          == -1 && back == NULL);
    CHECK(strstr(err, "header numbers") != NULL);
    /* A plain pstats image is not a recording. */
    CHECK(pyprof_recording_parse(data, section, &back, err, sizeof(err))
          == 0);
    free(copy);
    pyprof_sink_free_buffer(&image);
    pyprof_recording_free(rec);
}

/* Stacks that share outer frames with the one added before them (a
 * sampler's usual case, taken from the last stack's nodes) make the same
 * tree as the same stacks each added after an empty one (which leaves
 * nothing to share): random stacks over 3 functions and 3 lines, 1 to 8
 * deep. */
static void
test_shared_prefix_same_tree(void)
{
    pyprof_recording_t *shared = pyprof_recording_new();
    pyprof_recording_t *fresh = pyprof_recording_new();
    uint32_t funcs[3];
    for (int f = 0; f < 3; f++) {
        char name[8] = {'f', (char)('0' + f), 0};
        funcs[f] = pyprof_recording_function(shared, "a.py", f, name);
        CHECK(pyprof_recording_function(fresh, "a.py", f, name) == funcs[f]);
    }
    unsigned seed = 7;
    pyprof_frame_ref_t stack[8];
    size_t n = 0;
    for (int i = 0; i < 5000; i++) {
        seed = seed * 1103515245 + 12345;
        /* keep a random part of the last stack, then new frames */
        size_t keep = n ? (seed >> 8) % (n + 1) : 0;
        size_t grow = 1 + (seed >> 12) % (8 - (keep < 7 ? keep : 7));
        n = keep + grow > 8 ? 8 : keep + grow;
        for (size_t k = keep; k < n; k++) {
            seed = seed * 1103515245 + 12345;
            stack[k] = (pyprof_frame_ref_t){funcs[(seed >> 8) % 3],
                                            (int32_t)((seed >> 12) % 3)};
        }
        CHECK(pyprof_recording_add(shared, stack, n, 1) == 0);
        CHECK(pyprof_recording_add(fresh, stack, 0, 0) == 0);
        CHECK(pyprof_recording_add(fresh, stack, n, 1) == 0);
    }
    uint32_t count_shared, count_fresh;
    const pyprof_sample_node_t *a = pyprof_recording_nodes(shared,
                                                           &count_shared);
    const pyprof_sample_node_t *b = pyprof_recording_nodes(fresh,
                                                           &count_fresh);
    CHECK(count_shared == count_fresh && count_shared > 100);
    int same = count_shared == count_fresh;
    for (uint32_t i = 0; same && i < count_shared; i++) {
        same = a[i].parent == b[i].parent && a[i].func == b[i].func
               && a[i].line == b[i].line && a[i].samples == b[i].samples;
    }
    CHECK(same);
    CHECK(pyprof_recording_samples(shared) == 5000);
    pyprof_recording_free(shared);
    pyprof_recording_free(fresh);
}

void
test_recording(void)
{
    test_shared_prefix_same_tree();
    test_round_trip();
}
