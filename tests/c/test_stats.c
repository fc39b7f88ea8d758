/* test_stats.c - the model: interning, edges, merge, strip_dirs, totals.
 *
 * The expected values follow pstats.Stats.add() and strip_dirs() as
 * written in CPython's Lib/pstats.py (3.10-3.13); tests/test_stats.py
 * checks the same behaviour against pstats itself.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "core/stats.h"

static void
test_intern_and_find(void)
{
    pyprof_stats_t *s = pyprof_stats_new();
    CHECK(s != NULL);
    size_t a = pyprof_stats_intern(s, "/x/a.py", 1, "f");
    size_t b = pyprof_stats_intern(s, "/x/a.py", 2, "f");
    size_t c = pyprof_stats_intern(s, "/x/a.py", 1, "g");
    CHECK(a == 0 && b == 1 && c == 2);
    CHECK(pyprof_stats_intern(s, "/x/a.py", 1, "f") == 0);
    CHECK(pyprof_stats_find(s, "/x/a.py", 2, "f") == 1);
    CHECK(pyprof_stats_find(s, "/x/b.py", 2, "f") == (size_t)-1);
    /* Enough functions to rehash several times; order and lookups hold. */
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "fn%d", i);
        CHECK(pyprof_stats_intern(s, "big.py", i, name) == (size_t)(3 + i));
    }
    int found = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "fn%d", i);
        found += pyprof_stats_find(s, "big.py", i, name) == (size_t)(3 + i);
    }
    CHECK(found == 5000);
    CHECK(pyprof_stats_count(s) == 5003);
    CHECK(strcmp(pyprof_stats_get(s, 4)->funcname, "fn1") == 0);
    CHECK(pyprof_stats_get(s, 5003) == NULL);
    pyprof_stats_free(s);
}

static void
test_add_and_edges(void)
{
    pyprof_stats_t *s = pyprof_stats_new();
    size_t f = pyprof_stats_intern(s, "a.py", 1, "f");
    size_t g = pyprof_stats_intern(s, "a.py", 2, "g");
    pyprof_stats_add(s, f, 1, 2, 0.5, 1.5);
    pyprof_stats_add(s, f, 3, 4, 0.25, 0.5);
    const pyprof_func_t *fn = pyprof_stats_get(s, f);
    CHECK(fn->cc == 4 && fn->nc == 6 && fn->tt == 0.75 && fn->ct == 2.0);
    CHECK(pyprof_stats_add_caller(s, g, f, 1, 1, 0.5, 0.5) == 0);
    CHECK(pyprof_stats_add_caller(s, g, g, 2, 0, 0.25, 0.25) == 0);
    CHECK(pyprof_stats_add_caller(s, g, f, 3, 2, 0.5, 1.0) == 0);
    const pyprof_func_t *gn = pyprof_stats_get(s, g);
    CHECK(gn->ncallers == 2);
    CHECK(gn->callers[0].caller == f && gn->callers[0].nc == 4
          && gn->callers[0].cc == 3 && gn->callers[0].tt == 1.0
          && gn->callers[0].ct == 1.5);
    CHECK(gn->callers[1].caller == g && gn->callers[1].nc == 2);
    CHECK(pyprof_stats_add_caller(s, g, 7, 1, 1, 0, 0) == -1);
    /* A new edge keeps -0.0 as given; pstats copies new caller tuples. */
    CHECK(pyprof_stats_add_caller(s, f, g, 0, 0, -0.0, 0.0) == 0);
    CHECK(signbit(pyprof_stats_get(s, f)->callers[0].tt));
    /* Many callers of one function: the edge index keeps them apart. */
    size_t hub = pyprof_stats_intern(s, "~", 0, "<built-in method len>");
    char name[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        size_t c = pyprof_stats_intern(s, "b.py", i, name);
        CHECK(pyprof_stats_add_caller(s, hub, c, 1, 1, 0.0, 0.0) == 0);
        CHECK(pyprof_stats_add_caller(s, hub, c, 1, 1, 0.0, 0.0) == 0);
    }
    const pyprof_func_t *h = pyprof_stats_get(s, hub);
    CHECK(h->ncallers == 3000 && h->callers[2999].nc == 2);
    int64_t calls, prim;
    double tt;
    pyprof_stats_totals(s, &calls, &prim, &tt);
    CHECK(calls == 6 && prim == 4 && tt == 0.75);
    CHECK(!pyprof_stats_overflowed(s));
    pyprof_stats_add(s, f, INT64_MAX, 0, 0, 0);
    CHECK(pyprof_stats_overflowed(s));
    CHECK(pyprof_stats_get(s, f)->cc == INT64_MAX);
    pyprof_stats_free(s);
}

