"""The HTML report and flame graph as a person reads them, in headless
Chromium (the DevTools harness of test_view.py), for issue #13's report
items: readable times in short profiles, a sunburst whose labels do not
overlap and a tooltip that stays on screen, search in the flame graph and
the icicle, import machinery folded away by default."""
import json
import marshal
import os
import pstats
import re

import pytest

from conftest import make_report, needs_chromium, run_pyprof

SHORT = """
def leaf():
    return 1

def middle():
    return leaf() + leaf()

def main():
    for _ in range(3):
        middle()

main()
"""

UNIT = {"s": 1.0, "ms": 1e-3, "\u00b5s": 1e-6, "ns": 1e-9}


@pytest.fixture(scope="module")
def short(tmp_path_factory):
    return make_report(tmp_path_factory.mktemp("short"), SHORT)


TABLE = """(function () {
  var heads = Array.prototype.map.call(
      document.querySelectorAll('#stats thead th'),
      function (th) { return th.textContent; });
  var rows = Array.prototype.map.call(
      document.querySelectorAll('#stats tbody tr'),
      function (tr) { return Array.prototype.map.call(
          tr.children, function (td) { return td.textContent; }); });
  return [heads, rows];
})()"""


def read_time(text, header):
    """(seconds, half a unit of the last digit shown) of one cell."""
    unit = re.search(r"\((\S+)\)$", header)
    factor = UNIT[unit.group(1)] if unit else 1.0
    value = float(text) * factor
    if "e" in text:             # "4.5e-7": two significant digits
        return value, abs(value) * 0.06
    decimals = len(text.split(".")[1]) if "." in text else 0
    return value, 0.5 * 10 ** -decimals * factor


@needs_chromium
def test_short_profile_times_are_readable(browser, short):
    """Every time pstats has as non-zero is shown as a non-zero number
    that rounds to pstats' own value: no column of 0.000s."""
    st = pstats.Stats(short["pstats"])
    expected = {}
    for func, (cc, nc, tt, ct, _) in st.stats.items():
        expected[pstats.func_std_string(func)] = (
            tt, tt / nc if nc else 0, ct, ct / cc if cc else 0)
    browser.open(short["html"])
    browser.screenshot(os.path.join(os.path.dirname(short["html"]),
                                    "short.png"))
    heads, rows = browser.js(TABLE)
    assert rows
    checked = 0
    for row in rows:
        want = next(v for k, v in expected.items() if row[5].endswith(k)
                    or k.endswith(row[5]))
        for column, value in zip((1, 2, 3, 4), want):
            shown, half_digit = read_time(row[column], heads[column])
            if value > 0:
                assert shown > 0, (row, heads)
                assert abs(shown - value) <= half_digit * 1.001 + 1e-12, \
                    (row[column], heads[column], value)
                checked += 1
            else:
                assert shown == 0, (row, heads)
    assert checked >= 8
    # the header says the unit of each time column
    assert all(re.search(r"\((s|ms|\u00b5s|ns)\)$", heads[k])
               for k in (1, 2, 3, 4)), heads


@needs_chromium
def test_short_profile_callers_and_tooltip_are_readable(browser, short):
    browser.open(short["html"])
    node = browser.js("""Array.prototype.find.call(
        document.querySelectorAll('#icicle rect.node'),
        function (r) { return r.getAttribute('aria-label')
                               .indexOf('middle') === 0; })
        .getAttribute('data-node')""")
    browser.click('#icicle rect[data-node="%s"]' % node)
    callees = browser.js("""Array.prototype.map.call(
        document.querySelectorAll('#callees tbody td'),
        function (td) { return td.textContent; })""")
    times = [t for k, t in enumerate(callees) if k % 4 in (1, 2)]
    assert times and all(float(t) > 0 for t in times), callees
    tip = browser.js("""(function () {
        var r = document.querySelector('#icicle rect[data-node="%s"]');
        var b = r.getBoundingClientRect();
        r.dispatchEvent(new MouseEvent('mousemove', {clientX: b.x + 2,
            clientY: b.y + 2, bubbles: true}));
        return document.getElementById('tooltip').textContent; })()""" % node)
    assert not re.search(r"\b0\.000\b", tip), tip
    assert re.search(r"cumtime: [0-9.]*[1-9][0-9.]* (s|ms|\u00b5s|ns)", tip)


CROWDED = """
def leaf_with_a_rather_long_name(n):
    s = 0
    for i in range(n):
        s += i
    return s

def first_helper_function():
    return leaf_with_a_rather_long_name(40000)

def second_helper_function():
    return leaf_with_a_rather_long_name(30000)

def third_helper_function():
    return leaf_with_a_rather_long_name(30000)

def fourth_helper_function():
    return leaf_with_a_rather_long_name(20000)

def main_entry_point_of_program():
    for _ in range(5):
        first_helper_function()
        second_helper_function()
        third_helper_function()
        fourth_helper_function()

main_entry_point_of_program()
"""


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    return make_report(tmp_path_factory.mktemp("crowded"), CROWDED)


