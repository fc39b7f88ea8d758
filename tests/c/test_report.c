/* test_report.c - reports of the CPython-made image, byte for byte.
 *
 * The expected texts are what CPython 3.11's pstats printed for the same
 * file (with .files cleared, as print_header = 0 does here), e.g.
 *   pstats.Stats(path, stream=s).sort_stats('time', 'name').print_stats(3)
 * tests/test_stats.py checks many more cases against pstats directly.
 */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "core/pstats_file.h"
#include "core/report.h"

static const char want_plain[] =
    "         223 function calls (47 primitive calls) in 0.259 seconds\n"
    "\n"
    "   Random listing order was used\n"
    "\n"
    "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)\n"
    "        1    0.001    0.001    0.500    0.500 /src/app/main.py:10(main)\n"
    "    177/1    0.250    0.001    0.250    0.250 /src/app/util.py:3(fib)\n"
    "       40    0.004    0.000    0.004    0.000 {built-in method builtins.len}\n"
    "        5    0.004    0.001    0.245    0.049 /src/lib/util.py:7(helper)\n"
    "        0    0.000             0.000          {method 'append' of 'list' objects}\n"
    "\n"
    "\n";

static const char want_time_limit[] =
    "         223 function calls (47 primitive calls) in 0.259 seconds\n"
    "\n"
    "   Ordered by: internal time, function name\n"
    "   List reduced from 5 to 3 due to restriction <3>\n"
    "\n"
    "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)\n"
    "    177/1    0.250    0.001    0.250    0.250 /src/app/util.py:3(fib)\n"
    "       40    0.004    0.000    0.004    0.000 {built-in method builtins.len}\n"
    "        5    0.004    0.001    0.245    0.049 /src/lib/util.py:7(helper)\n"
    "\n"
    "\n";

static const char want_strip_callers[] =
    "   Ordered by: cumulative time\n"
    "\n"
    "Function                             was called by...\n"
    "                                         ncalls  tottime  cumtime\n"
    "main.py:10(main)                     <- \n"
    "util.py:3(fib)                       <-       1    0.000    0.250  main.py:10(main)\n"
    "                                          176/0    0.250    0.250  util.py:3(fib)\n"
    "util.py:7(helper)                    <-       5    0.004    0.245  main.py:10(main)\n"
    "{built-in method builtins.len}       <-      30    0.003    0.003  main.py:10(main)\n"
    "                                             10    0.001    0.001  util.py:7(helper)\n"
    "{method 'append' of 'list' objects}  <- \n"
    "\n"
    "\n";

static const char want_callees_pattern[] =
    "   Ordered by: standard name\n"
    "   List reduced from 5 to 2 due to restriction <'util'>\n"
    "   List reduced from 2 to 1 due to restriction <0.5>\n"
    "\n"
    "Function                 called...\n"
    "                             ncalls  tottime  cumtime\n"
    "/src/app/util.py:3(fib)  ->   176/0    0.250    0.250  /src/app/util.py:3(fib)\n"
    "\n"
    "\n";

static const char want_invalid_regex[] =
    "         223 function calls (47 primitive calls) in 0.259 seconds\n"
    "\n"
    "   Ordered by: primitive call count\n"
    "   <Invalid regular expression '('>\n"
    "\n"
    "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)\n"
    "       40    0.004    0.000    0.004    0.000 {built-in method builtins.len}\n"
    "        5    0.004    0.001    0.245    0.049 /src/lib/util.py:7(helper)\n"
    "        1    0.001    0.001    0.500    0.500 /src/app/main.py:10(main)\n"
    "    177/1    0.250    0.001    0.250    0.250 /src/app/util.py:3(fib)\n"
    "        0    0.000             0.000          {method 'append' of 'list' objects}\n"
    "\n"
    "\n";

typedef int (*printer_t)(pyprof_sink_t *, const pyprof_stats_t *,
                         const pyprof_report_options_t *, char *, size_t);

/* Render with `print` into a string the caller frees. */
static char *
render(printer_t print, const pyprof_stats_t *s,
       const pyprof_report_options_t *opts)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    char err[256];
    if (print(&sink, s, opts, err, sizeof(err)) < 0) {
        fprintf(stderr, "  report failed: %s\n", err);
        pyprof_sink_free_buffer(&sink);
        return NULL;
    }
    return pyprof_sink_take(&sink, NULL);
}

static void
check_render(printer_t print, const pyprof_stats_t *s,
             const pyprof_report_options_t *opts, const char *want)
{
    char *got = render(print, s, opts);
    CHECK_STR(got, want);
    free(got);
}

