/* main.c - runs the plain-C unit tests of src/core and the stats command. */
#include "check.h"

int check_passed;
int check_failed;

int
main(void)
{
    test_sink();
    test_stats();
    test_pstats_file();
    test_report();
    test_cmd_stats();
    test_calltree();
    test_view_core();
    test_memory();
    test_pprof();
    test_recording();
    test_sampler();
    test_dicts();
    test_output();
    test_filekind();
    test_schedule();
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed != 0;
}