LABEL_QUADS = """Array.prototype.map.call(
    document.querySelectorAll('#sunburst text'), function (t) {
        var b = t.getBBox(), m = t.getScreenCTM(), svg = t.ownerSVGElement;
        return [t.textContent].concat([[b.x, b.y], [b.x + b.width, b.y],
                [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]]
            .map(function (p) {
                var q = svg.createSVGPoint();
                q.x = p[0]; q.y = p[1];
                q = q.matrixTransform(m);
                return [q.x, q.y]; })); })"""


def quads_overlap(a, b, slack=0.5):
    """Whether two convex quadrilaterals (four corners each, in order)
    overlap by more than `slack` pixels: no edge direction of either
    separates their projections."""
    for quad in (a, b):
        for k in range(4):
            (x0, y0), (x1, y1) = quad[k], quad[(k + 1) % 4]
            nx, ny = y0 - y1, x1 - x0
            norm = (nx * nx + ny * ny) ** 0.5 or 1.0
            pa = [(x * nx + y * ny) / norm for x, y in a]
            pb = [(x * nx + y * ny) / norm for x, y in b]
            if min(max(pa), max(pb)) - max(min(pa), min(pb)) <= slack:
                return False
    return True


def assert_labels_apart(labels):
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not quads_overlap(a[1:], b[1:]), (a, b)


@needs_chromium
def test_sunburst_labels_do_not_overlap(browser, crowded):
    browser.open(crowded["html"])
    browser.click("#show-sunburst")
    browser.screenshot(os.path.join(os.path.dirname(crowded["html"]),
                                    "sunburst.png"))
    labels = browser.js(LABEL_QUADS)
    assert len(labels) >= 5, labels      # the centre and the big arcs
    assert_labels_apart(labels)
    # the labels still name the biggest arcs
    texts = [label[0] for label in labels]
    assert any(t.startswith("main_entry") for t in texts), texts


def narrow_profile(path):
    """A pstats file of 24 functions of exactly 4% each, each calling sum()
    for 90% of its time, under main() under <module>: written, not measured,
    so the arcs' widths do not move with the machine's load (a measured
    profile's shares did, and a leaf slowed by another process got the
    room its neighbours' labels needed)."""
    script = "/narrow/prog.py"
    module = (script, 1, "<module>")
    main = (script, 80, "main")
    total_sum = [0, 0, 0.0, 0.0]
    stats = {module: (1, 1, 0.0, 1.0, {}),
             main: (1, 1, 0.04, 1.0, {module: (1, 1, 0.04, 1.0)})}
    sum_callers = {}
    for k in range(24):
        leaf = (script, 2 + 3 * k, "leaf_function_number_%02d" % k)
        stats[leaf] = (4, 4, 0.004, 0.04, {main: (4, 4, 0.004, 0.04)})
        sum_callers[leaf] = (4, 4, 0.036, 0.036)
        total_sum = [a + b for a, b in zip(total_sum, (4, 4, 0.036, 0.036))]
    stats[("~", 0, "<built-in method builtins.sum>")] = (
        *total_sum, sum_callers)
    with open(path, "wb") as out:
        marshal.dump(stats, out)


@pytest.fixture(scope="module")
def narrow(tmp_path_factory):
    directory = tmp_path_factory.mktemp("narrow")
    prof = directory / "prog.pstats"
    narrow_profile(str(prof))
    html = directory / "prog.html"
    r = run_pyprof("view", str(prof), "-o", str(html))
    assert r.returncode == 0, r.stderr
    return {"pstats": str(prof), "html": str(html)}


@needs_chromium
def test_sunburst_labels_narrow_arcs_along_the_radius(browser, narrow):
    """24 functions of about 4% each, each calling sum(): arcs too narrow
    for a horizontal label get one along the radius -- the outermost ones
    running out into the margin -- and none touches another (before, all
    but a few of these arcs went without a label)."""
    browser.open(narrow["html"])
    browser.click("#show-sunburst")
    browser.screenshot(os.path.join(os.path.dirname(narrow["html"]),
                                    "sunburst-narrow.png"))
    labels = browser.js(LABEL_QUADS)
    assert_labels_apart(labels)
    names = [label[0] for label in labels]
    # every leaf function's arc named (at least its first characters), and
    # the outermost arcs' in full along the radius
    assert sum(name.startswith("leaf") for name in names) >= 20, names
    assert sum(name.startswith("<built-in") for name in names) >= 16, names
    assert len(names) >= 40, names          # of the 51 arcs
    turned = browser.js("document.querySelectorAll('#sunburst text.radial')"
                        ".length")
    assert turned >= 20


