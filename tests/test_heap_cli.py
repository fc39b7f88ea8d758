"""`pyprof heap` end to end: growth per @profile call, the census at exit,
exit codes and bad input.  The expected counts are what the program
itself made; the census at exit is checked against objgraph run inside
the same program at its end."""
import re
import textwrap

import pytest

from conftest import run_pyprof

PROGRAM = textwrap.dedent("""
    import sys
    import objgraph

    class Leaf:
        pass

    cache = []

    @profile
    def grow(n):
        cache.extend(Leaf() for _ in range(n))
        return len(cache)

    class Shop:
        @profile
        def scratch(self):
            tmp = [Leaf() for _ in range(50)]
            return len(tmp)

    assert grow(120) == 120
    assert grow(7) == 127
    assert Shop().scratch() == 50
    assert grow.__name__ == "grow"
    print("leaves", objgraph.count("Leaf"), flush=True)
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
""")


def table(out, title):
    """The rows after `== title`, as {type: [numbers...]}."""
    block = out.split("== " + title + "\n", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in block.splitlines()[1:]:
        if line.startswith("=="):
            break
        name, *numbers = line.split()
        rows[name] = [int(n) for n in numbers[:4]]
    return rows


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "leaky.py"
    path.write_text(PROGRAM)
    return path


def test_growth_per_call_and_census_at_exit(script):
    result = run_pyprof("heap", "--limit", "5", str(script))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "leaves 127" in out
    first = table(out, "heap growth in grow, call 1")
    assert first["Leaf"][:3] == [0, 120, 120]
    leaf_size = first["Leaf"][3] // 120
    assert leaf_size > 0 and first["Leaf"][3] == 120 * leaf_size
    second = table(out, "heap growth in grow, call 2")
    assert second["Leaf"] == [120, 127, 7, 7 * leaf_size]
    # The method's scratch list died with the call: nothing grew.
    assert "== heap growth in Shop.scratch: 1 of 1 call: no type grew\n" \
        in out
    assert "Shop.scratch, call" not in out
    census = re.search(r"== heap at exit: 5 of \d+ types .*\n(.*\n){6}",
                       out)
    assert census, out
    assert len(census.group(0).splitlines()) == 7


GROWTH_VS_OBJGRAPH = textwrap.dedent("""
    import sys

    class Leaf:
        pass

    kept = []

    def keep_some(n):
        kept.extend(Leaf() for _ in range(n))
        kept.append({"n": n})          # a dict, tracked from 3.14 only
        kept.append([n])

    def nothing_kept():
        tmp = [Leaf() for _ in range(30)]
        return len(tmp)

    if sys.argv[1] == "objgraph":
        import objgraph

        def measure(f, *args):
            # A fresh peak per call: growth() is then after minus before.
            peak = {}
            objgraph.growth(limit=None, peak_stats=peak)
            f(*args)
            grown = objgraph.growth(limit=None, peak_stats=peak)
            print("objgraph", f.__name__,
                  sorted((name, delta) for name, _, delta in grown))

        measure(keep_some, 40)
        measure(nothing_kept)
        measure(keep_some, 3)
    else:
        keep_some = profile(keep_some)
        nothing_kept = profile(nothing_kept)
        keep_some(40)
        nothing_kept()
        keep_some(3)
""")


def test_growth_per_call_is_objgraphs(tmp_path):
    """Each call's growth is what objgraph.growth() reports around the same
    call in plain python (with a fresh peak per call, objgraph's growth is
    the after-minus-before delta pyprof heap reports).  The census's
    own objects never show: on 3.14, where every dict is tracked, the
    "before" census's result dicts once showed as `dict +2` per call."""
    import subprocess
    import sys
    path = tmp_path / "growth.py"
    path.write_text(GROWTH_VS_OBJGRAPH)
    plain = subprocess.run([sys.executable, str(path), "objgraph"],
                           capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    expected = [eval(line.split(" ", 2)[2])
                for line in plain.stdout.splitlines()]
    assert expected[1] == [] and ("Leaf", 40) in expected[0]
    result = run_pyprof("heap", "--limit", "1000", str(path), "pyprof")
    assert result.returncode == 0, result.stderr
    got = []
    for title in ["keep_some, call 1", "nothing_kept, call 1",
                  "keep_some, call 2"]:
        # a call where nothing grew has no table, only its function's
        # count: "== heap growth in f: 1 of 1 call: no type grew"
        if "== heap growth in " + title + "\n" not in result.stdout:
            function = title.split(",")[0]
            assert re.search(r"^== heap growth in %s: \d+ of \d+ calls?: "
                             r"no type grew$" % function, result.stdout,
                             re.M), result.stdout
            got.append([])
        else:
            rows = table(result.stdout, "heap growth in " + title)
            got.append(sorted((name, numbers[2])
                              for name, numbers in rows.items()))
    assert got == expected


def test_census_at_exit_counts_the_program_leftovers(script):
    result = run_pyprof("heap", "--limit", "1000", str(script))
    exit_rows = result.stdout.split("== heap at exit", 1)[1]
    leaf = re.search(r"^Leaf +(\d+) +(\d+)$", exit_rows, re.M)
    assert leaf and int(leaf.group(1)) == 127


def test_exit_status_is_the_programs(script):
    result = run_pyprof("heap", str(script), "3")
    assert result.returncode == 3
    assert "== heap growth in grow, call 1" in result.stdout


def test_bad_input(script, tmp_path):
    assert run_pyprof("heap").returncode == 2
    bad = run_pyprof("heap", "--limit", "0", str(script))
    assert bad.returncode == 2 and "--limit" in bad.stderr
    unknown = run_pyprof("heap", "--bogus", str(script))
    assert unknown.returncode == 2 and "--bogus" in unknown.stderr
    missing = run_pyprof("heap", str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and "nope.py" in missing.stderr
    assert "Traceback" not in missing.stderr
    helped = run_pyprof("heap", "--help")
    assert helped.returncode == 0 and "--trace-allocations" in helped.stdout


def test_a_crashing_program_still_gets_its_report(tmp_path):
    path = tmp_path / "crash.py"
    path.write_text("class Big: pass\nkeep = [Big() for _ in range(40)]\n"
                    "@profile\ndef f():\n    keep.append(Big())\n"
                    "    raise ValueError('boom')\nf()\n")
    result = run_pyprof("heap", str(path))
    assert result.returncode == 1
    assert "ValueError: boom" in result.stderr
    assert table(result.stdout, "heap growth in f, call 1")["Big"][:3] == \
        [40, 41, 1]


def test_trace_allocations_names_the_line(script):
    result = run_pyprof("heap", "--trace-allocations", str(script))
    if result.returncode == 2 and "lacks" in result.stderr:
        pytest.skip("this build has no allocation tracker (memory feature)")
    assert result.returncode == 0, result.stderr
    line = [l for l in result.stdout.splitlines() if l.startswith("Leaf")][0]
    assert re.search(r"leaky\.py:12 \(120 of 120 new\)", line), line


LOOP = textwrap.dedent("""
    class Leak:
        pass

    kept = []

    @profile
    def handle(i):
        scratch = [dict(i=i) for _ in range(3)]
        if i % 100 == 99:
            kept.append(Leak())
        return None

    for i in range(N):
        handle(i)
""")


def test_calls_where_nothing_grew_are_one_line(tmp_path):
    """A 300-call loop that leaks on 3 calls: three tables, one line for
    the other 297, and where the time went; no section per quiet call."""
    path = tmp_path / "loop.py"
    path.write_text("N = 300\n" + LOOP)
    result = run_pyprof("heap", str(path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    grown = re.findall(r"^== heap growth in handle, call (\d+)$", out, re.M)
    assert grown == ["100", "200", "300"]
    for call in grown:
        assert table(out, "heap growth in handle, call " + call)["Leak"][2] \
            == 1
    assert "== heap growth in handle: 297 of 300 calls: no type grew\n" in out
    spent = re.search(r"^== time: the program ([\d.]+) s; measuring its 300 "
                      r"calls ([\d.]+) s \(full collections ([\d.]+) s, "
                      r"censuses ([\d.]+) s", out, re.M)
    assert spent, out
    measuring, collecting, counting = map(float, spent.groups()[1:])
    assert abs(collecting + counting - measuring) <= 0.002
    assert len(out.splitlines()) < 40


def test_quiet_calls_leave_nothing_of_pyprofs_on_the_heap(tmp_path):
    """pyprof's record of a call where nothing grew is a count, not an
    object per call: the lists at exit do not grow with the calls."""
    def lists_at_exit(n):
        path = tmp_path / ("loop%d.py" % n)
        path.write_text("N = %d\n" % n + LOOP)
        out = run_pyprof("heap", "--limit", "1000", str(path)).stdout
        row = re.search(r"^list +(\d+) ", out.split("== heap at exit")[1],
                        re.M)
        return int(row.group(1))
    # 200 more quiet calls, 2 more calls that grew (a table each)
    assert lists_at_exit(300) - lists_at_exit(100) <= 4
