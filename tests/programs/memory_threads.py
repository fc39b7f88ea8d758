"""Profiled functions run in many threads at once, for `pyprof memory`
against exact arithmetic and tracemalloc in a plain run.  Tests find
lines through the MARK comments.

THREADS threads run churn(): each round builds a list of 100 items and
frees it again, so at any moment several threads hold one; as many run
idle(), which allocates nothing at all.  The switch interval is 10 us, so
the threads' lines interleave (and a thread's frees fall between another
thread's lines).

Run plainly with --trace, it prints tracemalloc's per-line bytes
allocated ("ALLOC lineno bytes", from a snapshot taken while the threads
are held with every list alive) and alive after the threads ("ALIVE
lineno bytes").
"""
import builtins
import sys
import threading
import tracemalloc

THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) \
    if "--threads" in sys.argv else 12
ROUNDS = 20000
NONES = [None] * ROUNDS
profile = vars(builtins).get("profile", lambda func: func)
start = threading.Barrier(2 * THREADS)


@profile
def churn(t):
    start.wait()
    for _ in NONES:                     # MARK churn_loop NONE
        data = [t] * 100                # MARK churn_list
        del data                        # MARK churn_del NONE
    return t


@profile
def idle(t):
    start.wait()
    for _ in NONES:                     # MARK idle_loop NONE
        x = t                           # MARK idle_body NONE
        x = None                        # MARK idle_none NONE
    return t


def main():
    sys.setswitchinterval(1e-5)     # interleave the threads' lines
    threads = [threading.Thread(target=f, args=(t,))
               for t in range(THREADS) for f in (churn, idle)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    if "--trace" in sys.argv:
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
    main()
    if "--trace" in sys.argv:
        after = tracemalloc.take_snapshot()
        flt = [tracemalloc.Filter(True, __file__)]
        for stat in after.filter_traces(flt).compare_to(
                before.filter_traces(flt), "lineno"):
            print("ALIVE", stat.traceback[0].lineno, stat.size_diff)
        # One list of one round, as tracemalloc counts it.
        tracemalloc.stop()
        tracemalloc.start()
        one = [0] * 100
        size = sum(s.size for s in tracemalloc.take_snapshot().filter_traces(
            flt).statistics("lineno"))
        print("LIST", size)
    print("DONE")
