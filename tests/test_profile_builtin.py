"""Every command that runs a program gives it the `profile` builtin, as
`kernprof -b` does in its cProfile mode: the @profile script that works under
`pyprof lines` runs unchanged under `pyprof run`, `pyprof time` and the rest
(`pyprof record`'s child gets it too: tests/test_record_site.py)."""
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import run_pyprof

SCRIPT = textwrap.dedent("""\
    @profile
    def square(x):
        return x * x

    import builtins
    print("result", square(7), hasattr(builtins, "profile"))
    """)

KERNPROF = os.path.join(os.path.dirname(sys.executable), "kernprof")

COMMANDS = [["run"], ["time", "-n", "1", "-r", "1"], ["lines"], ["memory"],
            ["heap"], ["mprof", "run", "-o", "m.dat"],
            ["record", "-o", "r.pyprof"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_profile_builtin_under_every_command(command, tmp_path):
    script = tmp_path / "decorated.py"
    script.write_text(SCRIPT)
    plain = subprocess.run([sys.executable, str(script)], cwd=tmp_path,
                           capture_output=True, text=True)
    assert "NameError" in plain.stderr      # what plain python gives it
    if not os.path.exists(KERNPROF):
        pytest.skip("no kernprof")
    theirs = subprocess.run([KERNPROF, "-b", str(script)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert theirs.returncode == 0, theirs.stderr    # kernprof, cProfile mode
    ours = run_pyprof(*command, str(script), cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr
    assert "result 49 True" in theirs.stdout
    assert "result 49 True" in ours.stdout


def test_pass_through_takes_memory_profilers_spelling(tmp_path):
    script = tmp_path / "spelled.py"
    script.write_text(textwrap.dedent("""\
        import builtins

        @profile(precision=3)
        def f():
            return 1

        @profile
        def g():
            return 2

        assert profile(g) is g
        print(f(), g(), f.__name__, g.__name__)
        """))
    ours = run_pyprof("run", str(script), cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr
    assert "1 2 f g" in ours.stdout