/* One profile: {a: (1, 1, .5, 1, {}), b: (2, 3, .25, .5, {a: ...})}. */
static pyprof_stats_t *
small_profile(const char *dir, double scale)
{
    char a_file[64], b_file[64];
    snprintf(a_file, sizeof(a_file), "%s/a.py", dir);
    snprintf(b_file, sizeof(b_file), "%s/b.py", dir);
    pyprof_stats_t *s = pyprof_stats_new();
    size_t b = pyprof_stats_intern(s, b_file, 5, "b");
    size_t a = pyprof_stats_intern(s, a_file, 1, "a");
    pyprof_stats_add(s, a, 1, 1, 0.5 * scale, 1.0 * scale);
    pyprof_stats_add(s, b, 2, 3, 0.25 * scale, 0.5 * scale);
    pyprof_stats_add_caller(s, b, a, 3, 2, 0.25 * scale, 0.5 * scale);
    return s;
}

static void
test_merge(void)
{
    pyprof_stats_t *dst = small_profile("/p", 1.0);
    pyprof_stats_t *src = small_profile("/p", 2.0);
    size_t extra = pyprof_stats_intern(src, "/p/c.py", 9, "c");
    pyprof_stats_add(src, extra, 1, 1, 0.125, 0.125);
    pyprof_stats_add_caller(src, extra, 0, 1, 1, 0.125, 0.125);
    pyprof_stats_add_source(src, "src.prof", 12.5);
    CHECK(pyprof_stats_merge(dst, src) == 0);
    CHECK(pyprof_stats_count(dst) == 3);
    const pyprof_func_t *b = pyprof_stats_get(dst, 0);
    CHECK(strcmp(b->funcname, "b") == 0 && b->cc == 4 && b->nc == 6);
    CHECK(b->tt == 0.75 && b->ct == 1.5);
    CHECK(b->ncallers == 1 && b->callers[0].nc == 6
          && b->callers[0].cc == 4 && b->callers[0].ct == 1.5);
    const pyprof_func_t *c = pyprof_stats_get(dst, 2);
    CHECK(strcmp(c->funcname, "c") == 0 && c->ncallers == 1
          && c->callers[0].caller == 0);
    CHECK(pyprof_stats_source_count(dst) == 1);
    CHECK(strcmp(pyprof_stats_source_path(dst, 0), "src.prof") == 0);
    CHECK(pyprof_stats_source_mtime(dst, 0) == 12.5);
    int64_t calls, prim;
    double tt;
    pyprof_stats_totals(dst, &calls, &prim, &tt);
    CHECK(calls == 4 + 5 && prim == 3 + 4 && tt == 0.75 + 1.625);
    pyprof_stats_free(src);

    /* A function new to dst gets old + new with old = 0: -0.0 becomes 0.0,
     * as add_func_stats((0, 0, 0, 0, {}), new) makes it in Python. */
    src = pyprof_stats_new();
    size_t z = pyprof_stats_intern(src, "z.py", 1, "z");
    pyprof_stats_func(src, z)->tt = -0.0;
    CHECK(pyprof_stats_merge(dst, src) == 0);
    const pyprof_func_t *zf = pyprof_stats_get(dst, 3);
    CHECK(zf->tt == 0.0 && !signbit(zf->tt));
    pyprof_stats_free(src);
    pyprof_stats_free(dst);
}

