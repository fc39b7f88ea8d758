"""The README's "Use" block runs as written.

Every command line of that block is run, in a fresh copy of a directory
holding the files its names refer to (script.py with @profile functions,
prog.pstats, an mprof .dat, the packages of -m and --module), and must
exit 0 and write the files its -o names.  What is changed is only what a
reader substitutes too: `[optional]` parts are given (except `[args]` and
`[--open]`, which starts a browser), `a|b|c` alternatives are each run,
PID is a sibling process started here, `python3.14` is this interpreter,
`--duration 30` lasts 1 s.  `pyprof top` needs a terminal: it is driven
in tmux by tests/test_top.py.  A line added to the block is run too."""
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, run_pyprof

SCRIPT = """\
import mod
import pkg

def calc_point_val(x):
    return x * x

@profile
def jset(n):
    return [calc_point_val(i) for i in range(n)]

jset(2000)
mod.func()
pkg.work()
"""

FILES = {
    "script.py": SCRIPT,
    "app.py": "import time\nt = time.time()\n"
              "while time.time() - t < 0.3:\n    pass\n",
    "mod.py": "@profile\ndef func():\n    return sum(range(1000))\n",
    "mymod.py": "def main():\n    return sorted(range(1000), key=str)\n",
    "pkg/__init__.py": "def work():\n    return [str(i) for i in range(100)]\n",
    "pkg/main.py": "import time\nt = time.time()\n"
                   "while time.time() - t < 0.3:\n    pass\n",
    "package/__init__.py": "",
    "package/module.py": "print(sum(range(10)))\n",
    "src/helper.py": "def helper():\n    return 1\n",
}

SIBLING = """\
import sys, time
print("ready", flush=True)
end = time.time() + 60
while time.time() < end:
    sum(range(1000))
"""


def use_block():
    """The command lines of the README's first code block under ## Use."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    block = text.split("## Use", 1)[1].split("```", 2)[1]
    lines = []
    for raw in block.splitlines():
        line = raw.split("  #", 1)[0].strip()
        if line.startswith("pyprof"):
            lines.append(line)
    return lines


def commands_of(line, pid):
    """The argv lists (after `pyprof`) a reader would run for `line`."""
    line = line.replace("[args]", "").replace("[--open]", "")
    line = line.replace("--duration 30", "--duration 1")
    line = line.replace("[", "").replace("]", "")
    runs = []
    for part in line.split("; pyprof "):
        part = part if part.startswith("pyprof") else "pyprof " + part
        argv = shlex.split(part)[1:]
        argv = [str(pid) if a == "PID" else
                sys.executable if a == "python3.14" else a for a in argv]
        alternatives = [i for i, a in enumerate(argv) if "|" in a]
        if alternatives:
            i = alternatives[0]
            for choice in argv[i].split("|"):
                runs.append(argv[:i] + [choice] + argv[i + 1:])
        else:
            runs.append(argv)
    return runs


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    base = tmp_path_factory.mktemp("readme")
    for name, text in FILES.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for argv in (["run", "-o", "prog.pstats", "script.py"],
                 ["run", "-o", "more.pstats", "script.py"],
                 ["mprof", "run", "script.py"]):
        r = run_pyprof(*argv, cwd=base)
        assert r.returncode == 0, (argv, r.stderr)
    sibling = subprocess.Popen([sys.executable, "-c", SIBLING],
                               stdout=subprocess.PIPE, text=True)
    assert sibling.stdout.readline().strip() == "ready"
    yield base, sibling.pid
    sibling.kill()
    sibling.wait()


def outputs_named(argv):
    """The files -o (and --flamegraph) name in argv."""
    return [argv[i + 1] for i, a in enumerate(argv[:-1])
            if a in ("-o", "--flamegraph")]


LINES = use_block()


def test_the_use_block_is_found():
    assert len(LINES) > 20, LINES


@pytest.mark.parametrize("line", LINES)
def test_readme_line_runs_as_written(line, prepared, tmp_path):
    base, pid = prepared
    if line.split()[1] == "top":
        pytest.skip("pyprof top needs a terminal: tests/test_top.py")
    for n, argv in enumerate(commands_of(line, pid)):
        work = tmp_path / str(n)
        shutil.copytree(base, work)
        r = run_pyprof(*argv, cwd=work)
        assert r.returncode == 0, (argv, r.stdout[-2000:], r.stderr[-2000:])
        for out in outputs_named(argv):
            assert os.path.getsize(work / out) > 0, (argv, out)
