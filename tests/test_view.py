"""pyprof view: the HTML report and the flame graph SVG, rendered in
headless Chromium and checked through the DOM, with pstats' reading of the
same profile as the oracle for what must be on screen."""
import json
import os
import pstats
import subprocess
import sys

import pytest

from conftest import ROOT, make_report, needs_chromium, run_pyprof

websocket = pytest.importorskip("websocket")

PROGRAM = """
def leaf(n):
    s = 0
    for i in range(n):
        s += i
    return s

def heavy():
    for _ in range(30):
        leaf(20000)

def light():
    for _ in range(10):
        leaf(20000)

def evil():
    return leaf(20000)

def evil_img():
    return leaf(20000)

evil.__code__ = evil.__code__.replace(co_name="<script>window.__pwned=1;alert(1)</script>")
evil_img.__code__ = evil_img.__code__.replace(
    co_name='<img src=x onerror="window.__pwned=2">')

def main():
    heavy()
    light()
    evil()
    evil_img()

main()
"""


@pytest.fixture(scope="module")
def profiled(tmp_path_factory):
    d = tmp_path_factory.mktemp("view")
    made = make_report(d, PROGRAM)
    made.update({"dir": d, "stats": pstats.Stats(made["pstats"])})
    return made


RECT_NAMES = """Array.prototype.map.call(
    document.querySelectorAll('#icicle rect.node'),
    function (r) { return [r.getAttribute('data-node'),
                           r.getAttribute('aria-label'),
                           Number(r.getAttribute('width'))]; })"""


def visible_functions(st, min_fraction):
    total = max(v[3] for v in st.stats.values())
    return {k[2] for k, v in st.stats.items() if v[3] >= total * min_fraction}


@needs_chromium
def test_icicle_has_a_rectangle_per_visible_function(browser, profiled):
    browser.open(profiled["html"])
    assert browser.js("document.body.getAttribute('data-ready')") == "1"
    browser.screenshot(os.path.join(profiled["dir"], "icicle.png"))
    rects = browser.js(RECT_NAMES)
    width = browser.js("document.getElementById('icicle')"
                       ".getAttribute('width')")
    # Every function with at least 2% of the run is wide enough to see:
    # each must have its own rectangle, labelled with its name (first row
    # is "all").  Names come from pstats reading the same file.
    shown = {text.split(" (")[0] for _, text, w in rects}
    for name in visible_functions(profiled["stats"], 0.02):
        assert any(text.startswith(name) for _, text, _ in rects) or \
            name in shown, (name, shown)
    # One rectangle per call path: leaf appears under heavy, light, evil
    # and evil_img, four distinct paths.
    leaf_rects = [r for r in rects if r[1].startswith("leaf")]
    assert len(leaf_rects) == 4
    heavy = next(r for r in rects if r[1].startswith("heavy"))
    light = next(r for r in rects if r[1].startswith("light"))
    # Widths are proportional to cumtime (heavy and light each have one
    # call path, so their path time is pstats' cumtime).
    ct = {k[2]: v[3] for k, v in profiled["stats"].stats.items()}
    assert heavy[2] / light[2] == pytest.approx(ct["heavy"] / ct["light"],
                                                rel=0.05)
    assert rects[0][1] == "all" and rects[0][2] >= float(width) - 1


@needs_chromium
def test_click_zooms_and_breadcrumb_goes_back(browser, profiled):
    browser.open(profiled["html"])
    node = browser.js("(function(){var r=Array.prototype.find.call("
                      "document.querySelectorAll('#icicle rect.node'),"
                      "function(r){return r.getAttribute('aria-label')"
                      ".indexOf('light')===0;});"
                      "return r.getAttribute('data-node');})()")
    browser.click('#icicle rect[data-node="%s"]' % node)
    rects = browser.js(RECT_NAMES)
    width = float(browser.js("document.getElementById('icicle')"
                             ".getAttribute('width')"))
    zoomed = next(r for r in rects if r[0] == node)
    assert zoomed[2] >= width - 2          # light now fills the width
    assert not any(r[1].startswith("heavy") for r in rects)
    crumbs = browser.js("Array.prototype.map.call(document.querySelectorAll("
                        "'#breadcrumb a'), function(a){return a.textContent})")
    assert crumbs == ["all", "<module>", "main", "light"]
    # Selecting light filled in its callers and callees.
    assert browser.js("document.getElementById('selected-name')"
                      ".textContent").startswith("light")
    callees = browser.js("document.querySelector('#callees tbody')"
                         ".textContent")
    assert "leaf" in callees
    browser.screenshot(os.path.join(profiled["dir"], "zoomed.png"))
    browser.click('#breadcrumb a[data-node="0"]')
    rects = browser.js(RECT_NAMES)
    assert any(r[1].startswith("heavy") for r in rects)


