"""Functions whose allocations are known exactly, defined past line 256
(a line number above the small-int cache is an object), one of them run in
a thread, for `pyprof memory` against tracemalloc in a plain run.  Tests
find lines through the MARK comments; EXACT lines keep everything they
allocate, NONE lines allocate nothing.

Run plainly with --trace, it prints tracemalloc's per-line bytes alive
after main() (allocations of main() only, as "ALIVE lineno bytes").
Under `pyprof memory` the functions are chosen by the `profile` builtin,
or by --function when PLAIN_DECORATOR=1 hides it.
"""
import builtins
import os
import sys
import threading
import tracemalloc

N = 200
KEEP = [None] * N
CHILD = [None] * N
if "profile" in vars(builtins) and not os.environ.get("PLAIN_DECORATOR"):
    profile = builtins.profile
else:
    def profile(func):
        return func
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256
# padding: the profiled code starts past line 256


@profile
def tiny(i):                                        # MARK tiny_def
    return i                                        # MARK tiny_body


@profile
def child(n):                                       # MARK child_def
    for i in range(n):                              # MARK child_loop
        CHILD[i] = bytes(2000)                      # MARK child_bytes EXACT


@profile
def work(n):                                        # MARK work_def
    total = 0                                       # MARK work_zero NONE
    for i in range(n):                              # MARK work_loop
        total += tiny(1)                            # MARK work_calls NONE
        KEEP[i] = bytes(1000)                       # MARK work_bytes EXACT
    thread = threading.Thread(target=child, args=(n,))  # MARK work_thread
    thread.start()                                  # MARK work_start
    thread.join()                                   # MARK work_join
    return total                                    # MARK work_return NONE


def main():
    return work(N)


if __name__ == "__main__":
    TRACE = "--trace" in sys.argv
    if TRACE:
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
    main()
    if TRACE:
        after = tracemalloc.take_snapshot()
        flt = [tracemalloc.Filter(True, __file__)]
        for stat in after.filter_traces(flt).compare_to(
                before.filter_traces(flt), "lineno"):
            print("ALIVE", stat.traceback[0].lineno, stat.size_diff)
