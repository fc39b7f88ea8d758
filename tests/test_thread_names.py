"""Thread names as threading names them: `pyprof dump` and `pyprof record`
of a sibling process (tests/programs/named_threads.py) that pyprof did not
start, on every CPython 3.10-3.13 under pyenv and 3.14/3.15 in the Debian
sid chroot, whatever Python pyprof itself runs on (in `make test-sid`,
pyprof on 3.14 and 3.15 inside the chroot reads both).

The oracles: the target's own threading.enumerate() (idents, native ids,
names, printed after one thread was renamed), the kernel's
/proc/PID/task/TID/comm for the OS names, and py-spy's dump.
"""
import json
import os

import pytest

from conftest import PROGRAMS, run_pyprof
from test_dump import (PYENV, SID, VERSIONS, Target, comm,
                       py_spy_dump, py_spy_for)

TARGET = os.path.join(PROGRAMS, "named_threads.py")


class Named(Target):
    """named_threads.py under CPython `version` (in the chroot for
    3.14+), with what threading said about its threads."""

    def __init__(self, version):
        # inside the sid chroot (make test-sid) its own pythons are the
        # targets: pyprof of 3.14 reading 3.15 and the other way round
        inside = f"/usr/bin/python{version}"
        python = inside if (version not in PYENV and not os.path.isdir(SID)
                            and os.path.exists(inside)) else None
        super().__init__(version, program=TARGET, python=python)
        self.version = self.report["version"]
        self.threads = {t["ident"]: t for t in self.report["threads"]}
        assert len(self.threads) == 6


@pytest.fixture(params=VERSIONS)
def named(request):
    if request.param not in PYENV and request.param < "3.14":
        pytest.skip(f"no CPython {request.param} under pyenv")
    target = Named(request.param)
    yield target
    target.close()


def test_dump_names_threads_as_threading_does(named):
    result = run_pyprof("dump", "--pid", str(named.pid), "--json")
    assert result.returncode == 0, result.stderr
    dump = json.loads(result.stdout)
    assert dump["python_version"] == named.version
    got = {t["thread_id"]: t for t in dump["threads"]}
    assert set(got) == set(named.threads)
    for ident, want in named.threads.items():
        assert got[ident]["native_id"] == want["native_id"]
        assert got[ident]["name"] == want["name"]
        assert got[ident]["os_name"] == comm(named.pid, want["native_id"])
    # the OS names are not the threading names: the main thread's is the
    # program's, and the renamed thread's (where CPython sets OS names at
    # all, 3.14+) the name it started with
    renamed = [t for t in dump["threads"] if t["name"] == "after-rename"]
    assert renamed[0]["os_name"] != "after-rename"
    text = run_pyprof("dump", "--pid", str(named.pid))
    assert text.returncode == 0, text.stderr
    for want in named.threads.values():
        assert f'Thread {want["native_id"]} (' in text.stdout
        line = [x for x in text.stdout.splitlines()
                if x.startswith(f'Thread {want["native_id"]} (')][0]
        assert f'"{want["name"]}"' in line, line


def test_record_names_threads_as_threading_does(named, tmp_path):
    out = tmp_path / "named.collapsed"
    result = run_pyprof("record", "--pid", str(named.pid), "--idle",
                        "--rate", "200", "--duration", "0.5", "-o", str(out))
    assert result.returncode == 0, result.stderr
    labels = {line.split(";")[1] for line in out.read_text().splitlines()}
    want = {f'<thread {t["native_id"]} {t["name"]}>'
            for t in named.threads.values()}
    assert labels == want


@pytest.mark.parametrize("version", ["3.10", "3.11", "3.12", "3.13", "3.14"])
def test_dump_names_agree_with_py_spy(version):
    py_spy = py_spy_for(version)
    named = Named(version)
    try:
        ours = json.loads(run_pyprof("dump", "--pid", str(named.pid),
                                     "--json").stdout)
        theirs = py_spy_dump(py_spy, named.pid)
    finally:
        named.close()
    ours = {t["thread_id"]: t["name"] for t in ours["threads"]}
    spys = {t["thread_id"]: t["thread_name"] for t in theirs}
    assert set(ours) == set(spys)
    named_by_spy = {ident: name for ident, name in spys.items() if name}
    # py-spy names threads from threading._active where it can read it;
    # where it does, it agrees
    for ident, name in named_by_spy.items():
        assert ours[ident] == name
