"""pyprof's heap census against objgraph, the oracle, on the same heap.

Each test builds a deterministic heap of its own classes and asks objgraph
and pyprof the same question back to back.  Where the whole heap is
compared, the interpreter's own transient objects (a tuple made between
the two calls) are the only thing allowed to differ; the test's own types
must match exactly, down to the order objgraph gives equal counts.
"""
import gc
import io
import os
import sys

import objgraph
import pytest

import pyprof


class HeapLeaf:
    pass


class HeapNode:
    def __init__(self, child=None):
        self.child = child


class HeapSlot:
    __slots__ = ("a",)


MINE = {"HeapLeaf", "HeapNode", "HeapSlot", "BrokenObject"}


def mine(stats):
    return {k: v for k, v in stats.items() if k.split(".")[-1] in MINE}


def build_heap():
    return ([HeapLeaf() for _ in range(300)] +
            [HeapNode(HeapLeaf()) for _ in range(120)] +
            [HeapSlot() for _ in range(120)])


def test_typestats_matches_objgraph_on_the_whole_heap():
    heap = build_heap()
    gc.collect()
    theirs = objgraph.typestats()
    ours = pyprof.typestats()
    assert mine(ours) == mine(theirs) == {
        "HeapLeaf": 420, "HeapNode": 120, "HeapSlot": 120}
    # Every type objgraph sees, we see, with the same count -- but for a
    # few objects the interpreter makes between the two calls.
    assert set(ours) == set(theirs)
    differ = {k for k in ours if ours[k] != theirs[k]}
    assert sum(abs(ours[k] - theirs[k]) for k in differ) <= 5, differ
    del heap


def test_longnames_and_filter():
    heap = build_heap()
    theirs = objgraph.typestats(shortnames=False)
    ours = pyprof.typestats(shortnames=False)
    assert mine(ours) == mine(theirs)
    assert ours[__name__ + ".HeapLeaf"] == 420
    keep = lambda o: isinstance(o, (HeapLeaf, HeapSlot))  # noqa: E731
    assert (pyprof.typestats(filter=keep) ==
            objgraph.typestats(filter=keep) ==
            {"HeapLeaf": 420, "HeapSlot": 120})
    assert (pyprof.typestats(objects=heap) ==
            objgraph.typestats(objects=heap))
    del heap


def test_most_common_types_keeps_objgraph_order_among_equal_counts():
    heap = build_heap()
    keep = lambda o: type(o) in (HeapLeaf, HeapNode, HeapSlot)  # noqa
    ours = pyprof.most_common_types(limit=None, filter=keep)
    theirs = objgraph.most_common_types(limit=None, filter=keep)
    # HeapNode and HeapSlot tie at 120: the first seen comes first.
    assert ours == theirs
    assert pyprof.most_common_types(2, objects=heap) == \
        objgraph.most_common_types(2, objects=heap)
    out_ours, out_theirs = io.StringIO(), io.StringIO()
    pyprof.show_most_common_types(objects=heap, file=out_ours)
    objgraph.show_most_common_types(objects=heap, file=out_theirs)
    assert out_ours.getvalue() == out_theirs.getvalue()
    del heap


def test_show_growth_output_and_peaks_are_objgraphs():
    keep = lambda o: type(o) in (HeapLeaf, HeapNode, HeapSlot)  # noqa
    peaks_ours, peaks_theirs = {}, {}

    def both():
        ours, theirs = io.StringIO(), io.StringIO()
        pyprof.show_growth(peak_stats=peaks_ours, file=ours, filter=keep)
        objgraph.show_growth(peak_stats=peaks_theirs, file=theirs,
                             filter=keep)
        assert ours.getvalue() == theirs.getvalue()
        assert peaks_ours == peaks_theirs
        return ours.getvalue()

    heap = build_heap()
    first = both().splitlines()
    # Equal deltas keep the collector's order, as objgraph's do.
    assert first[0] == "HeapLeaf      420      +420"
    assert sorted(first[1:]) == ["HeapNode      120      +120",
                                 "HeapSlot      120      +120"]
    del heap[:200]                   # below the peak: no growth
    assert both() == ""
    heap += [HeapLeaf() for _ in range(250)]   # 470 > peak 420
    assert both() == "HeapLeaf      470       +50\n"
    rows = pyprof.growth(limit=None, peak_stats={}, filter=keep)
    assert rows == objgraph.growth(limit=None, peak_stats={}, filter=keep)
    assert [r[0] for r in pyprof.growth(1, {}, filter=keep)] == ["HeapLeaf"]
    del heap


