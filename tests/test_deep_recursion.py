"""A recursive @profile function under every command sees the recursion it
sees under plain python: with a raised limit it runs as deep, with the
default limit RecursionError comes at the same depth (a few frames of
pyprof's runner aside).

Below 3.12 a frame-evaluation hook (or a C wrapper) turns each Python
call into a C-level recursion, which 3.11 otherwise avoids; on 3.12+ a C
wrapper counts against the C recursion limit.  Both broke these programs
(mprof run's C wrapper on 3.11 overflowed the C stack at depth 20,000).
"""
import json
import subprocess
import sys

import pytest

from conftest import run_pyprof

COMMANDS = {
    "run": ["run"],
    "lines": ["lines"],
    "memory": ["memory"],
    "mprof": ["mprof", "run", "-o", "{tmp}/rec.dat"],
    "heap": ["heap"],
}

RECURSE = """\
import sys
sys.setrecursionlimit({limit})
try:
    profile
except NameError:
    def profile(func):
        return func

@profile
def rec(n):
    if n == 0:
        return 0
    return rec(n - 1) + 1

print("result", rec({depth}))
"""

MAX_DEPTH = """\
import sys
sys.setrecursionlimit({limit})
try:
    profile
except NameError:
    def profile(func):
        return func

reached = 0

@profile
def rec(n):
    global reached
    reached = n
    return rec(n + 1)

try:
    rec(0)
except RecursionError:
    print("max depth", reached)
"""

# 3.10 nests a C evaluation per Python call even without a hook, and
# tracing mode (cProfile's too) a C frame more: near 16,000 calls cProfile
# overflows the C stack there, so 3.10's deep case is shallower.
DEEP = 12000 if sys.version_info < (3, 11) else 20000


def command(name, tmp_path):
    return [a.format(tmp=tmp_path) for a in COMMANDS[name]]


def plain(script):
    return subprocess.run([sys.executable, str(script)], capture_output=True,
                          text=True, timeout=300)


# pyprof heap takes two collections and two censuses of the whole heap per
# call (about 3 ms: its deep case takes minutes).  Below 3.12 its @profile
# returns the function itself, watched by the frame hook that gives way
# to a profile function once deep (its wrapper overflowed 3.11's C stack
# near depth 15,700); from 3.12 the wrapper remains, whose C recursion
# credit ends once the C stack is deep (RecursionError near depth 4,000
# of 20,000 on 3.12): there its deep case is just past 3.12's C recursion
# limit (1,500).
HEAP_DEEP = DEEP if sys.version_info < (3, 12) else 1600
CASES = [(name, depth) for name in sorted(COMMANDS) if name != "heap"
         for depth in (5000, DEEP)] + [("heap", 1600)]
if HEAP_DEEP != 1600:
    CASES.append(("heap", HEAP_DEEP))

@pytest.mark.parametrize("name,depth", CASES)
def test_deep_recursion_runs_as_under_plain_python(tmp_path, name, depth):
    script = tmp_path / "rec.py"
    script.write_text(RECURSE.format(limit=5 * depth, depth=depth))
    expected = plain(script)
    assert expected.returncode == 0, expected.stderr
    result = run_pyprof(*command(name, tmp_path), str(script), timeout=900)
    assert result.returncode == expected.returncode, result.stderr[-2000:]
    assert "result %d" % depth in result.stdout.splitlines()
    assert "Error" not in result.stderr, result.stderr[-2000:]
    if name == "heap":
        # Every call is measured, and none grew the heap: the census at
        # the end of a call sees its frame gone (below 3.12, where the
        # frame hook gives way deep down, at the profile function's
        # 'return' too), and nothing pyprof does at that switch (it once
        # imported threading: 4,000 calls "grew" 139 functions) shows.
        calls = "{:,}".format(depth + 1)
        assert ("== heap growth in rec: %s of %s calls: no type grew"
                % (calls, calls)) in result.stdout.splitlines(), \
            result.stdout[:3000]


# Below 3.12 the calls of mprof run's @profile function are seen by a
# frame hook, which gives way to a profile function once the C stack is a
# quarter used: the deep case has calls of both kinds, and each is
# recorded once.
@pytest.mark.parametrize("depth", [3000, DEEP])
def test_mprof_records_each_level_of_a_recursion(tmp_path, depth):
    script = tmp_path / "rec.py"
    script.write_text(RECURSE.format(limit=5 * depth, depth=depth))
    result = run_pyprof("mprof", "run", "-o", str(tmp_path / "rec.dat"),
                        str(script))
    assert result.returncode == 0, result.stderr[-2000:]
    levels = [int(line.split()[-1])
              for line in (tmp_path / "rec.dat").read_text().splitlines()
              if line.startswith("FUNC __main__.rec ")]
    # innermost call first, as each FUNC line is written at its return
    assert levels == list(range(depth, -1, -1))