@needs_chromium
def test_tooltip_stays_inside_the_window(browser, crowded):
    browser.open(crowded["html"])
    for view in ("#show-icicle", "#show-sunburst"):
        browser.click(view)
        box = browser.js("""(function () {
            var shapes = document.querySelectorAll('#chart .node');
            var r = shapes[shapes.length - 1];
            var vw = document.documentElement.clientWidth;
            var vh = window.innerHeight;
            r.dispatchEvent(new MouseEvent('mousemove', {clientX: vw - 3,
                clientY: vh - 3, bubbles: true}));
            var b = document.getElementById('tooltip').getBoundingClientRect();
            return [b.left, b.top, b.right, b.bottom, vw, vh]; })()""")
        left, top, right, bottom, vw, vh = box
        assert right - left > 100, box          # it is shown, with text
        assert left >= 0 and top >= 0, box
        assert right <= vw and bottom <= vh, box


SEARCHED = """
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

def other():
    return sum(range(200000))

def main():
    heavy()
    light()
    other()

main()
"""


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    made = make_report(tmp_path_factory.mktemp("searched"), SEARCHED)
    st = pstats.Stats(made["pstats"])
    ct = {k[2]: v[3] for k, v in st.stats.items()}
    made["leaf share"] = ct["leaf"] / ct["<module>"]
    return made


def answer_prompt(browser, method, text, **params):
    """Call `method`; when it opens a prompt, type `text` into it."""
    browser.next_id += 1
    my_id = browser.next_id
    browser.ws.send(json.dumps({"id": my_id, "method": method,
                                "params": params}))
    while True:
        msg = json.loads(browser.ws.recv())
        if msg.get("method") == "Page.javascriptDialogOpening":
            browser.ws.send(json.dumps({
                "id": 10 ** 9, "method": "Page.handleJavaScriptDialog",
                "params": {"accept": True, "promptText": text}}))
        if msg.get("id") == my_id:
            return msg.get("result", {})


FRAMES = """Array.prototype.map.call(document.querySelectorAll('.frame'),
    function (g) { return [g.querySelector('title').textContent.split('\\n')[0],
                           g.classList.contains('match')]; })"""


@needs_chromium
def test_flamegraph_search_highlights_and_shows_the_share(browser, searched):
    browser.open(searched["svg"])
    assert browser.js("document.getElementById('search').textContent") \
        == "Search"
    # Ctrl-F, as in flamegraph.pl's SVGs, asks for the pattern
    for kind in ("keyDown", "keyUp"):
        answer_prompt(browser, "Input.dispatchKeyEvent", "^leaf ", type=kind,
                      modifiers=2, key="f", code="KeyF",
                      windowsVirtualKeyCode=70)
    frames = browser.js(FRAMES)
    hits = [name for name, hit in frames if hit]
    assert hits and all(name.startswith("leaf ") for name in hits), frames
    assert not any(name.startswith("leaf ") and not hit
                   for name, hit in frames)
    matched = browser.js("document.getElementById('matched').textContent")
    share = float(re.match(r"Matched: ([\d.]+)%$", matched).group(1)) / 100
    assert share == pytest.approx(searched["leaf share"], abs=0.011)
    browser.screenshot(os.path.join(os.path.dirname(searched["svg"]),
                                    "search.png"))
    # the button now resets; the Search button asks again
    browser.js("document.getElementById('search').dispatchEvent("
               "new MouseEvent('click'))")
    assert not any(hit for _, hit in browser.js(FRAMES))
    assert browser.js("document.getElementById('matched').textContent") \
        .strip() == ""
    box = browser.js("(function(){var b=document.getElementById('search')"
                     ".getBoundingClientRect();return [b.x+b.width/2,"
                     "b.y+b.height/2];})()")
    for kind in ("mousePressed", "mouseReleased"):
        answer_prompt(browser, "Input.dispatchMouseEvent", "heavy|light",
                      type=kind, x=box[0], y=box[1], button="left",
                      clickCount=1)
    hits = {name.split(" ")[0] for name, hit in browser.js(FRAMES) if hit}
    assert hits == {"heavy", "light"}


