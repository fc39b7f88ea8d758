"""The allocation hooks (src/engine/alloc_hook.c) against tracemalloc.

tracemalloc is the oracle: it hooks the same allocators and its 'lineno'
statistics charge each block to the innermost frame's line, as ours do.
Both run together (tracemalloc underneath, ours on top), so they see the
same program run."""
import gc
import os
import threading
import tracemalloc

import pytest

import pyprof._pyprof as C
from conftest import PROGRAMS, load_program

SOURCE = os.path.join(PROGRAMS, "memory_lines.py")


def mark_line(mark):
    with open(SOURCE) as f:
        for number, text in enumerate(f, 1):
            if text.rstrip().endswith("MARK " + mark):
                return number
    raise LookupError(mark)


def ours_by_line():
    result = {}
    for filename, lineno, allocated, freed, blocks in C._alloc_sites():
        if filename == SOURCE:
            result[lineno] = (allocated, freed)
    return result


def run_both(func, *args):
    """Run func under tracemalloc and our hooks; returns (result,
    tracemalloc per-line size diff, our per-line (allocated, freed))."""
    gc.collect()
    tracemalloc.start()
    C._alloc_start()
    try:
        before = tracemalloc.take_snapshot()
        result = func(*args)
        after = tracemalloc.take_snapshot()
        ours = ours_by_line()
    finally:
        C._alloc_stop()
        tracemalloc.stop()
    flt = [tracemalloc.Filter(True, SOURCE)]
    diff = after.filter_traces(flt).compare_to(
        before.filter_traces(flt), "lineno")
    theirs = {d.traceback[0].lineno: d.size_diff for d in diff}
    return result, theirs, ours


def test_live_bytes_per_line_agree_with_tracemalloc():
    prog = load_program("memory_lines")
    result, theirs, ours = run_both(prog.build, 1_000_000)
    checked = 0
    for lineno, size_diff in theirs.items():
        if abs(size_diff) <= 64 * 1024:
            continue
        allocated, freed = ours.get(lineno, (0, 0))
        live = allocated - freed
        assert abs(live - size_diff) <= max(0.05 * abs(size_diff), 4096), (
            lineno, live, size_diff)
        checked += 1
    # big_bytes, appends and strings stay alive; big_list is freed.
    assert checked >= 3
    assert abs(theirs[mark_line("big_bytes")] - 2_000_000) < 4096
    del result


def test_big_list_allocated_then_freed():
    prog = load_program("memory_lines")
    _, theirs, ours = run_both(prog.build, 1_000_000)
    allocated, freed = ours[mark_line("big_list")]
    # [0] * n: one block of n pointers.
    assert 8_000_000 <= allocated <= 8_000_000 + 4096
    # The list's item array is freed by `del big`; its 56-byte header may
    # stay on CPython's list free list.
    assert allocated - 256 <= freed <= allocated
    # The appends grow one block by realloc: it totals the final size,
    # not the sum of every intermediate size.
    allocated, freed = ours[mark_line("appends")]
    live = allocated - freed
    assert abs(live - theirs[mark_line("appends")]) <= 0.05 * live
    assert allocated < 2 * 8 * (1_000_000 // 8) + 1_000_000


def test_site_of_object_with_preheaders():
    prog = load_program("memory_lines")
    C._alloc_start()
    try:
        records = prog.make_records(100)      # GC + managed dict (3.11+)
        text = b"y" * 100_000                 # not GC
        lst = {1, 2, 3}                       # GC, no free list
        here = test_site_of_object_with_preheaders.__code__.co_filename
        site_records = C._alloc_site_of(records[50])
        site_text = C._alloc_site_of(text)
        site_list = C._alloc_site_of(lst)
        site_int = C._alloc_site_of(7)        # immortal / cached
    finally:
        C._alloc_stop()
    assert site_records == (SOURCE, mark_line("records"))
    assert site_text[0] == here
    assert site_list[0] == here
    assert site_int is None
    assert C._alloc_site_of(records[0]) is None   # not tracking any more


def test_nested_start_stop_and_threads():
    C._alloc_start()
    C._alloc_start()
    C._alloc_stop()
    try:
        def work():
            for _ in range(200):
                bytearray(50_000)
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sites = C._alloc_sites()
    finally:
        C._alloc_stop()
    line = work.__code__.co_firstlineno + 2
    here = [s for s in sites if s[0] == __file__ and s[1] == line]
    assert here, sites[:5]
    allocated, freed = here[0][2], here[0][3]
    assert allocated >= 800 * 50_000
    assert freed == allocated
    assert C._alloc_sites() == []


# Forking with threads running is the point (the lock must not deadlock).
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_fork_while_tracking():
    C._alloc_start()
    try:
        stop = threading.Event()

        def churn():        # keeps the hooks' lock busy in another thread
            while not stop.is_set():
                bytearray(1000)
        t = threading.Thread(target=churn)
        t.start()
        try:
            for _ in range(5):
                pid = os.fork()
                if pid == 0:
                    try:
                        [bytearray(100) for _ in range(1000)]
                    finally:
                        os._exit(0)
                _, status = os.waitpid(pid, 0)
                assert os.waitstatus_to_exitcode(status) == 0
        finally:
            stop.set()
            t.join()
    finally:
        C._alloc_stop()
