"""The program's `__main__` under every pyprof command that runs a program is
the one plain `python` gives it, on every version: the same names, the same
values of the dunder names, and module annotations that work.

The oracle is the interpreter itself, run plainly on the same program, so
the test follows each version's own rules: up to 3.13 `__main__` starts
with an `__annotations__` dict; from 3.14 (PEP 649/749) it does not, the
compiler stores `__annotate__` and `__annotations__` appears only when
read; from 3.15 a script's `__main__` has no `__cached__`.
"""
import json
import subprocess
import sys
import textwrap

import pytest

OBSERVE = textwrap.dedent("""\
    import json, sys
    x: int = 1
    main = sys.modules["__main__"]

    def show(value):
        if isinstance(value, type):
            return "type " + value.__name__
        if value is None or isinstance(value, (str, int, dict)):
            return repr(value)
        return type(value).__name__

    names = sorted(vars(main))
    dunders = {k: show(v) for k, v in vars(main).items()
               if k.startswith("__") and k.endswith("__")}
    annotate = vars(main).get("__annotate__")
    report = {
        "names": names,
        "dunders": dunders,
        "annotate": None if annotate is None else
                    {k: v.__name__ for k, v in annotate(1).items()},
        "annotations": {k: v.__name__
                        for k, v in main.__annotations__.items()},
        "names_after": sorted(vars(main)),
    }
    print("MAIN " + json.dumps(report, sort_keys=True))
""")

COMMANDS = {
    "run": ["run", "-o", "out.prof"],
    "lines": ["lines"],
    "memory": ["memory"],
    "heap": ["heap"],
    "mprof run": ["mprof", "run", "-o", "out.dat"],
    "time": ["time", "-n", "1", "-r", "1"],
}

FORMS = {
    "script": ["observe.py"],
    "module": ["-m", "observe"],
    "code": ["-c", OBSERVE],
}


def report_of(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith("MAIN ")]
    assert lines, stdout
    return json.loads(lines[0][len("MAIN "):])


@pytest.fixture
def program_dir(tmp_path):
    (tmp_path / "observe.py").write_text(OBSERVE)
    return tmp_path


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_main_is_what_python_gives(command, form, program_dir):
    args = FORMS[form]
    plain = subprocess.run([sys.executable, *args], cwd=program_dir,
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0, plain.stderr
    expected = report_of(plain.stdout)
    # The oracle really has the annotation (the test cannot pass on a
    # program whose annotations were lost both ways).
    assert expected["annotations"] == {"x": "int"}
    got = subprocess.run([sys.executable, "-m", "pyprof", *COMMANDS[command],
                          *args], cwd=program_dir, capture_output=True,
                         text=True, timeout=300)
    assert got.returncode == 0, got.stderr
    assert report_of(got.stdout) == expected
