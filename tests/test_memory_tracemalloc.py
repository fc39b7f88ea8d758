"""The allocation hooks next to tracemalloc's, in every order.

Both tools wrap Python's allocators; whoever installs or removes a hook,
and in whichever order, the chain must stay right: no hang (a hook that
allocates while tracemalloc holds its lock), no crash (a hook put back
after its owner stopped), and each tool's numbers still its own.  Every
run is a child process with a timeout: a hang or a crash is a failure,
not a stuck suite."""
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import run_pyprof

TIMEOUT = 60


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def run_python(*args, **kwargs):
    return subprocess.run([sys.executable, *args], capture_output=True,
                          text=True, timeout=TIMEOUT, **kwargs)


# take_snapshot() copies tracemalloc's tables under its lock, allocating:
# a hook above tracemalloc's that allocates there (a frame object made to
# read the line) re-enters tracemalloc and waits for that lock forever.
SNAPSHOT = """
    import tracemalloc
    tracemalloc.start()

    def snap():
        return len(tracemalloc.take_snapshot().traces) > 0

    @profile
    def work():
        keep = [bytearray(100) for _ in range(100)]
        ok = snap()
        return ok and len(keep) == 100

    print(snap(), work(), snap())
    tracemalloc.stop()
"""


@pytest.mark.parametrize("command", [["memory"], ["heap",
                                                  "--trace-allocations"]])
def test_take_snapshot_under_our_hooks_does_not_hang(tmp_path, command):
    script = write(tmp_path, "snap.py", SNAPSHOT)
    r = run_pyprof(*command, script, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "True True True"


# tracemalloc first, ours on top; tracemalloc.stop() restores what it
# found, taking ours out of the chain.  Our stop must not put back the
# hooks of a tracemalloc that is gone.
STOP_IN_THE_MIDDLE = """
    import tracemalloc

    @profile
    def work():
        before = [bytearray(100) for _ in range(100)]
        tracemalloc.stop()
        after = [bytearray(100) for _ in range(100)]
        return len(before) + len(after)

    print(tracemalloc.is_tracing(), work(), tracemalloc.is_tracing())
"""


@pytest.mark.parametrize("command", [["memory"], ["heap",
                                                  "--trace-allocations"]])
@pytest.mark.parametrize("start", ["-X", "env"])
def test_tracemalloc_started_first_and_stopped_in_the_middle(tmp_path,
                                                             command, start):
    script = write(tmp_path, "stop.py", STOP_IN_THE_MIDDLE)
    env = dict(os.environ)
    args = ["-m", "pyprof", *command, script]
    if start == "-X":
        args = ["-X", "tracemalloc"] + args
    else:
        env["PYTHONTRACEMALLOC"] = "1"
    r = run_python(*args, env=env)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout.splitlines()[0] == "True 200 False"
    # What we could not count is said, not hidden.
    assert "allocations after that were not counted" in r.stderr


# The same orders through the hooks' own API, checking each tool still
# counts what it should after the other came and went.
ORDERS = """
    import tracemalloc
    import pyprof._pyprof as C

    def ours(tag):
        here = __file__
        return sum(a for f, line, a, fr, b in C._alloc_sites()
                   if f == here and line == LINES[tag])

    LINES = {}
    def mark(tag):
        import sys
        LINES[tag] = sys._getframe(1).f_lineno + 1

    # 1. ours, then tracemalloc starts and stops inside: ours keeps
    #    counting, tracemalloc counts while it runs.
    C._alloc_start()
    tracemalloc.start()
    mark("a")
    a = bytearray(1_000_000)
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    mark("b")
    b = bytearray(1_000_000)
    assert traced >= 1_000_000, traced
    assert ours("a") >= 1_000_000 and ours("b") >= 1_000_000, (
        ours("a"), ours("b"))
    C._alloc_stop()

    # 2. ours, tracemalloc on top, ours stops first (wrapped: must stay
    #    in the chain, passing through), then tracemalloc stops (puts
    #    ours back, still passing through).  Then everything again.
    for _ in range(3):
        C._alloc_start()
        tracemalloc.start()
        C._alloc_stop()
        c = bytearray(1_000_000)
        assert tracemalloc.get_traced_memory()[0] >= 1_000_000
        tracemalloc.stop()
        d = [bytearray(1000) for _ in range(1000)]
        del c, d

    # 3. tracemalloc first, ours on top, tracemalloc stops in the middle,
    #    then ours stops: nothing of tracemalloc's may be called again.
    tracemalloc.start()
    C._alloc_start()
    tracemalloc.stop()
    e = [bytearray(1000) for _ in range(1000)]
    C._alloc_stop()
    f = [bytearray(1000) for _ in range(1000)]
    del e, f

    # 4. and tracking works again on top of it all.
    C._alloc_start()
    mark("g")
    g = bytearray(1_000_000)
    assert ours("g") >= 1_000_000, ours("g")
    C._alloc_stop()
    print("ok")
"""


def test_every_order_of_ours_and_tracemalloc(tmp_path):
    script = write(tmp_path, "orders.py", ORDERS)
    r = run_python(script)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout.strip() == "ok"
    # Only order 3 took our hooks out.
    assert r.stderr.count("were not counted") == 1, r.stderr
