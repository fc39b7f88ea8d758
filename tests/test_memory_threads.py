"""`pyprof memory` with many threads in profiled functions at once.

tests/programs/memory_threads.py runs a function that builds and frees a
list 20,000 times in 12 threads and one that allocates nothing in 12
more, with a 10 us switch interval.  RSS is the process's: memory_
profiler's increment (RSS now minus the previous line's usage) charged
one thread's frees to another's lines (-17 GiB on a 14 MiB process, and
gigabytes on lines that allocate nothing).  Each thread's lines must
show what that thread did, by exact arithmetic, and the bytes per line
what tracemalloc sees in a plain run."""
import json
import os
import subprocess
import sys

from conftest import PROGRAMS, run_pyprof

PROGRAM = os.path.join(PROGRAMS, "memory_threads.py")
THREADS = 12
ROUNDS = 20000
MIB = 1024 * 1024


def marks():
    found = {}
    with open(PROGRAM) as f:
        for number, text in enumerate(f, 1):
            if "# MARK " in text:
                found[text.split("# MARK ")[1].split()[0]] = number
    return found


def test_each_threads_lines_show_what_that_thread_did(tmp_path):
    out = tmp_path / "threads.json"
    r = run_pyprof("memory", "-o", str(out), PROGRAM)
    assert r.returncode == 0, r.stderr
    rows = {row["lineno"]: row
            for func in json.loads(out.read_text())["functions"]
            for row in func["lines"]}
    plain = subprocess.run([sys.executable, PROGRAM, "--trace"],
                           capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    alive = {int(l.split()[1]): int(l.split()[2])
             for l in plain.stdout.splitlines() if l.startswith("ALIVE")}
    at = marks()
    n = THREADS * ROUNDS
    iterators = THREADS * sys.getsizeof(iter([]))
    # From 3.14 list iterators come from a free list: which call pays for
    # one (and which keeps one) differs between runs, by at most one
    # iterator per call.
    free_list = sys.version_info >= (3, 14)
    for mark, lineno in at.items():
        row = rows[lineno]
        loop = mark.endswith("_loop")
        assert row["occurrences"] == n + (THREADS if loop else 0), (mark,
                                                                    row)
        if loop and free_list:
            assert 0 <= row["alive_bytes"] <= iterators, (mark, row)
        else:
            assert row["alive_bytes"] == alive.get(lineno, 0), (mark, row)
    # Each loop's line makes one list iterator per call, freed there.
    for mark in ("churn_loop", "idle_loop"):
        row = rows[at[mark]]
        if free_list:
            # (none at all when every call found one in the free list)
            assert 0 <= row["allocated_bytes"] <= iterators, row
            assert abs(row["increment"]) * MIB <= iterators + 1, row
        else:
            assert row["allocated_bytes"] == iterators, row
            assert row["increment"] == 0, row
    # idle() allocates and frees nothing else: none of its other lines
    # may show an increment, whatever the churning threads did meanwhile.
    for mark in ("churn_del", "idle_body", "idle_none"):
        assert rows[at[mark]]["allocated_bytes"] == 0, rows[at[mark]]
    for mark in ("idle_body", "idle_none"):
        assert rows[at[mark]]["increment"] == 0, rows[at[mark]]
    # churn's list line grows the heap by what it allocates and keeps to
    # the next line (at least the 100 items of each list), its del line
    # shrinks it by as much.
    made = rows[at["churn_list"]]
    freed = rows[at["churn_del"]]
    assert n * 100 * 8 <= made["increment"] * MIB <= \
        made["allocated_bytes"] + 1, made
    assert abs(made["increment"] + freed["increment"]) * MIB < 1, (made,
                                                                   freed)