def test_default_peak_stats_are_shared_by_growth_and_show_growth():
    pyprof.growth(limit=None)        # raise every peak to now
    heap = [HeapSlot() for _ in range(77)]
    out = io.StringIO()
    pyprof.show_growth(limit=None, file=out)
    assert "HeapSlot" in out.getvalue()
    # show_growth() raised the shared peak: growth() sees no more.
    assert all(name != "HeapSlot" for name, _, _ in pyprof.growth(None))
    del heap


def test_count_and_by_type():
    heap = build_heap()
    gc.collect()
    for name in ("HeapLeaf", "HeapNode", __name__ + ".HeapSlot", "dict"):
        assert pyprof.count(name) == objgraph.count(name), name
    assert pyprof.count("HeapLeaf") == 420
    leaves = pyprof.by_type("HeapLeaf")
    assert [id(o) for o in leaves] == \
        [id(o) for o in objgraph.by_type("HeapLeaf")]
    assert all(type(o) is HeapLeaf for o in leaves) and len(leaves) == 420
    assert len(pyprof.by_type(__name__ + ".HeapNode")) == 120
    assert pyprof.by_type("NoSuchType") == []
    assert pyprof.count("NoSuchType") == 0
    assert pyprof.by_type("HeapSlot", objects=heap[:5]) == []
    assert len(pyprof.by_type("HeapLeaf", objects=heap)) == 300
    del heap, leaves


def test_by_type_list_does_not_count_its_own_result():
    lists = pyprof.by_type("list")
    assert all(o is not lists for o in lists)
    assert len(lists) == pyprof.count("list") or \
        abs(len(lists) - pyprof.count("list")) <= 2


def test_get_leaking_objects_matches_objgraph():
    referred = [HeapLeaf() for _ in range(5)]
    holder = {i: o for i, o in enumerate(referred)}
    # The HeapNodes are referred to by `candidates` only, which both tools
    # skip as the list they were given.
    candidates = referred + [HeapNode() for _ in range(4)]
    lonely = {id(o) for o in candidates[5:]}
    # Keep ids only: a kept result list would refer to the objects.
    ours = [id(o) for o in pyprof.get_leaking_objects(candidates)]
    theirs = [id(o) for o in objgraph.get_leaking_objects(candidates)]
    assert ours == theirs
    assert set(ours) == lonely
    # Over the whole heap: the same verdict on this test's objects.
    everything = {id(o) for o in pyprof.get_leaking_objects()
                  if type(o) in (HeapLeaf, HeapNode)}
    theirs = {id(o) for o in objgraph.get_leaking_objects()
              if type(o) in (HeapLeaf, HeapNode)}
    assert everything == theirs
    del holder, referred, candidates


def test_census_bytes_are_sys_getsizeof():
    heap = build_heap()
    rows = {name: (count, size) for name, count, size in pyprof.census()}
    assert rows["HeapLeaf"] == (
        420, sum(sys.getsizeof(o) for o in objgraph.by_type("HeapLeaf")))
    assert rows["HeapSlot"] == (120, 120 * sys.getsizeof(HeapSlot()))
    top = pyprof.census(limit=3)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]
    del heap


class BrokenObject:
    @property
    def __class__(self):
        raise RuntimeError("no class for you")

    def __repr__(self):
        raise ValueError("no repr either")

    def __sizeof__(self):
        raise TypeError("nor a size")