# The default limit, and (3.11 and later, where plain python's recursion
# costs no C stack per Python call) one far above the depth at which the
# line engine's and the call watch's frame hooks give way.  pyprof heap's
# two censuses per call make the high one too slow for it.
LIMITS = [(name, 1000) for name in sorted(COMMANDS)]
if sys.version_info >= (3, 11):
    LIMITS += [(name, 60000) for name in sorted(COMMANDS) if name != "heap"]


@pytest.mark.parametrize("name,limit", LIMITS)
def test_recursion_error_comes_at_plain_pythons_depth(tmp_path, name, limit):
    script = tmp_path / "maxdepth.py"
    script.write_text(MAX_DEPTH.format(limit=limit))
    expected = plain(script)
    want = int(expected.stdout.split()[-1])
    result = run_pyprof(*command(name, tmp_path), str(script))
    assert result.returncode == 0, result.stderr[-2000:]
    line = [l for l in result.stdout.splitlines() if l.startswith("max depth")]
    got = int(line[0].split()[-1])
    # `python -m pyprof` and pyprof's runner add a few frames below the
    # program's <module>
    assert want - 8 <= got <= want, (got, want)


def test_lines_counts_stay_right_when_the_recursion_goes_deep(tmp_path):
    script = tmp_path / "rec.py"
    script.write_text(RECURSE.format(limit=5 * DEEP, depth=DEEP))
    result = run_pyprof("lines", str(script))
    assert result.returncode == 0, result.stderr[-2000:]
    hits = {}
    for row in result.stdout.splitlines():
        fields = row.split()
        if len(fields) > 2 and fields[0].isdigit() and fields[1].isdigit():
            hits[int(fields[0])] = int(fields[1])
    assert hits == {11: DEEP + 1, 12: 1, 13: DEEP}


# Below 3.12 the line engine's frame hook gives way to profile gating once
# the recursion is deep (src/lines/lines_legacy.c, switch_to_gating), and
# the threads started from then on get the profile function through
# threading.setprofile.  That switch once imported threading in the middle
# of the program: plain python's oracle is the program's own view of
# sys.modules.  A program that imports threading itself later still has
# its threads' lines counted, as the settrace oracle counts them.
DEEP_THEN_THREAD = """\
import sys
sys.setrecursionlimit({limit})
try:
    profile
except NameError:
    def profile(func):
        return func

@profile
def rec(n):
    if n == 0:
        return 0
    return rec(n - 1) + 1

@profile
def in_thread(k):
    acc = 0
    for i in range(k):
        acc += i
    return acc

before = set(sys.modules)
print("result", rec({depth}))
print("threading imported", "threading" in sys.modules)
print("modules the recursion imported", sorted(set(sys.modules) - before))
print("profile function", sys.getprofile())
if {threads}:
    import threading
    threads = [threading.Thread(target=in_thread, args=(k,))
               for k in (50, 51)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""


def test_lines_switch_to_gating_imports_nothing(tmp_path):
    script = tmp_path / "deep.py"
    script.write_text(DEEP_THEN_THREAD.format(limit=5 * DEEP, depth=DEEP,
                                              threads=False))
    expected = plain(script)
    assert expected.returncode == 0, expected.stderr
    assert "threading imported False" in expected.stdout.splitlines()
    out = tmp_path / "lines.json"
    result = run_pyprof("lines", "-o", str(out), str(script))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == expected.stdout


def test_lines_threads_started_after_the_switch_are_counted(tmp_path):
    from test_lines import hits_of, oracle_hits
    script = tmp_path / "deep.py"
    script.write_text(DEEP_THEN_THREAD.format(limit=5 * DEEP, depth=DEEP,
                                              threads=True))
    out = tmp_path / "lines.json"
    result = run_pyprof("lines", "-o", str(out), str(script))
    assert result.returncode == 0, result.stderr[-2000:]
    with open(str(out)) as f:
        data = json.load(f)
    assert hits_of(data) == oracle_hits(str(script), tmp_path)
