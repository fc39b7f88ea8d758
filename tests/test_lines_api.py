"""pyprof.LineProfiler's line_profiler API beyond add_function (#13.17):
add_module, add_class, timer_unit, and get_stats() giving what
line_profiler.show_text takes; the oracle is line_profiler itself."""
import io
import sys
import textwrap
import types

import pytest

import pyprof

line_profiler = pytest.importorskip("line_profiler")

SOURCE = textwrap.dedent("""\
    import os
    from os.path import join


    def top(n):
        return sum(range(n))


    class Shape:
        def area(self):
            return 1

        @staticmethod
        def unit():
            return 2

        @classmethod
        def make(cls):
            return cls()

        @property
        def size(self):
            return 3

        class Inner:
            def deep(self):
                return 4


    lam = lambda x: x + 1
    """)


def fresh_module(name, tmp_path):
    path = tmp_path / (name + ".py")
    path.write_text(SOURCE)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    exec(compile(SOURCE, str(path), "exec"), module.__dict__)
    sys.modules[name] = module
    return module


def names(codes):
    return sorted(getattr(f, "__code__", f).co_name for f in codes)


def test_add_module_and_add_class_select_what_line_profiler_selects(
        tmp_path):
    module = fresh_module("lp_api_mod", tmp_path)
    theirs, ours = line_profiler.LineProfiler(), pyprof.LineProfiler()
    assert ours.add_module(module) == theirs.add_module(module)
    assert names(ours.functions) == names(theirs.functions)
    assert "join" not in names(ours.functions)   # not defined there
    theirs, ours = line_profiler.LineProfiler(), pyprof.LineProfiler()
    assert ours.add_class(module.Shape) == theirs.add_class(module.Shape)
    assert names(ours.functions) == names(theirs.functions)


def test_timer_unit_and_get_stats_feed_line_profilers_show_text(tmp_path):
    module = fresh_module("lp_api_mod2", tmp_path)
    ours = pyprof.LineProfiler(module.top)
    assert ours.timer_unit == line_profiler.LineProfiler().timer_unit
    with ours:
        module.top(10)
        module.top(20)
    stats = ours.get_stats()
    assert stats.unit == ours.timer_unit
    [(key, entries)] = stats.timings.items()
    assert key[:2] == (str(tmp_path / "lp_api_mod2.py"), 5)
    assert [(line, hits) for line, hits, _ in entries] == [(6, 2)]
    assert all(isinstance(t, int) and t > 0 for _, _, t in entries)
    out = io.StringIO()
    line_profiler.show_text(stats.timings, stats.unit, stream=out)
    assert "return sum(range(n))" in out.getvalue()
    assert "Total time:" in out.getvalue()
