"""Lines of comprehensions and generator expressions (#13.11): by default
`pyprof lines` counts them as kernprof does on the same Python (a
comprehension's line is hit once per run of the line, its time charged to
it); --comprehension-lines counts every iteration, as sys.settrace sees
them.  The oracle is kernprof -l on the same program."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import run_pyprof

KERNPROF = os.path.join(os.path.dirname(sys.executable), "kernprof")

PROGRAM = textwrap.dedent("""\
    @profile
    def f(n):
        a = [i * 2 for i in range(n)]
        b = sum(x for x in range(n))
        c = {i: i for i in range(n)}
        d = {i for i in range(n)}
        k = 0
        while k < n: k += 1
        return a, b, c, d

    f(300)
    f(200)
    """)


def hits(out):
    return {int(m.group(1)): int(m.group(2)) for m in re.finditer(
        r"^\s+(\d+)\s+(\d+)\s+[\d.e+-]+\s+[\d.e+-]+\s+[\d.]+ ", out, re.M)}


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "comps.py"
    path.write_text(PROGRAM)
    return path


def test_comprehension_lines_count_as_kernprof_counts(script, tmp_path):
    if not os.path.exists(KERNPROF):
        pytest.skip("no kernprof")
    theirs = subprocess.run([KERNPROF, "-l", "-v", str(script)],
                            cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert theirs.returncode == 0, theirs.stderr
    ours = run_pyprof("lines", str(script), cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr
    assert hits(ours.stdout) == hits(theirs.stdout)
    assert hits(ours.stdout)[3] == 2        # once per call, not 502


def test_comprehension_lines_flag_counts_every_iteration(script, tmp_path):
    ours = run_pyprof("lines", "--comprehension-lines", str(script),
                      cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr
    counted = hits(ours.stdout)
    # settrace: the line runs, then each comprehension frame's iterations
    assert counted[3] > 500 and counted[4] > 500 and counted[8] >= 500
