"""%lprun and %mprun in a real IPython session, against line_profiler's and
memory_profiler's own magics on the same session."""
import re
import subprocess
import sys

import pytest

pytest.importorskip("IPython")

SESSION = r'''
import sys
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
ip.run_line_magic("load_ext", sys.argv[1])
ip.run_cell("def f(s):\n    n = 0\n    for c in s:\n        n += 1\n"
            "    return n\n")
ip.run_cell(sys.argv[4])
ip.run_line_magic(sys.argv[2], sys.argv[3])
'''


def _session(extension, magic, line, cwd=None, setup="pass"):
    proc = subprocess.run([sys.executable, "-c", SESSION, extension, magic,
                           line, setup], capture_output=True, text=True, timeout=300,
                          cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def _lprun_hits(out):
    return {int(l.split()[0]): int(l.split()[1]) for l in out.splitlines()
            if re.match(r"^\s+\d+\s+\d+ ", l)}


@pytest.mark.parametrize("statement", ['f("hello world")',
                                       "f('hello world')",
                                       "f('say \"hi\"  twice')"])
def test_lprun_keeps_the_statements_quotes(statement):
    ours = _session("pyprof", "lprun", "-f f " + statement)
    assert "Error" not in ours, ours
    n = len(eval(statement[2:-1]))
    assert _lprun_hits(ours) == {2: 1, 3: n + 1, 4: n, 5: 1}
    if "twice" not in statement:
        # line_profiler escapes quotes, so its statement loses the spaces
        # inside a string and a " inside '...' breaks it; ours is raw
        theirs = _session("line_profiler", "lprun", "-f f " + statement)
        assert _lprun_hits(theirs) == _lprun_hits(ours)


def _mprun_rows(out):
    """{lineno: (occurrences or 0, contents stripped)} of memory_profiler's
    table (pyprof's two more columns allowed)."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^\s+(\d+)(?:\s+[\d.]+ MiB\s+-?[\d.]+ MiB\s+(\d+)"
                     r"(?:\s+[\d.]+ MiB\s+-?[\d.]+ MiB)?)?\s(.*)$", line)
        if m and "MiB" in out:
            rows[int(m.group(1))] = (int(m.group(2) or 0),
                                     m.group(3).strip())
    return rows


MODULE = "def g(s):\n    n = 0\n    for c in s:\n        n += 1\n" \
    "    return n\n"


@pytest.mark.parametrize("statement", ['g("hello world")',
                                       "g('hello world')"])
def test_mprun_keeps_the_statements_quotes(statement, tmp_path):
    """memory_profiler's %mprun (on a function in a file: it cannot show
    one defined in IPython) runs the statement as typed; so does ours."""
    (tmp_path / "quoted.py").write_text(MODULE)
    line = "-f quoted.g quoted." + statement
    setup = "import sys; sys.path.insert(0, '.'); import quoted"
    theirs = _mprun_rows(_session("memory_profiler", "mprun", line,
                                  cwd=tmp_path, setup=setup))
    ours = _mprun_rows(_session("pyprof", "mprun", line, cwd=tmp_path,
                                setup=setup))
    assert sorted(ours) == sorted(theirs) == [1, 2, 3, 4, 5]
    assert ours == theirs
    assert ours[4] == (11, "n += 1")


def test_mprun_shows_the_source_of_a_function_defined_in_a_cell():
    """%lprun shows a cell's lines (IPython registers them in linecache);
    %mprun shows the same Line Contents."""
    lines = _session("pyprof", "lprun", '-f f f("hello world")')
    column = lines.index("Line Contents") - lines.rindex("\n", 0, lines.index(
        "Line Contents")) - 1
    expected = {int(l.split()[0]): l[column:].strip()
                for l in lines.splitlines() if re.match(r"^\s+\d+ ", l)}
    assert expected[4] == "n += 1"
    ours = _mprun_rows(_session("pyprof", "mprun", '-f f f("hello world")'))
    assert {n: text for n, (_, text) in ours.items()} == expected
    assert ours[4][0] == 11
