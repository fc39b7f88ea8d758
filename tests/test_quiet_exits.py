"""Where there is nothing to report, pyprof says what python says and no
more; where the reader of its output goes away, it says nothing.

- A directory without __main__.py: python prints "EXE: can't find
  '__main__' module in 'DIR'" and exits 1.  Every command that runs a
  program must print exactly that (no profile of runpy's search, no table).
- `pyprof ... | head`: when the reader has gone, a plain tool (seq, cat)
  is stopped by SIGPIPE, which a shell reports as 141, and prints nothing;
  `python -m cProfile` also prints nothing.  Every command that prints to
  stdout exits quietly, 141 when the program itself succeeded.
- `pyprof lines` with nothing profiled prints no bare "Timer unit" line.
"""
import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

PYPROF = [sys.executable, "-m", "pyprof"]
PIPE_CLOSED = 141


def write(path, source):
    with open(path, "w") as f:
        f.write(textwrap.dedent(source))
    return str(path)


def run(args, cwd, **kwargs):
    kwargs.setdefault("capture_output", True)
    return subprocess.run(args, cwd=str(cwd), text=True, timeout=300,
                          **kwargs)


RUNNING_COMMANDS = [["run"], ["run", "-s", "tottime"], ["lines"],
                    ["memory"], ["heap"], ["time", "-n", "1", "-r", "1"],
                    ["record"], ["mprof", "run"]]


@pytest.mark.parametrize("command", RUNNING_COMMANDS,
                         ids=lambda c: " ".join(c))
def test_directory_without_main_is_pythons_message_only(command, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    expected = run([sys.executable, str(empty)], tmp_path)
    assert expected.returncode == 1
    assert "can't find '__main__' module" in expected.stderr
    got = run([*PYPROF, *command, str(empty)], tmp_path)
    assert (got.returncode, got.stdout, got.stderr) == (
        expected.returncode, expected.stdout, expected.stderr)
    assert os.listdir(tmp_path) == ["empty"]    # no .dat, no recording


@pytest.mark.parametrize("command", RUNNING_COMMANDS[1:],
                         ids=lambda c: " ".join(c))
def test_missing_script_is_one_line_as_under_run(command, tmp_path):
    """A script that cannot be opened: `pyprof run`'s one line (python's,
    under pyprof's name) and python's status 2 -- no child's profile of
    the interpreter's start-up, no file."""
    expected = run([*PYPROF, "run", "nosuch.py"], tmp_path)
    assert expected.returncode == 2
    assert expected.stderr == ("pyprof: can't open file 'nosuch.py': "
                               "[Errno 2] No such file or directory\n")
    got = run([*PYPROF, *command, "nosuch.py"], tmp_path)
    assert (got.returncode, got.stdout, got.stderr) == (
        expected.returncode, expected.stdout, expected.stderr)
    assert os.listdir(tmp_path) == []


def test_directory_with_main_is_profiled_not_runpy(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    write(app / "__main__.py", """\
        def work():
            return sum(range(10))
        work()
    """)
    got = run([*PYPROF, "run", str(app)], tmp_path)
    assert got.returncode == 0, got.stderr
    assert "__main__.py:1(work)" in got.stdout
    # runpy's search for __main__ happens before the program starts
    assert "_get_main_module_details" not in got.stdout
    assert "_get_module_details" not in got.stdout


def test_lines_with_nothing_profiled_prints_no_table(tmp_path):
    prog = write(tmp_path / "plain.py", "x = 1\n")
    got = run([*PYPROF, "lines", prog], tmp_path)
    assert got.returncode == 0
    assert got.stdout == ""
    assert got.stderr.count("\n") == 1 and "no function" in got.stderr


def _closed_pipe_run(args, cwd):
    """Run args with stdout a pipe whose reader is already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(args, cwd=str(cwd), stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        os.close(write_end)


@pytest.fixture
def files(tmp_path):
    prog = write(tmp_path / "prog.py", """\
        import json
        def work(i):
            return json.dumps({"i": i})
        for i in range(300):
            work(i)
    """)
    pstats_file = str(tmp_path / "prog.pstats")
    made = run([*PYPROF, "run", "-o", pstats_file, prog], tmp_path)
    assert made.returncode == 0, made.stderr
    dat = str(tmp_path / "mprofile_20260101000000.dat")
    made = run([*PYPROF, "mprof", "run", "-T", "0.01", "-o", dat, prog],
               tmp_path)
    assert made.returncode == 0, made.stderr
    return {"prog": prog, "pstats": pstats_file, "dat": dat}


PRINTING_COMMANDS = {
    "run": ["run", "{prog}"],
    "run -s tottime": ["run", "-s", "tottime", "{prog}"],
    "lines": ["lines", "--function", "work", "{prog}"],
    "memory": ["memory", "--function", "work", "{prog}"],
    "heap": ["heap", "{prog}"],
    "time": ["time", "-n", "1", "-r", "2", "{prog}"],
    "stats": ["stats", "{pstats}"],
    "stats --callers": ["stats", "{pstats}", "--callers", "work"],
    "export": ["export", "{pstats}", "-f", "collapsed"],
    "view -o -": ["view", "{pstats}", "-o", "-"],
    "mprof list": ["mprof", "list"],
    "mprof peak": ["mprof", "peak", "{dat}"],
    "help": ["--help"],
}


@pytest.mark.parametrize("name", sorted(PRINTING_COMMANDS))
def test_closed_pipe_is_quiet(name, files, tmp_path):
    args = [a.format(**files) for a in PRINTING_COMMANDS[name]]
    got = _closed_pipe_run([*PYPROF, *args], tmp_path)
    assert got.stderr == "", got.stderr
    assert got.returncode == PIPE_CLOSED


def test_record_on_a_closed_pipe_says_only_its_summary(files, tmp_path):
    """record prints its summary line on stderr whatever stdout is (the
    rate kept, the errors); nothing else, and 141 for the closed pipe."""
    got = _closed_pipe_run([*PYPROF, "record", files["prog"]], tmp_path)
    assert got.returncode == PIPE_CLOSED, got.stderr
    lines = got.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyprof record: "), \
        got.stderr
    assert re.search(r"\d+ samples? in", lines[0])


def test_closed_pipe_keeps_the_programs_own_status(tmp_path):
    prog = write(tmp_path / "fails.py", """\
        import sys
        def work():
            return 1
        work()
        sys.exit(3)
    """)
    got = _closed_pipe_run([*PYPROF, "run", prog], tmp_path)
    assert got.returncode == 3
    assert got.stderr == ""


def test_program_that_hits_the_closed_pipe_sees_what_python_gives(tmp_path):
    """The program's own BrokenPipeError is the program's business: python
    prints its traceback; so does pyprof, and then nothing of its own."""
    prog = write(tmp_path / "talks.py", "print('hello', flush=True)\n")
    expected = _closed_pipe_run([sys.executable, prog], tmp_path)
    got = _closed_pipe_run([*PYPROF, "run", prog], tmp_path)
    assert got.returncode == expected.returncode
    assert got.stderr == expected.stderr