@needs_chromium
def test_sunburst_draws_the_paths(browser, profiled):
    browser.open(profiled["html"])
    browser.click("#show-sunburst")
    arcs = browser.js("document.querySelectorAll('#sunburst path.node')"
                      ".length")
    # <module>, main, heavy, light, evil x2 and four leaf paths at least.
    assert arcs >= 9
    browser.screenshot(os.path.join(profiled["dir"], "sunburst.png"))


def table_rows(browser):
    return browser.js("Array.prototype.map.call(document.querySelectorAll("
                      "'#stats tbody tr'), function(tr){return "
                      "Array.prototype.map.call(tr.cells, function(td)"
                      "{return td.textContent;});})")


@needs_chromium
def test_table_sorts_and_filters(browser, profiled):
    browser.open(profiled["html"])
    st = profiled["stats"]
    assert len(table_rows(browser)) == len(st.stats)
    browser.click('#stats th[data-key="tt"]')
    rows = table_rows(browser)
    tts = [float(r[1]) for r in rows]
    assert tts == sorted(tts, reverse=True)
    top = max(st.stats.items(), key=lambda kv: kv[1][2])[0]
    assert rows[0][5].endswith("(%s)" % top[2])
    browser.click('#stats th[data-key="tt"]')   # again: ascending
    tts = [float(r[1]) for r in table_rows(browser)]
    assert tts == sorted(tts)
    browser.click('#stats th[data-key="nc"]')
    calls = [int(r[0].split("/")[0]) for r in table_rows(browser)]
    assert calls == sorted(calls, reverse=True)
    assert calls[0] == max(v[1] for v in st.stats.values())
    browser.js("(function(){var f=document.getElementById('filter');"
               "f.value='leaf';f.dispatchEvent(new Event('input'));})()")
    rows = table_rows(browser)
    assert len(rows) == 1 and rows[0][5].endswith("(leaf)")
    assert rows[0][0] == str(sum(v[1] for k, v in st.stats.items()
                                 if k[2] == "leaf"))


@needs_chromium
def test_crafted_names_show_as_text(browser, profiled):
    browser.open(profiled["html"])
    browser.js("(function(){var f=document.getElementById('filter');"
               "f.value='';f.dispatchEvent(new Event('input'));})()")
    cells = browser.js("Array.prototype.map.call(document.querySelectorAll("
                       "'#stats tbody td:last-child'), function(td)"
                       "{return td.textContent;})")
    assert any("<script>window.__pwned=1;alert(1)</script>" in c
               for c in cells)
    assert any('<img src=x onerror="window.__pwned=2">' in c for c in cells)
    labels = [r[1] for r in browser.js(RECT_NAMES)]
    assert any(l.startswith("<script>") or l.startswith("<scri")
               for l in labels)
    assert browser.js("document.querySelectorAll('img').length") == 0
    assert browser.js("typeof window.__pwned") == "undefined"
    assert browser.dialogs() == []
    html = open(profiled["html"], encoding="utf-8").read()
    assert "<script>window.__pwned" not in html
    assert "<img src=x" not in html


@needs_chromium
def test_flamegraph_svg_hover_and_zoom(browser, profiled):
    browser.open(profiled["svg"])
    browser.screenshot(os.path.join(profiled["dir"], "flamegraph.png"))
    frames = browser.js("Array.prototype.map.call(document.querySelectorAll("
                        "'.frame'), function(g){return [g.querySelector("
                        "'title').textContent.split('\\n')[0], Number(g."
                        "querySelector('rect').getAttribute('width'))];})")
    names = [f[0].split(" (")[0] for f in frames]
    assert names[0] == "all"
    assert names.count("leaf") == 4
    for name in ("<module>", "main", "heavy", "light",
                 "<script>window.__pwned=1;alert(1)</script>"):
        assert name in names
    assert browser.js("typeof window.__pwned") == "undefined"
    assert browser.dialogs() == []
    index = names.index("light")
    browser.click(".frame:nth-of-type(%d) rect" % (index + 1))
    widths = browser.js("Array.prototype.map.call(document.querySelectorAll("
                        "'.frame'), function(g){return g.classList.contains("
                        "'hide') ? -1 : Number(g.querySelector('rect')"
                        ".getAttribute('width'));})")
    assert widths[index] > 1170             # light fills the width
    assert widths[names.index("heavy")] == -1   # its sibling hides
    assert widths[0] > 1170                 # its ancestors stay
    assert browser.js("document.getElementById('details').textContent")
    browser.click("#unzoom")
    assert browser.js("document.querySelectorAll('.frame.hide').length") == 0


