"""pyprof view of a line profile (pyprof lines -o FILE.json): each
function's source with a heat bar per line, checked in headless Chromium
against what Python's own semantics say the hit counts are."""
import json
import os

import pytest

from conftest import needs_chromium, run_pyprof

PROGRAM = '''\
def work(n):
    total = 0
    for i in range(n):
        total += i * i
    label = "<script>window.__pwned=3</script>"
    return total, label

for _ in range(3):
    work(20000)
'''


@pytest.fixture(scope="module")
def line_profile(tmp_path_factory):
    d = tmp_path_factory.mktemp("view_lines")
    script = d / "prog.py"
    script.write_text(PROGRAM)
    data = d / "prog.json"
    r = run_pyprof("lines", "--function", "work", "-o", str(data),
                   str(script))
    assert r.returncode == 0, r.stderr
    html = d / "prog.lines.html"
    r = run_pyprof("view", str(data))
    assert r.returncode == 0, r.stderr
    assert html.exists()
    return {"dir": d, "json": str(data), "html": str(html)}


def rows(browser):
    return browser.js(
        "Array.prototype.map.call(document.querySelectorAll('tr[data-line]'),"
        " function(tr){return [Number(tr.getAttribute('data-line')),"
        " tr.querySelector('.hits').textContent,"
        " Number(tr.querySelector('.bar').getAttribute('data-width')),"
        " tr.querySelector('.code').textContent];})")


@needs_chromium
def test_source_with_heat_bars(browser, line_profile):
    browser.open(line_profile["html"])
    assert browser.js("document.body.getAttribute('data-ready')") == "1"
    browser.screenshot(os.path.join(line_profile["dir"], "lines.png"))
    got = {r[0]: r for r in rows(browser)}
    # The oracle is Python: work() runs 3 times, its loop body 3 * 20000
    # times, the loop header once more per call than the body.
    assert got[2][1] == "3"
    assert got[3][1] == str(3 * 20001)
    assert got[4][1] == str(3 * 20000)
    assert got[6][1] == "3"
    assert got[4][3] == "        total += i * i"
    assert got[1][3] == "def work(n):"
    # The loop is where the time goes: its lines carry the longest bars,
    # and the longest bar is full width.
    widths = {no: r[2] for no, r in got.items()}
    assert max(widths.values()) == 150
    assert max(widths, key=widths.get) in (3, 4)
    assert widths[4] > widths[2] and widths[4] > widths[6]
    # The numbers are the file's.
    doc = json.load(open(line_profile["json"]))
    hits = {l["line"]: l["hits"] for l in doc["functions"][0]["lines"]}
    for no, r in got.items():
        assert r[1] == (str(hits[no]) if hits[no] else "")


@needs_chromium
def test_source_text_is_not_markup(browser, line_profile):
    browser.open(line_profile["html"])
    code = [r[3] for r in rows(browser)]
    assert '    label = "<script>window.__pwned=3</script>"' in code
    assert browser.js("typeof window.__pwned") == "undefined"
    assert browser.dialogs() == []
    html = open(line_profile["html"], encoding="utf-8").read()
    assert "<script>window.__pwned" not in html


def test_line_profile_bad_input(tmp_path, line_profile):
    bad = tmp_path / "bad.json"
    bad.write_text('{"functions": [{"file": "x.py"}]}')
    r = run_pyprof("view", str(bad))
    assert r.returncode == 2
    assert "not a pyprof line profile" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    broken = tmp_path / "broken.json"
    broken.write_text('{"functions": [')
    r = run_pyprof("view", str(broken))
    assert r.returncode == 2 and "not valid JSON" in r.stderr
    assert not (tmp_path / "broken.html").exists()
    r = run_pyprof("view", line_profile["json"], "--flamegraph",
                   str(tmp_path / "x.svg"))
    assert r.returncode == 2 and "line profile" in r.stderr


MEMORY_PROGRAM = '''\
def build(n):
    keep = [bytearray(1000) for _ in range(n)]
    temp = [0] * (n * 50)
    label = "<script>window.__pwned=4</script>"
    del temp
    return keep, label

kept = build(2000)
'''


@pytest.fixture(scope="module")
def memory_profile(tmp_path_factory):
    d = tmp_path_factory.mktemp("view_memory")
    script = d / "mem.py"
    script.write_text(MEMORY_PROGRAM)
    data = d / "mem.json"
    r = run_pyprof("memory", "--function", "build", "-o", str(data),
                   str(script))
    assert r.returncode == 0, r.stderr
    r = run_pyprof("view", str(data))
    assert r.returncode == 0, r.stderr
    return {"dir": d, "json": str(data), "html": str(d / "mem.memory.html")}


def memory_rows(browser):
    return browser.js(
        "Array.prototype.map.call(document.querySelectorAll('tr[data-line]'),"
        " function(tr){return [Number(tr.getAttribute('data-line')),"
        " tr.querySelector('.occurrences').textContent,"
        " tr.querySelector('.allocated').textContent,"
        " Number(tr.querySelector('.bar').getAttribute('data-width')),"
        " tr.querySelector('.code').textContent];})")


@needs_chromium
def test_memory_profile_page(browser, memory_profile):
    """pyprof view of `pyprof memory -o F.json`: every line of the
    function with the file's numbers, the longest allocation bar on the
    line that allocated most, source text shown as text."""
    browser.open(memory_profile["html"])
    assert browser.js("document.body.getAttribute('data-ready')") == "1"
    browser.screenshot(os.path.join(memory_profile["dir"], "mem.png"))
    got = {r[0]: r for r in memory_rows(browser)}
    doc = json.load(open(memory_profile["json"]))
    lines = {l["lineno"]: l for l in doc["functions"][0]["lines"]}
    assert sorted(got) == sorted(lines) == [1, 2, 3, 4, 5, 6]
    for no, r in got.items():
        assert r[1] == (str(lines[no]["occurrences"])
                        if lines[no]["occurrences"] else "")
    # Line 3 allocates n * 50 * 8 = 800,000 bytes of list (tracemalloc
    # agrees, see test_memory_alloc); line 2, 2000 bytearrays.
    assert abs(lines[3]["allocated_bytes"] - 800_000) < 4096
    assert got[3][2] == "%.1f KiB" % (lines[3]["allocated_bytes"] / 1024)
    widths = {no: r[3] for no, r in got.items()}
    most = max(lines, key=lambda no: lines[no]["allocated_bytes"])
    assert widths[most] == 150
    for no in lines:
        assert widths[no] == int(0.5 + 150 * lines[no]["allocated_bytes"]
                                   / lines[most]["allocated_bytes"])
    code = [r[4] for r in got.values()]
    assert '    label = "<script>window.__pwned=4</script>"' in code
    assert browser.js("typeof window.__pwned") == "undefined"
    html = open(memory_profile["html"], encoding="utf-8").read()
    assert "<script>window.__pwned" not in html


def test_memory_profile_bad_input(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"unit": "MiB for memory, bytes for allocations", '
                   '"functions": [{"filename": "x.py", "name": "f", '
                   '"first_line": 1, "lines": [{"lineno": 1}]}]}')
    r = run_pyprof("view", str(bad))
    assert r.returncode == 2
    assert "not a pyprof memory profile" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad.html").exists()
