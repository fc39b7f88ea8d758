"""--function names resolved as Python resolves them (#11, #13.2): a name a
package re-exports from another module, a qualified name of the program's
own class, a function behind functools.wraps; the oracle is kernprof -l -p
on the same program (and a settrace count where kernprof cannot name it)."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import run_pyprof

KERNPROF = os.path.join(os.path.dirname(sys.executable), "kernprof")

IMPL = textwrap.dedent("""\
    import functools


    class Thing:
        def run(self, n):
            total = 0
            for i in range(n):
                total += i
            return total


    def deco(f):
        @functools.wraps(f)
        def wrapper(*a, **k):
            return f(*a, **k)
        return wrapper


    @deco
    def wrapped(n):
        s = 0
        for i in range(n):
            s += i
        return s
    """)

PROGRAM = textwrap.dedent("""\
    import asyncio
    import pkg


    class K:
        def meth(self, n):
            out = []
            for i in range(n):
                out.append(i)
            return len(out)


    async def main():
        q = asyncio.Queue()
        for i in range(5):
            q.put_nowait(i)
        for i in range(5):
            await q.get()

    pkg.Thing().run(10)
    pkg.wrapped(4)
    K().meth(6)
    asyncio.run(main())
    """)


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(
        "from pkg._impl import Thing, wrapped\n")
    (tmp_path / "pkg" / "_impl.py").write_text(IMPL)
    (tmp_path / "prog.py").write_text(PROGRAM)
    return tmp_path


def tables(out):
    """{function's first line: {lineno: hits}} of line_profiler's text."""
    result, current = {}, None
    for line in out.splitlines():
        m = re.match(r"^Function: .* at line (\d+)", line)
        if m:
            current = result.setdefault(int(m.group(1)), {})
        m = re.match(r"^\s+(\d+)\s+(\d+)\s+[\d.e+-]+\s+[\d.e+-]+\s+[\d.]+ ",
                     line)
        if m and current is not None:
            current[int(m.group(1))] = int(m.group(2))
    return result


def kernprof(tree, *names):
    if not os.path.exists(KERNPROF):
        pytest.skip("no kernprof")
    args = [KERNPROF, "-l", "-v"]
    for name in names:
        args += ["-p", name]
    proc = subprocess.run(args + ["prog.py"], cwd=tree, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return tables(proc.stdout)


@pytest.mark.parametrize("name,first_line", [("pkg.Thing.run", 5),
                                             ("asyncio.Queue.get", None)])
def test_a_re_exported_name_is_profiled(tree, name, first_line):
    theirs = kernprof(tree, name)
    proc = run_pyprof("lines", "--function", name, "prog.py", cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    ours = tables(proc.stdout)
    assert ours == theirs
    assert len(ours) == 1 and sum(next(iter(ours.values())).values()) > 0
    if first_line is not None:
        assert ours[first_line] == {6: 1, 7: 11, 8: 10, 9: 1}


def test_a_re_exported_name_under_memory(tree):
    proc = run_pyprof("memory", "--function", "pkg.Thing.run", "prog.py",
                      cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert "no function matched" not in proc.stderr
    occurrences = {int(m.group(1)): int(m.group(2)) for m in re.finditer(
        r"^\s+(\d+)\s+[\d.]+ MiB\s+-?[\d.]+ MiB\s+(\d+)", proc.stdout, re.M)}
    assert occurrences == {5: 1, 6: 1, 7: 11, 8: 10, 9: 1}


@pytest.mark.parametrize("name", ["K.meth", "__main__.K.meth", "meth",
                                  "prog.K.meth"])
def test_a_qualified_name_in_the_program(tree, name):
    proc = run_pyprof("lines", "--function", name, "prog.py", cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    # settrace's count of K.meth's lines: 1, n + 1, n, 1 with n = 6
    assert tables(proc.stdout) == {6: {7: 1, 8: 7, 9: 6, 10: 1}}


def test_a_wrapped_function_is_profiled_through_its_wrapper(tree):
    """functools.wraps: the name is the wrapper, the body the user wrote is
    the wrapped function's (kernprof profiles the wrapper and warns)."""
    proc = run_pyprof("lines", "--function", "pkg.wrapped", "prog.py",
                      cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert tables(proc.stdout) == {19: {21: 1, 22: 5, 23: 4, 24: 1}}


def test_a_name_that_resolves_to_nothing_is_warned_about_once(tree):
    proc = run_pyprof("lines", "--function", "pkg.Nothing.run",
                      "--function", "pkg.Thing.run", "prog.py", cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("pkg.Nothing.run") == 1, proc.stderr
    assert "pkg.Thing.run" not in proc.stderr
    mem = run_pyprof("memory", "--function", "pkg.Nothing.run", "prog.py",
                     cwd=tree)
    assert mem.stderr.count("pkg.Nothing.run") == 1, mem.stderr
