"""pyprof.memory_profile, the decorator in code, against
memory_profiler.profile on the same function (same rows, occurrences and
increments), plus the allocation columns."""
import io
import re

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


def test_decorator_prints_table_per_call():
    memory_profiler = pytest.importorskip("memory_profiler")
    ours_out, theirs_out = io.StringIO(), io.StringIO()
    ours = pyprof.memory_profile(stream=ours_out, precision=3)(work)
    theirs = memory_profiler.profile(work, stream=theirs_out, precision=3)
    assert ours() == theirs() == [1] * 1000
    assert ours.__name__ == "work" and ours.__wrapped__ is work
    ours_rows, their_rows = rows(ours_out.getvalue()), rows(theirs_out.getvalue())
    assert sorted(ours_rows) == sorted(their_rows)
    first = work.__code__.co_firstlineno
    for n in ours_rows:
        assert ours_rows[n][2] == their_rows[n][2]         # occurrences
    made = ours_rows[first + 1]
    assert abs(float(made[1]) - float(their_rows[first + 1][1])) < 2
    assert abs(float(made[3]) - 12.0) < 0.01                # allocated MiB
    assert float(made[4]) == 0.0                            # freed by del
    kept = ours_rows[first + 2]
    assert float(kept[4]) > 0.0                             # b is returned
    # A second call prints a second table.
    ours()
    assert ours_out.getvalue().count("Filename:") == 2


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
