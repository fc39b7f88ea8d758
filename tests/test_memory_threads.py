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
    for mark, lineno in at.items():
        row = rows[lineno]
        assert row["alive_bytes"] == alive.get(lineno, 0), (mark, row)
        loop = mark.endswith("_loop")
        assert row["occurrences"] == n + (THREADS if loop else 0), (mark,
                                                                    row)
    # Each loop's line makes one list iterator per call, freed there.
    for mark in ("churn_loop", "idle_loop"):
        assert rows[at[mark]]["allocated_bytes"] == \
            THREADS * sys.getsizeof(iter([])), rows[at[mark]]
    for mark in ("churn_del", "idle_body", "idle_none"):
        assert rows[at[mark]]["allocated_bytes"] == 0, rows[at[mark]]
    # idle() allocates and frees nothing: none of its lines may show an
    # increment, whatever the churning threads did meanwhile.
    for mark in ("idle_loop", "idle_body", "idle_none"):
        assert rows[at[mark]]["increment"] == 0, rows[at[mark]]
    assert rows[at["churn_loop"]]["increment"] == 0, rows[at["churn_loop"]]
    # churn's list line grows the heap by what it allocates and keeps to
    # the next line (at least the 100 items of each list), its del line
    # shrinks it by as much.
    made = rows[at["churn_list"]]
    freed = rows[at["churn_del"]]
    assert n * 100 * 8 <= made["increment"] * MIB <= \
        made["allocated_bytes"] + 1, made
    assert abs(made["increment"] + freed["increment"]) * MIB < 1, (made,
                                                                   freed)
