"""pyprof export: each format checked against its published format (schema
or an independent parser), and its numbers against pstats' reading of the
same file."""
import json
import os
import pstats
import subprocess
import sys

import pytest

from conftest import run_pyprof

# A program whose call paths pstats' pairs cannot tell apart: c() does its
# own work when a() calls it and calls leaf() when b() calls it, so from
# the pairs alone leaf()'s time is split between a;c and b;c.
PROGRAM = """
def leaf(n):
    s = 0
    for i in range(n):
        s += i
    return s

def c(work):
    if work:
        s = 0
        for i in range(60000):
            s += i
        return s
    return leaf(60000)

def a():
    for _ in range(8):
        c(True)

def b():
    for _ in range(8):
        c(False)

def main():
    a()
    b()

main()
"""


@pytest.fixture(scope="module")
def profiles(tmp_path_factory):
    """The program profiled by pyprof run -o (exact paths) and cProfile."""
    d = tmp_path_factory.mktemp("export")
    script = d / "prog.py"
    script.write_text(PROGRAM)
    ours = d / "ours.pstats"
    theirs = d / "cprofile.pstats"
    r = run_pyprof("run", "-o", str(ours), str(script))
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(theirs),
                        str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return {"ours": str(ours), "cprofile": str(theirs), "dir": d}


def export(path, fmt, *extra):
    r = run_pyprof("export", path, "--format", fmt, *extra)
    assert r.returncode == 0, r.stderr
    return r


def total_tt(path):
    return pstats.Stats(path).total_tt


