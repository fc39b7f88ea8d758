/* test_view_core.c - the plain-C pieces of pyprof view/export: escaping,
 * the call-path trailer, the rebuild from pairs, collapsed stacks. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "core/calltree_file.h"
#include "core/pstats_file.h"
#include "core/sink.h"
#include "core/stats.h"
#include "report/escape.h"
#include "report/export_formats.h"
#include "report/paths.h"

typedef void (*escape_fn)(pyprof_sink_t *, const char *);

static char *
escaped(escape_fn fn, const char *text)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    fn(&sink, text);
    size_t len;
    return pyprof_sink_take(&sink, &len);
}

static void
check_escape(escape_fn fn, const char *text, const char *want)
{
    char *got = escaped(fn, text);
    CHECK_STR(got, want);
    free(got);
}

static void
test_escapes(void)
{
    check_escape(pyprof_escape_markup, "<script>alert('x')</script>&\"",
                 "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
                 "&quot;");
    /* A control byte and broken UTF-8 become U+FFFD; good UTF-8 stays. */
    check_escape(pyprof_escape_markup, "a\x01" "b\xff\xc3\xa9",
                 "a\xef\xbf\xbd" "b\xef\xbf\xbd\xc3\xa9");
    check_escape(pyprof_escape_json, "</script>\n\"\\",
                 "\"\\u003c/script\\u003e\\n\\\"\\\\\"");
    check_escape(pyprof_escape_json, "\xe2\x80\xa8\xed\xa0\x80",
                 "\"\\u2028\xef\xbf\xbd\"");  /* a surrogate: one U+FFFD */
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_escape_line_field(&sink, "a;b\nc", ";", ':');
    pyprof_sink_putc(&sink, ' ');
    pyprof_escape_json_number(&sink, NAN);
    pyprof_sink_putc(&sink, ' ');
    pyprof_escape_json_number(&sink, 1e300);
    size_t len;
    char *text = pyprof_sink_take(&sink, &len);
    CHECK_STR(text, "a:b c 0 1e+300");
    free(text);
}

/* main -> a -> leaf, main -> b -> leaf, with leaf's time all under b. */
static pyprof_stats_t *
two_path_model(void)
{
    pyprof_stats_t *stats = pyprof_stats_new();
    size_t main_f = pyprof_stats_intern(stats, "m.py", 1, "main");
    size_t a = pyprof_stats_intern(stats, "m.py", 2, "a");
    size_t b = pyprof_stats_intern(stats, "m.py", 3, "b");
    size_t leaf = pyprof_stats_intern(stats, "m.py", 4, "leaf");
    pyprof_stats_add(stats, main_f, 1, 1, 0.0, 4.0);
    pyprof_stats_add(stats, a, 1, 1, 1.0, 1.0);
    pyprof_stats_add(stats, b, 1, 1, 0.0, 3.0);
    pyprof_stats_add(stats, leaf, 2, 2, 3.0, 3.0);
    pyprof_stats_add_caller(stats, a, main_f, 1, 1, 1.0, 1.0);
    pyprof_stats_add_caller(stats, b, main_f, 1, 1, 0.0, 3.0);
    pyprof_stats_add_caller(stats, leaf, a, 1, 1, 1.0, 1.0);
    pyprof_stats_add_caller(stats, leaf, b, 1, 1, 2.0, 2.0);
    return stats;
}

static char *
collapsed(const pyprof_stats_t *stats, const pyprof_pathtree_t *tree)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    CHECK(pyprof_export_collapsed(&sink, stats, tree) == 0);
    size_t len;
    return pyprof_sink_take(&sink, &len);
}

static void
test_trailer_and_paths(void)
{
    pyprof_stats_t *stats = two_path_model();
    pyprof_pathtree_t tree;
    CHECK(pyprof_pathtree_init(&tree) == 0);
    CHECK(pyprof_paths_from_pairs(stats, &tree, 0.0) == 0);
    CHECK(!tree.exact && tree.count == 6);  /* root, main, a, b, 2 leaf */
    char *text = collapsed(stats, &tree);
    CHECK_STR(text, "main (m.py:1);a (m.py:2) 1000000\n"
                    "main (m.py:1);a (m.py:2);leaf (m.py:4) 1000000\n"
                    "main (m.py:1);b (m.py:3);leaf (m.py:4) 2000000\n");
    free(text);

    /* Round trip through a pstats file image with the trailer. */
    pyprof_sink_t image;
    pyprof_sink_init_buffer(&image);
    pyprof_pstats_serialize(&image, stats);
    pyprof_pathtree_serialize(&image, &tree, pyprof_stats_count(stats));
    pyprof_stats_t *back = pyprof_stats_new();
    char err[256];
    CHECK(pyprof_pstats_parse(back, (unsigned char *)image.data, image.len,
                              err, sizeof(err)) == 0);
    CHECK(pyprof_stats_equal(stats, back));
    pyprof_pathtree_t again;
    CHECK(pyprof_pathtree_init(&again) == 0);
    CHECK(pyprof_pathtree_parse_trailer(&again, (unsigned char *)image.data,
                                        image.len, 4, err,
                                        sizeof(err)) == 1);
    CHECK(again.exact && again.count == tree.count);
    CHECK(memcmp(again.nodes, tree.nodes,
                 tree.count * sizeof(*tree.nodes)) == 0);
    pyprof_pathtree_free(&again);
    /* The wrong model, a cut file, a file without one. */
    CHECK(pyprof_pathtree_init(&again) == 0);
    CHECK(pyprof_pathtree_parse_trailer(&again, (unsigned char *)image.data,
                                        image.len, 5, err,
                                        sizeof(err)) == -1);
    CHECK(strstr(err, "5") != NULL || strstr(err, "4") != NULL);
    CHECK(pyprof_pathtree_parse_trailer(&again, (unsigned char *)image.data,
                                        image.len - 1, 4, err,
                                        sizeof(err)) == 0);
    /* The last node's parent made later than itself. */
    image.data[image.len - 16 - 32 + 3] = 0x7f;
    CHECK(pyprof_pathtree_parse_trailer(&again, (unsigned char *)image.data,
                                        image.len, 4, err,
                                        sizeof(err)) == -1);
    CHECK(strstr(err, "malformed") != NULL);
    pyprof_pathtree_free(&again);
    pyprof_sink_free_buffer(&image);
    pyprof_stats_free(back);
    pyprof_pathtree_free(&tree);
    pyprof_stats_free(stats);
}

void
test_view_core(void)
{
    test_escapes();
    test_trailer_and_paths();
}