def test_broken_objects_do_not_break_the_census():
    broken = [BrokenObject() for _ in range(3)]
    assert pyprof.count("BrokenObject") == 3
    assert pyprof.by_type("BrokenObject") == broken or \
        {id(o) for o in pyprof.by_type("BrokenObject")} == set(map(id, broken))
    assert pyprof.typestats()["BrokenObject"] == 3
    assert dict((n, (c, b)) for n, c, b in pyprof.census())[
        "BrokenObject"] == (3, 0)
    out = io.StringIO()
    pyprof.show_refs(broken[0], output=out)
    assert '"BrokenObject\\n(unrepresentable)"' in out.getvalue()
    del broken


class Cycle:
    def __init__(self, name):
        self.name = name
        self.peer = None


def graph_pair():
    a = Cycle('quote " backslash \\ newline \n end')
    b = Cycle("b")
    a.peer, b.peer = b, a
    return a, b


def test_show_refs_is_objgraphs_dot_and_cycles_end():
    a, b = graph_pair()
    # Labelling an edge from a function reads its attributes, which makes
    # its __dict__ and __annotations__ on first use: draw once untimed so
    # that both tools then see the same objects.
    root = {"first": a}
    pyprof.show_refs([root], output=io.StringIO(), max_depth=6)
    ours, theirs = io.StringIO(), io.StringIO()
    pyprof.show_refs([root], output=ours, max_depth=6, too_many=3)
    objgraph.show_refs([root], output=theirs, max_depth=6, too_many=3)
    assert ours.getvalue() == theirs.getvalue()
    text = ours.getvalue()
    assert text.startswith("digraph ObjectGraph {\n") and \
        text.endswith("}\n")
    assert r"quote \" backslash \\\\ newline \\n end" in text
    # The cycle a -> b -> a: each node is drawn once.
    node = "o%d[label=" % id(b)
    assert text.count(node) == 1
    assert "more references" in text


def test_show_backrefs_reaches_the_holders():
    a, b = graph_pair()
    holder = {"kept_here": b}
    out = io.StringIO()
    pyprof.show_backrefs([b], output=out, max_depth=2)
    text = out.getvalue()
    assert "o%d -> o%d" % (id(holder), id(b)) in text
    assert '[label="kept_here",weight=2]' in text
    assert text.count("o%d[label=" % id(b)) == 1
    del holder


def test_show_refs_files_and_errors(tmp_path, capsys):
    a, b = graph_pair()
    dot = tmp_path / "g.dot"
    pyprof.show_refs(a, filename=str(dot))
    assert dot.read_text().startswith("digraph ObjectGraph {")
    assert "Graph written to %s" % dot in capsys.readouterr().out
    with pytest.raises(OSError) as info:
        pyprof.show_backrefs(a, filename=str(tmp_path / "no" / "g.dot"))
    assert "g.dot" in str(info.value)
    with pytest.raises(ValueError):
        pyprof.show_refs(a, filename=str(dot), output=io.StringIO())
    png = tmp_path / "g.png"
    env_path = os.environ.get("PATH", "")
    try:
        os.environ["PATH"] = str(tmp_path)   # no dot here
        pyprof.show_refs(a, filename=str(png))
    finally:
        os.environ["PATH"] = env_path
    said = capsys.readouterr().out
    assert "dot program is not on PATH" in said and str(png) in said
    assert not png.exists()


def test_no_growth_passes_a_clean_block_and_fails_a_leak():
    kept = []
    with pyprof.no_growth():
        scratch = [HeapLeaf() for _ in range(50)]
        del scratch
    with pytest.raises(pyprof.HeapGrowthError) as info:
        with pyprof.no_growth(types=["HeapLeaf", HeapNode], tolerance=2):
            kept.extend(HeapLeaf() for _ in range(10))
            kept.append(HeapNode())            # within tolerance
    assert isinstance(info.value, AssertionError)
    assert info.value.rows == [("HeapLeaf", 0, 10, 10)]
    message = str(info.value)
    assert "tolerance 2" in message and "HeapLeaf" in message
    assert "HeapNode" not in message
    with pyprof.no_growth(types=["HeapSlot"]):
        kept.append(HeapLeaf())                # not watched
    with pyprof.no_growth(tolerance=100):
        kept.append(HeapLeaf())
    with pytest.raises(KeyError):              # the block's own error wins
        with pyprof.no_growth():
            kept.append(HeapLeaf())
            raise KeyError("mine")
    del kept