def test_trailer_keeps_the_file_a_pstats_file(profiles):
    st = pstats.Stats(profiles["ours"])
    names = {func[2] for func in st.stats}
    assert {"leaf", "c", "a", "b", "main"} <= names
    leaf = next(v for k, v in st.stats.items() if k[2] == "leaf")
    assert leaf[1] == 8     # ncalls, as cProfile counts them
    # gprof2dot, another pstats reader, still reads it.
    r = subprocess.run([sys.executable, "-m", "gprof2dot", "-f", "pstats",
                        profiles["ours"]], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "leaf" in r.stdout
    # and so does pyprof stats
    r = run_pyprof("stats", profiles["ours"])
    assert r.returncode == 0 and "leaf" in r.stdout


def parse_collapsed(text):
    stacks = {}
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        assert stack and count.isdigit(), line   # "a;b;c 123", integer
        stacks[tuple(stack.split(";"))] = int(count)
    return stacks


@pytest.mark.parametrize("which", ["ours", "cprofile"])
def test_collapsed_sums_to_the_profile_total(profiles, which):
    r = export(profiles[which], "collapsed")
    stacks = parse_collapsed(r.stdout)
    expected = round(total_tt(profiles[which]) * 1e6)
    assert abs(sum(stacks.values()) - expected) <= 1
    if which == "cprofile":
        assert "reconstructed from caller/callee pairs" in r.stderr
    else:
        assert r.stderr == ""


def test_collapsed_keeps_the_real_call_paths(profiles):
    def leaf_parents(path):
        stacks = parse_collapsed(export(path, "collapsed").stdout)
        out = {}
        for stack, count in stacks.items():
            if stack[-1].startswith("leaf "):
                caller = stack[-3].split(" ")[0]
                out[caller] = out.get(caller, 0) + count
        return out

    exact = leaf_parents(profiles["ours"])
    # leaf() only ever ran under b() -> c().
    assert set(exact) == {"b"}, exact
    # Rebuilt from pairs, cProfile's file cannot know that: leaf is shared
    # out between a;c and b;c in proportion to c's time under each.
    guessed = leaf_parents(profiles["cprofile"])
    assert set(guessed) == {"a", "b"}, guessed


def test_collapsed_escapes_separators(tmp_path):
    script = tmp_path / "odd.py"
    script.write_text(
        "def f():\n    return sum(range(200000))\n"
        "f.__code__ = f.__code__.replace(co_name='semi;colon name')\n"
        "f()\n")
    prof = tmp_path / "odd.pstats"
    assert run_pyprof("run", "-o", str(prof), str(script)).returncode == 0
    stacks = parse_collapsed(export(str(prof), "collapsed").stdout)
    assert any(s[-1].startswith("semi:colon name") for s in stacks)


# The speedscope file format, transcribed from its published JSON schema
# (https://www.speedscope.app/file-format-schema.json, in
# jlfwong/speedscope's file-format-schema.json): required fields, types
# and enums of the file, frames and sampled/evented profiles.
SPEEDSCOPE_SCHEMA = {
    "$schema": "http://json-schema.org/draft-06/schema#",
    "type": "object",
    "required": ["$schema", "profiles", "shared"],
    "properties": {
        "$schema": {"enum": ["https://www.speedscope.app/file-format-schema.json"]},
        "shared": {
            "type": "object", "required": ["frames"],
            "properties": {"frames": {"type": "array", "items": {
                "type": "object", "required": ["name"],
                "properties": {"name": {"type": "string"},
                               "file": {"type": "string"},
                               "line": {"type": "number"},
                               "col": {"type": "number"}}}}}},
        "profiles": {"type": "array", "items": {"anyOf": [
            {"type": "object",
             "required": ["endValue", "name", "samples", "startValue",
                          "type", "unit", "weights"],
             "properties": {
                 "type": {"enum": ["sampled"]},
                 "name": {"type": "string"},
                 "unit": {"enum": ["bytes", "microseconds", "milliseconds",
                                   "nanoseconds", "none", "seconds"]},
                 "startValue": {"type": "number"},
                 "endValue": {"type": "number"},
                 "samples": {"type": "array", "items": {
                     "type": "array", "items": {"type": "number"}}},
                 "weights": {"type": "array", "items": {"type": "number"}}}},
            {"type": "object",
             "required": ["endValue", "events", "name", "startValue",
                          "type", "unit"],
             "properties": {"type": {"enum": ["evented"]}}}]}},
        "name": {"type": "string"},
        "activeProfileIndex": {"type": "number"},
        "exporter": {"type": "string"},
    },
}


@pytest.mark.parametrize("which", ["ours", "cprofile"])
def test_speedscope_matches_the_schema(profiles, which):
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads(export(profiles[which], "speedscope").stdout)
    jsonschema.validate(doc, SPEEDSCOPE_SCHEMA)
    frames = doc["shared"]["frames"]
    prof = doc["profiles"][0]
    assert len(prof["samples"]) == len(prof["weights"]) > 0
    for stack in prof["samples"]:
        assert all(0 <= i < len(frames) for i in stack)
    assert sum(prof["weights"]) == pytest.approx(total_tt(profiles[which]),
                                                 rel=1e-6, abs=1e-6)
    assert prof["endValue"] == pytest.approx(sum(prof["weights"]))
    # leaf's samples are whole stacks from the top: ... main, b, c, leaf.
    leaf_stacks = [[frames[i]["name"] for i in stack]
                   for stack in prof["samples"]
                   if frames[stack[-1]]["name"] == "leaf"]
    assert leaf_stacks
    for names in leaf_stacks:
        assert names[-4:-2] in (["main", "b"], ["main", "a"]), names
        assert names[-2] == "c"
    if which == "cprofile":
        assert "reconstructed" in prof["name"]


@pytest.mark.parametrize("which", ["ours", "cprofile"])
def test_chrome_trace_has_the_documented_fields(profiles, which):
    doc = json.loads(export(profiles[which], "chrome").stdout)
    events = doc["traceEvents"]
    spans = [e for e in events if e["ph"] == "X"]
    assert spans
    for e in events:
        assert isinstance(e["name"], str) and e["ph"] in ("X", "M")
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
    for e in spans:
        assert e["ts"] >= 0 and e["dur"] >= 0
        assert isinstance(e["cat"], str)
    # Complete events must nest (or be disjoint) for trace viewers to
    # stack them; check every pair that overlaps.
    spans.sort(key=lambda e: (e["ts"], -e["dur"]))
    open_ends = []
    for e in spans:
        while open_ends and e["ts"] >= open_ends[-1] - 1e-6:
            open_ends.pop()
        if open_ends:
            assert e["ts"] + e["dur"] <= open_ends[-1] + 1e-3, e
        open_ends.append(e["ts"] + e["dur"])
    assert doc["otherData"]["call_paths"].startswith(
        "exact" if which == "ours" else "call paths reconstructed")
    leaf = [e for e in spans if e["name"].startswith("leaf ")]
    assert sum(e["args"]["calls"] for e in leaf) == 8


def test_callgrind_reads_in_gprof2dot(profiles, tmp_path):
    out = tmp_path / "callgrind.out.prog"
    export(profiles["ours"], "callgrind", "-o", str(out))
    text = out.read_text()
    assert text.startswith("# callgrind format\n")
    # Self costs add up to the summary line.
    summary = int(next(l for l in text.splitlines()
                       if l.startswith("summary:")).split()[1])
    st = pstats.Stats(profiles["ours"])
    assert abs(summary - round(st.total_tt * 1e6)) <= len(st.stats)
    r = subprocess.run([sys.executable, "-m", "gprof2dot", "-f", "callgrind",
                        "-n", "0", "-e", "0", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in ("leaf", "main"):
        assert name in r.stdout
    calls = [l for l in text.splitlines() if l.startswith("calls=")]
    assert "calls=8 " in "\n".join(calls)


def test_export_bad_input(tmp_path):
    r = run_pyprof("export", str(tmp_path / "missing.pstats"), "-f",
                   "collapsed")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "missing.pstats" in r.stderr
    junk = tmp_path / "junk.pstats"
    junk.write_bytes(b"not a profile at all")
    r = run_pyprof("export", str(junk), "-f", "speedscope")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    r = run_pyprof("export", str(junk), "-f", "nonsense")
    assert r.returncode == 2 and "unknown format" in r.stderr
    r = run_pyprof("export", str(junk))
    assert r.returncode == 2 and "--format" in r.stderr


def test_damaged_trailer_is_reported(profiles, tmp_path):
    data = bytearray(open(profiles["ours"], "rb").read())
    # Break the body's magic: the footer still says a trailer is there.
    length = int.from_bytes(data[-16:-8], "little")
    data[len(data) - 16 - length] ^= 0xFF
    bad = tmp_path / "bad.pstats"
    bad.write_bytes(bytes(data))
    # pstats does not mind...
    assert pstats.Stats(str(bad)).total_tt > 0
    # ...pyprof says what is wrong, in one line, and writes nothing.
    out = tmp_path / "out.json"
    r = run_pyprof("export", str(bad), "-f", "speedscope", "-o", str(out))
    assert r.returncode == 2
    assert "call-path trailer" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()