static void
test_strip_dirs(void)
{
    /* Two directories with the same file names: after stripping, a.py:1(a)
     * and b.py:5(b) each collide. */
    pyprof_stats_t *one = small_profile("/one", 1.0);
    pyprof_stats_t *two = small_profile("/two", 2.0);
    CHECK(pyprof_stats_merge(one, two) == 0);
    /* A caller edge from /two/a.py into /one/b.py: within /one/b.py's
     * callers, /one/a.py and /two/a.py both strip to a.py. */
    CHECK(pyprof_stats_add_caller(one, 0, 3, 7, 7, 4.0, 8.0) == 0);
    size_t u = pyprof_stats_intern(one, "u.py", 2, "u");
    pyprof_stats_add(one, u, 1, 1, 0.0, 0.0);
    pyprof_stats_t *s = pyprof_stats_strip_dirs(one);
    CHECK(s != NULL);
    CHECK(pyprof_stats_count(s) == 3);
    const pyprof_func_t *b = pyprof_stats_get(s, 0);
    const pyprof_func_t *a = pyprof_stats_get(s, 1);
    CHECK(strcmp(b->filename, "b.py") == 0);
    CHECK(strcmp(a->filename, "a.py") == 0);
    CHECK(strcmp(pyprof_stats_get(s, 2)->filename, "u.py") == 0);
    CHECK(b->cc == 4 && b->nc == 6 && b->tt == 0.75 && b->ct == 1.5);
    CHECK(a->cc == 2 && a->nc == 2 && a->tt == 1.5 && a->ct == 3.0);
    /* /one/b.py's callers {/one/a.py: (3,2,.25,.5), /two/a.py: (7,7,4,8)}
     * strip to {a.py: (7,7,4,8)} (the last wins), then /two/b.py's
     * {a.py: (3,2,.5,1)} is added: (10, 9, 4.5, 9). */
    CHECK(b->ncallers == 1 && b->callers[0].caller == 1);
    CHECK(b->callers[0].nc == 10 && b->callers[0].cc == 9);
    CHECK(b->callers[0].tt == 4.5 && b->callers[0].ct == 9.0);
    /* Totals are those of the unstripped model. */
    int64_t c1, p1, c2, p2;
    double t1, t2;
    pyprof_stats_totals(one, &c1, &p1, &t1);
    pyprof_stats_totals(s, &c2, &p2, &t2);
    CHECK(c1 == c2 && p1 == p2 && t1 == t2 && c2 == 9);
    pyprof_stats_free(s);
    pyprof_stats_free(one);
    pyprof_stats_free(two);

    /* basename is what follows the last '/', even if that is empty. */
    pyprof_stats_t *odd = pyprof_stats_new();
    pyprof_stats_intern(odd, "dir/", 1, "x");
    pyprof_stats_intern(odd, "~", 0, "<built-in method len>");
    pyprof_stats_intern(odd, "<string>", 1, "<module>");
    s = pyprof_stats_strip_dirs(odd);
    CHECK(s != NULL && strcmp(pyprof_stats_get(s, 0)->filename, "") == 0);
    CHECK(s != NULL && strcmp(pyprof_stats_get(s, 1)->filename, "~") == 0);
    CHECK(s != NULL
          && strcmp(pyprof_stats_get(s, 2)->filename, "<string>") == 0);
    pyprof_stats_free(s);
    pyprof_stats_free(odd);
}

static void
test_equal(void)
{
    pyprof_stats_t *a = small_profile("/p", 1.0);
    pyprof_stats_t *b = small_profile("/p", 1.0);
    CHECK(pyprof_stats_equal(a, b));
    pyprof_stats_func(b, 1)->tt = 0.5000000000000001;
    CHECK(!pyprof_stats_equal(a, b));
    pyprof_stats_func(b, 1)->tt = 0.5;
    pyprof_stats_func(a, 0)->callers[0].ct = -0.0;
    pyprof_stats_func(b, 0)->callers[0].ct = 0.0;
    CHECK(!pyprof_stats_equal(a, b));
    pyprof_stats_func(a, 0)->callers[0].ct = 0.0;
    CHECK(pyprof_stats_equal(a, b));
    pyprof_stats_add_caller(b, 1, 1, 1, 1, 0.0, 0.0);
    CHECK(!pyprof_stats_equal(a, b));
    pyprof_stats_t *c = small_profile("/q", 1.0);
    CHECK(!pyprof_stats_equal(a, c));
    pyprof_stats_free(a);
    pyprof_stats_free(b);
    pyprof_stats_free(c);
}

void
test_stats(void)
{
    test_equal();
    test_intern_and_find();
    test_add_and_edges();
    test_merge();
    test_strip_dirs();
}