@needs_chromium
def test_icicle_search_highlights_and_shows_the_share(browser, searched):
    browser.open(searched["html"])
    browser.click("#search")
    browser.call("Input.insertText", text="^leaf ")
    rects = browser.js("""Array.prototype.map.call(
        document.querySelectorAll('#icicle rect.node'), function (r) {
            return [r.getAttribute('aria-label'),
                    r.classList.contains('match')]; })""")
    hits = [name for name, hit in rects if hit]
    assert len(hits) == 2 and all(h.startswith("leaf ") for h in hits)
    assert all(hit == name.startswith("leaf ") for name, hit in rects)
    matched = browser.js("document.getElementById('matched').textContent")
    share = float(re.match(r"Matched: ([\d.]+)%$", matched).group(1)) / 100
    assert share == pytest.approx(searched["leaf share"], abs=0.011)
    color = browser.js("getComputedStyle(document.querySelector("
                       "'#icicle rect.match')).fill")
    assert color == "rgb(230, 0, 230)"
    browser.screenshot(os.path.join(os.path.dirname(searched["html"]),
                                    "icicle-search.png"))
    browser.click("#show-sunburst")
    assert browser.js("document.querySelectorAll('#sunburst path.match')"
                      ".length") == 2


UNITTESTS = """
import unittest
import email.mime.text, http.client, xml.dom.minidom, decimal, fractions

def compute(n):
    return sum(i * i for i in range(n))

class Things(unittest.TestCase):
    def test_compute(self):
        for _ in range(20):
            self.assertEqual(compute(10000), 333283335000)
"""

MACHINERY = re.compile(r"<frozen (importlib|runpy|zipimport)|runpy\.py|"
                       r"importlib/_bootstrap")


@pytest.fixture(scope="module")
def unittests(tmp_path_factory):
    d = tmp_path_factory.mktemp("unittests")
    (d / "test_things.py").write_text(UNITTESTS)
    prof = d / "ut.pstats"
    r = run_pyprof("run", "-o", str(prof), "-m", "unittest", "test_things",
                   cwd=str(d))
    assert r.returncode == 0, r.stderr
    html, svg = d / "ut.html", d / "ut.svg"
    r = run_pyprof("view", str(prof), "-o", str(html), "--flamegraph",
                   str(svg))
    assert r.returncode == 0, r.stderr
    return {"html": str(html), "svg": str(svg), "dir": str(d)}


ICICLE = """Array.prototype.map.call(
    document.querySelectorAll('#icicle rect.node'), function (r) {
        return [r.getAttribute('aria-label'), Number(r.getAttribute('y')),
                Number(r.getAttribute('width'))]; })"""


@needs_chromium
def test_import_machinery_is_folded_in_the_report(browser, unittests):
    browser.open(unittests["html"])
    browser.screenshot(os.path.join(unittests["dir"], "folded.png"))
    folded = browser.js(ICICLE)
    assert not [n for n, _, _ in folded if MACHINERY.search(n)], folded[:5]
    button = browser.js("document.getElementById('fold').textContent")
    count = int(re.match(r"Show import machinery \((\d+) frames folded\)$",
                         button).group(1))
    assert count > 100
    test = next(r for r in folded if r[0].startswith("test_compute"))
    browser.click("#fold")
    full = browser.js(ICICLE)
    assert [n for n, _, _ in full if MACHINERY.search(n)]
    assert browser.js("document.getElementById('fold').textContent") == \
        "Fold import machinery"
    test_full = next(r for r in full if r[0].startswith("test_compute"))
    # the user's test is nearer the top folded, and takes the same time
    assert test[1] < test_full[1]
    # (as a share of the root's width: a taller page may add a scrollbar)
    assert test[2] / folded[0][2] == pytest.approx(
        test_full[2] / full[0][2], abs=0.002)
    browser.click("#fold")
    refolded = browser.js(ICICLE)
    assert not [n for n, _, _ in refolded if MACHINERY.search(n)]
    assert next(r for r in refolded if r[0].startswith("test_compute"))[1] \
        == test[1]
    assert browser.js("document.getElementById('fold').textContent") == \
        button


SVG_FRAMES = """(function (id) {
    return Array.prototype.map.call(
        document.querySelectorAll('#' + id + ' .frame'), function (g) {
            return g.querySelector('title').textContent.split('\\n')[0]; });
})"""


@needs_chromium
def test_import_machinery_is_folded_in_the_flamegraph(browser, unittests):
    browser.open(unittests["svg"])
    shown = browser.js(SVG_FRAMES + "('frames')")
    assert shown and not [n for n in shown if MACHINERY.search(n)]
    assert any(n.startswith("test_compute") for n in shown)
    assert browser.js("getComputedStyle(document.getElementById("
                      "'frames-all')).display") == "none"
    height = browser.js("document.documentElement.getAttribute('height')")
    browser.click("#fold")
    assert browser.js("getComputedStyle(document.getElementById("
                      "'frames-all')).display") != "none"
    assert browser.js("getComputedStyle(document.getElementById("
                      "'frames')).display") == "none"
    everything = browser.js(SVG_FRAMES + "('frames-all')")
    assert [n for n in everything if MACHINERY.search(n)]
    assert float(browser.js("document.documentElement.getAttribute("
                            "'height')")) > float(height)
    assert browser.js("document.getElementById('fold').textContent") == \
        "Fold import machinery"
