"""Files written by pyprof are read by the tools people already use:
pstats (every Python), SnakeViz's own loaders, and gprof2dot."""
import json
import pstats
import subprocess
import sys

import pytest

import pyprof
from conftest import load_program


@pytest.fixture(scope="module")
def profile_file(tmp_path_factory):
    module = load_program("workload")
    prof = pyprof.Profile()
    with prof:
        module.main()
    path = tmp_path_factory.mktemp("prof") / "workload.pstats"
    prof.dump_stats(str(path))
    prof.create_stats()
    return str(path), prof.stats


def test_pstats_reads_the_same_numbers(profile_file):
    path, stats = profile_file
    loaded = pstats.Stats(path)
    assert loaded.stats == stats
    assert loaded.total_calls == sum(v[1] for v in stats.values())


def test_snakeviz_loaders_read_it(profile_file):
    snakeviz_stats = pytest.importorskip("snakeviz.stats")
    path, stats = profile_file
    st = pstats.Stats(path)
    rows = snakeviz_stats.table_rows(st)
    assert len(rows) == len(stats)
    tree = snakeviz_stats.json_stats(st)
    if isinstance(tree, str):  # older SnakeViz returns JSON text
        tree = json.loads(tree)
    fib = [k for k in tree if "fib" in k]
    assert fib, "SnakeViz's call graph names fib"


def test_gprof2dot_draws_it(profile_file):
    pytest.importorskip("gprof2dot")
    path, _ = profile_file
    dot = subprocess.run([sys.executable, "-m", "gprof2dot", "-f", "pstats",
                          "-n", "0", "-e", "0", path],
                         capture_output=True, text=True, check=True).stdout
    assert dot.startswith("digraph")
    assert "fib" in dot and "ping" in dot


def test_dump_stats_keeps_exact_call_paths(profile_file, tmp_path):
    """Profiles saved from the Python API carry the recorded call paths
    too, so `pyprof view` draws them exactly instead of rebuilding them."""
    path, _ = profile_file
    r = subprocess.run([sys.executable, "-m", "pyprof", "view", path, "-o",
                        str(tmp_path / "r.html")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "no recorded call paths" not in r.stderr
    assert "exact call paths" in (tmp_path / "r.html").read_text()
