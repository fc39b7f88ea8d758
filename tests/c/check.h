/* check.h - the smallest test harness that tells what failed and where.
 *
 * CHECK counts a pass or prints the failing expression with its location;
 * main.c runs every suite and prints "N passed, N failed".
 */
#ifndef PYPROF_TEST_CHECK_H
#define PYPROF_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

extern int check_passed;
extern int check_failed;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (cond) {                                                         \
            check_passed++;                                                 \
        }                                                                   \
        else {                                                              \
            check_failed++;                                                 \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__,          \
                    __LINE__, #cond);                                       \
        }                                                                   \
    } while (0)

/* Equal NUL-terminated strings; prints both on a mismatch. */
#define CHECK_STR(got, want)                                                \
    do {                                                                    \
        const char *got_ = (got), *want_ = (want);                          \
        if (got_ != NULL && strcmp(got_, want_) == 0) {                     \
            check_passed++;                                                 \
        }                                                                   \
        else {                                                              \
            check_failed++;                                                 \
            fprintf(stderr, "%s:%d: got\n%s\n---- want\n%s\n----\n",        \
                    __FILE__, __LINE__, got_ ? got_ : "(null)", want_);     \
        }                                                                   \
    } while (0)

/* Bytes CPython's marshal.dumps wrote for a small pstats dict (see
 * test_pstats_file.c), shared by the reader and report tests. */
extern const char cpython_image[];
extern const size_t cpython_image_len;

void test_sink(void);
void test_stats(void);
void test_pstats_file(void);
void test_report(void);
void test_cmd_stats(void);
void test_calltree(void);
void test_view_core(void);
void test_memory(void);
void test_pprof(void);
void test_recording(void);
void test_sampler(void);
void test_dicts(void);
void test_output(void);
void test_filekind(void);
void test_schedule(void);

#endif
