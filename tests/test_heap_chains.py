"""objgraph's leak recipe by changing the import (#13.16):
show_chain(find_backref_chain(obj, is_proper_module)), find_ref_chain, at,
at_addrs, get_new_ids, is_proper_module -- against objgraph itself on the
same objects."""
import io
import re
import subprocess
import sys
import textwrap
import types

import pytest

import pyprof

objgraph = pytest.importorskip("objgraph")


class Leak:
    pass


@pytest.fixture
def leaky_module():
    module = types.ModuleType("leaky_for_chains")
    module.CACHE = {"requests": [Leak(), Leak()]}
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def test_is_proper_module_as_objgraph(leaky_module):
    for obj in (leaky_module, types, types.ModuleType("loose"), [], None):
        assert pyprof.is_proper_module(obj) == objgraph.is_proper_module(obj)
    assert pyprof.is_proper_module(leaky_module)


def test_find_backref_chain_is_objgraphs(leaky_module):
    leak = leaky_module.CACHE["requests"][1]
    ours = pyprof.find_backref_chain(leak, pyprof.is_proper_module)
    theirs = objgraph.find_backref_chain(leak, objgraph.is_proper_module)
    assert [id(o) for o in ours] == [id(o) for o in theirs]
    assert ours[0] is leaky_module and ours[-1] is leak
    assert ours[1] is leaky_module.__dict__
    assert ours[2] is leaky_module.CACHE
    # no chain: [obj]; max_depth bounds the search
    lonely = Leak()
    assert pyprof.find_backref_chain(lonely, lambda o: False,
                                     max_depth=2) == [lonely]
    assert pyprof.find_backref_chain(leak, pyprof.is_proper_module,
                                     max_depth=2) == [leak]
    assert objgraph.find_backref_chain(leak, objgraph.is_proper_module,
                                       max_depth=2) == [leak]


def test_find_ref_chain_is_objgraphs(leaky_module):
    ours = pyprof.find_ref_chain(leaky_module.CACHE,
                                 lambda o: isinstance(o, Leak))
    theirs = objgraph.find_ref_chain(leaky_module.CACHE,
                                     lambda o: isinstance(o, Leak))
    assert [id(o) for o in ours] == [id(o) for o in theirs]
    assert ours[0] is leaky_module.CACHE and isinstance(ours[-1], Leak)
    skip = [id(leaky_module.CACHE["requests"])]
    assert pyprof.find_ref_chain(leaky_module.CACHE,
                                 lambda o: isinstance(o, Leak),
                                 extra_ignore=skip) == [leaky_module.CACHE]


def dot_structure(text):
    """The DOT graph as (sorted node labels, sorted edges by label)."""
    labels = dict(re.findall(r'^\s*(o\d+)\[label="((?:[^"\\]|\\.)*)"\]',
                             text, re.M))
    edges = re.findall(r'^\s*(o\d+) -> (o\d+)', text, re.M)
    return (sorted(labels.values()),
            sorted((labels.get(a), labels.get(b)) for a, b in edges))


def test_show_chain_draws_what_objgraph_draws(leaky_module):
    leak = leaky_module.CACHE["requests"][0]
    chain = pyprof.find_backref_chain(leak, pyprof.is_proper_module)
    ours, theirs = io.StringIO(), io.StringIO()
    pyprof.show_chain(chain, output=ours)
    objgraph.show_chain(chain, output=theirs)
    assert ours.getvalue().startswith("digraph ObjectGraph {")
    assert dot_structure(ours.getvalue()) == dot_structure(theirs.getvalue())
    nodes, edges = dot_structure(ours.getvalue())
    assert len(nodes) == len(chain) == 5 and len(edges) == 4
    ours, theirs = io.StringIO(), io.StringIO()
    forward = pyprof.find_ref_chain(leaky_module.CACHE,
                                    lambda o: isinstance(o, Leak))
    pyprof.show_chain(forward, backrefs=False, output=ours)
    objgraph.show_chain(forward, backrefs=False, output=theirs)
    assert dot_structure(ours.getvalue()) == dot_structure(theirs.getvalue())


def test_at_and_at_addrs(leaky_module):
    leak = leaky_module.CACHE["requests"][0]
    assert pyprof.at(id(leak)) is leak is objgraph.at(id(leak))
    assert pyprof.at(id(12345)) is None is objgraph.at(id(12345))
    wanted = {id(o) for o in leaky_module.CACHE["requests"]}
    assert [id(o) for o in pyprof.at_addrs(wanted)] == \
        [id(o) for o in objgraph.at_addrs(wanted)]


NEW_IDS = textwrap.dedent("""\
    import sys
    tool = __import__(sys.argv[1])

    class Widget:
        pass

    tool.get_new_ids(limit=0)
    tool.get_new_ids(limit=0)
    keep = [Widget() for _ in range(7)]
    new = tool.get_new_ids(limit=3, sortby="new")
    print(type(new).__name__, len(new["Widget"]),
          {id(w) for w in keep} <= new["Widget"], new["NoSuchType"])
    again = tool.get_new_ids(skip_update=True)
    print(again is new)
    """)


def test_get_new_ids_as_objgraph(tmp_path):
    script = tmp_path / "new_ids.py"
    script.write_text(NEW_IDS)
    out = {}
    for tool in ("objgraph", "pyprof"):
        proc = subprocess.run([sys.executable, str(script), tool],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        out[tool] = proc.stdout.splitlines()
    ours, theirs = out["pyprof"], out["objgraph"]
    # the table: same header and rules, the Widget row the same
    assert ours[1] == theirs[1].replace(
        theirs[1].split("Old_ids")[0], ours[1].split("Old_ids")[0])
    widget = [l.split() for l in ours if l.startswith("Widget ")]
    assert widget == [l.split() for l in theirs if l.startswith("Widget ")]
    assert widget[0][3:] == ["+7", "+7"]
    assert ours[-2:] == theirs[-2:] == ["defaultdict 7 True set()", "True"]