static void
test_sort_keys(void)
{
    /* pstats' abbreviation table: unique prefixes, minus the ones two
     * words share ("c", "cum", "t", "n", ...).  The lists were checked
     * against get_sort_arg_defs() of CPython 3.10-3.13. */
    static const char *const valid[] = {
        "calls", "call", "ca", "ncalls", "nc", "cumtime", "cumulative",
        "cumu", "cu", "filename", "f", "line", "li", "module", "m", "name",
        "nam", "nfl", "nf", "pcalls", "p", "stdname", "s", "time", "ti",
        "tottime", "to", "tot", "l", "-1", "0", "1", "2",
    };
    static const char *const invalid[] = {
        "c", "cum", "n", "t", "", "Time", "3", "-2", "calls ", "xyz",
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        CHECK(pyprof_report_sort_key_valid(valid[i]));
    }
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        CHECK(!pyprof_report_sort_key_valid(invalid[i]));
    }
}

void
test_report(void)
{
    test_sort_keys();
    char err[256];
    pyprof_stats_t *s = pyprof_stats_new();
    if (pyprof_pstats_parse(s, (const unsigned char *)cpython_image,
                            cpython_image_len, err, sizeof(err)) < 0) {
        CHECK(!"fixture parses");
        pyprof_stats_free(s);
        return;
    }
    pyprof_report_options_t opts;
    pyprof_report_options_init(&opts);
    opts.print_header = 0;
    check_render(pyprof_report_print_stats, s, &opts, want_plain);

    opts.sort[0] = "time";
    opts.sort[1] = "name";
    opts.nsort = 2;
    opts.limit = 3;
    check_render(pyprof_report_print_stats, s, &opts, want_time_limit);

    pyprof_report_options_init(&opts);
    opts.print_header = 0;
    opts.sort[0] = "pcalls";
    opts.nsort = 1;
    opts.pattern = "(";
    check_render(pyprof_report_print_stats, s, &opts, want_invalid_regex);

    pyprof_stats_t *stripped = pyprof_stats_strip_dirs(s);
    CHECK(stripped != NULL);
    pyprof_report_options_init(&opts);
    opts.sort[0] = "cumulative";
    opts.nsort = 1;
    check_render(pyprof_report_print_callers, stripped, &opts,
                 want_strip_callers);
    pyprof_stats_free(stripped);

    pyprof_report_options_init(&opts);
    opts.sort[0] = "-1";
    opts.nsort = 1;
    opts.pattern = "util";
    opts.use_fraction = 1;
    opts.fraction = 0.5;
    check_render(pyprof_report_print_callees, s, &opts,
                 want_callees_pattern);

    /* Errors: an unknown key, a legacy code among others. */
    pyprof_report_options_init(&opts);
    opts.sort[0] = "bogus";
    opts.nsort = 1;
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    CHECK(pyprof_report_print_stats(&sink, s, &opts, err, sizeof(err)) < 0);
    CHECK(strstr(err, "bogus") != NULL && sink.len == 0);
    opts.sort[0] = "2";
    opts.sort[1] = "time";
    opts.nsort = 2;
    CHECK(pyprof_report_print_stats(&sink, s, &opts, err, sizeof(err)) < 0);
    pyprof_sink_free_buffer(&sink);

    /* A restriction that leaves nothing prints only the header, as
     * pstats does; the fraction repr follows Python's float repr. */
    pyprof_report_options_init(&opts);
    opts.print_header = 0;
    opts.limit = 0;
    check_render(pyprof_report_print_stats, s, &opts,
                 "         223 function calls (47 primitive calls) in 0.259 "
                 "seconds\n\n");
    check_render(pyprof_report_print_callers, s, &opts, "");
    static const struct {
        double fraction;
        const char *repr;
    } fractions[] = {{0.3, "0.3"}, {1e-05, "1e-05"}, {0.0001, "0.0001"},
                     {0.0, "0.0"}, {0.123456789, "0.123456789"},
                     {2.0 / 3.0, "0.6666666666666666"}};
    for (size_t i = 0; i < sizeof(fractions) / sizeof(fractions[0]); i++) {
        opts.use_fraction = 1;
        opts.fraction = fractions[i].fraction;
        char *text = render(pyprof_report_print_callers, s, &opts);
        char want[64];
        snprintf(want, sizeof(want), "restriction <%s>", fractions[i].repr);
        /* An empty result prints nothing, so use a non-empty one. */
        CHECK(text != NULL
              && (text[0] == '\0' || strstr(text, want) != NULL));
        if (text != NULL && text[0] != '\0' && strstr(text, want) == NULL) {
            fprintf(stderr, "  wanted %s in\n%s\n", want, text);
        }
        free(text);
    }
    /* 0.3 of 5 rows is int(2.0) = 2, and the repr is Python's. */
    opts.fraction = 0.3;
    char *text = render(pyprof_report_print_stats, s, &opts);
    CHECK(text != NULL
          && strstr(text, "List reduced from 5 to 2 due to restriction "
                          "<0.3>\n") != NULL);
    free(text);
    pyprof_stats_free(s);
}
