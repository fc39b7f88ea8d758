"""pyprof.memory_profile, the decorator in code, against
memory_profiler.profile on the same function (same rows, occurrences and
increments), plus the allocation columns."""
import io
import os
import re
import subprocess
import sys

import pytest

import pyprof


def rows(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"\s*(\d+)\s+(-?[\d.]+) MiB\s+(-?[\d.]+) MiB\s+(\d+)"
                     r"(?:\s+(-?[\d.]+) MiB\s+(-?[\d.]+) MiB)?", line)
        if m:
            out[int(m.group(1))] = m.groups()[1:]
    return out


def work():
    a = [0] * (12 * 1024 * 1024 // 8)
    b = [1] * 1000
    del a
    return b


WORK = """
import sys
def work():
    a = [0] * (12 * 1024 * 1024 // 8)
    b = [1] * 1000
    del a
    return b
if sys.argv[1] == "pyprof":
    import pyprof
    decorated = pyprof.memory_profile(stream=sys.stdout, precision=3)(work)
else:
    import memory_profiler
    decorated = memory_profiler.profile(work, stream=sys.stdout, precision=3)
assert decorated() == [1] * 1000
print("FIRSTLINE", work.__code__.co_firstlineno)
"""


def decorated_output(tool, directory):
    """The table `tool`'s decorator prints for work(), in a fresh process:
    RSS increments depend on what the allocator already holds (glibc
    raises its mmap threshold after a big free), so the two tools are
    compared from the same starting state."""
    script = directory / "work.py"   # memory_profiler reads the source
    script.write_text(WORK)
    proc = subprocess.run([sys.executable, str(script), tool],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    first = int(re.search(r"FIRSTLINE (\d+)", proc.stdout).group(1))
    return rows(proc.stdout), first


def test_decorator_prints_table_per_call(tmp_path):
    pytest.importorskip("memory_profiler")
    ours_rows, first = decorated_output("pyprof", tmp_path)
    their_rows, _ = decorated_output("memory_profiler", tmp_path)
    assert sorted(ours_rows) == sorted(their_rows)
    for n in ours_rows:
        assert ours_rows[n][2] == their_rows[n][2]         # occurrences
    made = ours_rows[first + 1]
    assert abs(float(made[1]) - float(their_rows[first + 1][1])) < 2
    assert abs(float(made[3]) - 12.0) < 0.01                # allocated MiB
    assert float(made[4]) == 0.0                            # freed by del
    kept = ours_rows[first + 2]
    assert float(kept[4]) > 0.0                             # b is returned


def test_decorator_keeps_the_function_and_prints_per_call():
    out = io.StringIO()
    ours = pyprof.memory_profile(stream=out, precision=3)(work)
    assert ours() == [1] * 1000
    assert ours.__name__ == "work" and ours.__wrapped__ is work
    ours()
    assert out.getvalue().count("Filename:") == 2


def test_decorator_on_method_and_exception():
    out = io.StringIO()

    class K:
        @pyprof.memory_profile(stream=out)
        def method(self, x):
            if x:
                raise ValueError(x)
            return self

    k = K()
    assert k.method(0) is k
    with pytest.raises(ValueError):
        k.method(1)
    assert out.getvalue().count("Filename:") == 2
    with pytest.raises(TypeError):
        pyprof.memory_profile(42)


MAGIC_MODULE = """
def build(n):
    a = [1] * n
    b = [2] * (2 * n)
    del b
    return a
"""

MAGIC_SESSION = """
import sys
sys.path.insert(0, sys.argv[2])
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
ip.run_line_magic("load_ext", sys.argv[1])
ip.run_cell("import magic_mod")
ip.run_line_magic("mprun", "-f magic_mod.build magic_mod.build(10_000_000)")
ip.run_line_magic("memit", "x = [0] * 12_500_000")
ip.run_line_magic("memit", "-r 2 y = None; y = bytearray(50 << 20)")
"""


def _magic_output(tmp_path, extension):
    proc = subprocess.run([sys.executable, "-c", MAGIC_SESSION, extension,
                           str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^\s+(\d+)\s+([\d.]+) MiB\s+(-?[\d.]+) MiB\s+(\d+)",
                     line)
        if m:
            rows[int(m.group(1))] = (float(m.group(3)), int(m.group(4)))
    memits = [float(m.group(1)) for m in re.finditer(
        r"^peak memory: [\d.]+ MiB, increment: (-?[\d.]+) MiB$",
        proc.stdout, re.M)]
    return rows, memits


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="ASan's quarantine keeps freed memory resident")
def test_mprun_and_memit_magics_as_memory_profilers(tmp_path):
    """`%load_ext pyprof` gives memory_profiler's %mprun and %memit: the
    same lines, occurrences and (for the 76-153 MiB lines and the
    statements) increments as memory_profiler's own magics."""
    pytest.importorskip("IPython")
    (tmp_path / "magic_mod.py").write_text(MAGIC_MODULE.lstrip())
    theirs, their_memits = _magic_output(tmp_path, "memory_profiler")
    ours, our_memits = _magic_output(tmp_path, "pyprof")
    assert sorted(ours) == sorted(theirs) == [1, 2, 3, 4, 5]
    for line in (2, 3, 4, 5):
        assert ours[line][1] == theirs[line][1]           # occurrences
        assert abs(ours[line][0] - theirs[line][0]) < 2.0  # increment
    assert abs(ours[3][0] - 152.6) < 2.0 and abs(ours[4][0] + 152.6) < 2.0
    assert len(our_memits) == len(their_memits) == 2
    for a, b in zip(our_memits, their_memits):
        assert abs(a - b) < 3.0
    assert abs(our_memits[0] - 95.4) < 3.0 and abs(our_memits[1] - 50) < 3.0