@needs_chromium
def test_cprofile_file_is_reconstructed_and_says_so(browser, tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(PROGRAM)
    prof = tmp_path / "cp.pstats"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof),
                    str(script)], check=True, capture_output=True)
    r = run_pyprof("view", str(prof))
    assert r.returncode == 0, r.stderr
    assert "reconstructed from caller/callee pairs" in r.stderr
    html = tmp_path / "cp.html"
    assert html.exists()
    browser.open(str(html))
    assert "reconstructed" in browser.js(
        "document.getElementById('provenance').textContent")
    assert len(browser.js(RECT_NAMES)) >= 6


@needs_chromium
def test_big_profile_stays_usable(browser, tmp_path):
    """100,000 functions: the page shows what is big enough to see and
    aggregates the rest into its callers."""
    import marshal
    n = 100_000
    stats = {}
    root = ("big.py", 1, "root")
    stats[root] = (1, 1, 0.001, 100.0, {})
    for i in range(n - 1):
        key = ("big.py", i + 2, "f%d" % i)
        t = 0.5 if i < 50 else 99.0 / (n - 51) * 0.5
        stats[key] = (1, 1, t, t, {root: (1, 1, t, t)})
    prof = tmp_path / "big.pstats"
    prof.write_bytes(marshal.dumps(stats))
    html = tmp_path / "big.html"
    r = run_pyprof("view", str(prof), "-o", str(html))
    assert r.returncode == 0, r.stderr
    browser.open(str(html))
    assert browser.js("document.body.getAttribute('data-ready')") == "1"
    rects = browser.js("document.querySelectorAll('#icicle rect').length")
    assert 50 <= rects < 2000
    assert browser.js("document.querySelectorAll('#stats tbody tr')"
                      ".length") == 300
    assert "of 100000 functions" in browser.js(
        "document.getElementById('table-count').textContent")


def test_view_bad_input(tmp_path):
    r = run_pyprof("view", str(tmp_path / "nope.pstats"))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    junk = tmp_path / "junk.pstats"
    junk.write_bytes(b"\x00\x01garbage")
    r = run_pyprof("view", str(junk), "-o", str(tmp_path / "j.html"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "j.html").exists()
    assert run_pyprof("view").returncode == 2
    assert run_pyprof("view", "--bogus", str(junk)).returncode == 2
    r = run_pyprof("view", "a.pstats", "b.pstats")
    assert r.returncode == 2


def test_report_is_self_contained(profiled):
    html = open(profiled["html"], encoding="utf-8").read()
    # No network: no external scripts, styles, images or fonts.
    for needle in ("src=\"http", "href=\"http", "url(http", "@import",
                   "<link"):
        assert needle not in html
    assert "default-src 'none'" in html
    data = html.split('id="profile-data">', 1)[1].split("</script>", 1)[0]
    doc = json.loads(data)
    st = profiled["stats"]
    assert doc["exact"] is True
    assert len(doc["funcs"]["name"]) == len(st.stats)
    assert doc["totalTT"] == pytest.approx(st.total_tt)


def test_flamegraph_is_well_formed_xml_with_names_as_text(profiled):
    import xml.etree.ElementTree as ET
    root = ET.parse(profiled["svg"]).getroot()   # an XML parser's verdict
    ns = "{http://www.w3.org/2000/svg}"
    titles = [t.text.split("\n")[0] for t in root.iter(ns + "title")]
    assert "<script>window.__pwned=1;alert(1)</script> (%s:16)" % \
        profiled["pstats"].replace("prog.pstats", "prog.py") in titles
    # Nothing but our one script element: the crafted name is text.
    assert len(list(root.iter(ns + "script"))) == 1
    assert not list(root.iter(ns + "img")) and not list(root.iter("img"))
