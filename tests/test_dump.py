"""`pyprof dump --pid PID`: the stacks of a process pyprof did not start.

The targets are sibling processes started here with plain python (every
CPython 3.10-3.13 found under pyenv, and 3.14/3.15 inside the Debian sid
chroot at /work/sid when it exists), never through pyprof.  The oracles are
the target's own traceback.extract_stack() taken on the line where each
thread blocks (and its threading names), the kernel's
/proc/PID/task/TID/comm and stat, and py-spy's dump of the same process.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

from conftest import PROGRAMS, run_pyprof

TARGET = os.path.join(PROGRAMS, "sampled_target.py")
SID = "/work/sid"


def pyenv_pythons():
    root = subprocess.run(["pyenv", "root"], capture_output=True,
                          text=True).stdout.strip() if shutil.which(
                              "pyenv") else os.path.expanduser("~/.pyenv")
    found = {}
    for path in sorted(glob.glob(os.path.join(root, "versions", "3.1*",
                                              "bin", "python3"))):
        minor = path.split(os.sep)[-3].rsplit(".", 1)[0]
        found[minor] = path
    return found


PYENV = pyenv_pythons()
# The targets and the other tools are not pyprof: under `make test-asan`
# they must not inherit the sanitizer preload (the chroot has no libasan).
PLAIN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                          "PYTHONMALLOC")}
VERSIONS = ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]


class Target:
    """A sibling python running sampled_target.py (or `program`; pyenv's
    or `python`, else in the chroot for 3.14+), with the report it
    printed about itself."""

    def __init__(self, version, seconds=60, program=TARGET, python=None):
        self.chroot_copy = None
        python = python or PYENV.get(version)
        if python:
            argv = [python, program, str(seconds)]
        else:
            if not os.path.exists(f"{SID}/usr/bin/python{version}"):
                pytest.skip(f"no python{version} in the sid chroot {SID}")
            if os.geteuid() != 0:
                pytest.skip("chroot needs root")
            name = f"/tmp/pyprof-target-{uuid.uuid4().hex}.py"
            shutil.copy(program, SID + name)
            self.chroot_copy = SID + name
            argv = ["chroot", SID, f"python{version}", name, str(seconds)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                                     env=PLAIN_ENV)
        line = self.proc.stdout.readline()
        assert line, f"the {version} target died before reporting"
        self.report = json.loads(line)
        self.pid = self.report["main"]
        self.version = version
        self.wait_until_in_place()

    def wait_until_in_place(self, timeout=60):
        """The target reports once each thread has recorded its stack,
        then the main thread sleeps: until the kernel says each blocked
        thread and the main thread sleep (the main one in time.sleep(),
        not on a futex: the GIL), or the report would describe lines they
        have not reached yet (a fixed sleep was too short under load)."""
        deadline = time.monotonic() + timeout
        threads = self.report["threads"]
        if isinstance(threads, dict):   # sampled_target: tid -> stack
            blocked = [tid for tid, info in threads.items()
                       if info["frames"] is not None and int(tid) != self.pid]
        else:                           # named_threads: all but main wait
            blocked = [t["native_id"] for t in threads
                       if t["native_id"] != self.pid]
        while True:
            task = f"/proc/{self.pid}/task/"
            with open(task + f"{self.pid}/wchan") as f:
                wchan = f.read()
            states = {tid: thread_state(task + str(tid)) for tid in blocked}
            if thread_state(task + str(self.pid)) == "S" \
                    and wchan not in ("", "0") and "futex" not in wchan \
                    and "R" not in states.values():
                return
            assert time.monotonic() < deadline, (wchan, states)
            time.sleep(0.005)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.chroot_copy:
            os.unlink(self.chroot_copy)


@pytest.fixture(params=VERSIONS)
def target(request):
    if request.param not in PYENV and request.param < "3.14":
        pytest.skip(f"no CPython {request.param} under pyenv")
    t = Target(request.param)
    yield t
    t.close()


def run_pyprof_unqueued(*args):
    """(returncode, stdout, stderr, seconds) of `python -m pyprof ARGS`,
    the seconds being its wall time less the time it was runnable but
    waiting for a CPU (the kernel's schedstat of it, read while it is a
    zombie): what it takes on an idle machine, whatever the load beside
    it.  Time it spends sleeping or blocked still counts."""
    with tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "pyprof", *args],
                                stdout=subprocess.PIPE, stderr=err,
                                text=True)
        out = proc.stdout.read()        # EOF: it has exited
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        elapsed = time.monotonic() - started
        with open(f"/proc/{proc.pid}/schedstat") as f:
            queued_ns = int(f.read().split()[1])
        proc.stdout.close()
        proc.wait()
        err.seek(0)
        return proc.returncode, out, err.read(), elapsed - queued_ns / 1e9


def dump_json(pid, *options):
    """(the dump of pid as JSON, its seconds without waiting for a CPU)."""
    rc, out, err, seconds = run_pyprof_unqueued("dump", "--pid", str(pid),
                                                "--json", *options)
    assert rc == 0, err
    return json.loads(out), seconds


def comm(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/comm") as f:
        return f.read().strip()


def test_dump_matches_the_targets_own_stacks(target):
    check_dump(target)


def check_dump(target, *options):
    dump, seconds = dump_json(target.pid, *options)
    # it answers at once: no waiting on the target or on retries
    # (wall time on a loaded machine measured the queue for a CPU)
    assert seconds < 1.0, seconds
    assert dump["python_version"] == target.report["version"]
    threads = {t["native_id"]: t for t in dump["threads"]}
    expected = {int(tid): info for tid, info in
                target.report["threads"].items()}
    assert set(threads) == set(expected)
    for tid, info in expected.items():
        thread = threads[tid]
        assert thread["os_name"] == comm(target.pid, tid)
        assert thread["name"] == info["name"]    # threading's, "MainThread"
        assert thread["is_main"] == (tid == target.pid)
        if info["frames"] is None:      # the spinner
            names = [f["name"] for f in thread["frames"]]
            # inside spin_inner, or (rarely) in spin's own loop between
            # two calls of it
            assert names[-2:] == ["spin", "spin_inner"] \
                or names[-1] == "spin", names
            continue
        got = thread["frames"]
        want = info["frames"]
        # the dump goes on into threading/time internals below the line
        # where the thread blocked; up to there it is the same stack
        assert len(got) >= len(want)
        for mine, theirs in zip(got, want):
            # extract_stack() names co_name, the dump co_qualname (3.11+)
            assert mine["name"].rsplit(".", 1)[-1] == theirs[0]
            assert (mine["filename"], mine["line"]) == (theirs[1], theirs[2])
        assert thread["holds_gil"] is False
        assert thread["running"] is False
    spinner = [t for t in dump["threads"] if t["name"] == "spinner"]
    # pure Python spinning alone: it holds the GIL and is on a CPU
    assert spinner[0]["holds_gil"] is True
    assert spinner[0]["running"] is True


def thread_state(task):
    """The state letter in /proc/PID/task/TID/stat (R, S, t, ...)."""
    with open(task + "/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def thread_states(pid):
    return {int(tid): thread_state(f"/proc/{pid}/task/{tid}")
            for tid in os.listdir(f"/proc/{pid}/task")}


@pytest.mark.parametrize("version", ["3.10", "3.12", "3.14"])
def test_blocking_dump_stops_only_while_reading(version):
    """--blocking ptrace-stops the Python threads for the read: the same
    stacks and states (read before the stop), and afterwards no thread is
    left stopped and the spinner still spins."""
    if version not in PYENV and version < "3.14":
        pytest.skip(f"no CPython {version} under pyenv")
    t = Target(version)
    try:
        for _ in range(3):
            check_dump(t, "--blocking")
        states = thread_states(t.pid)
        assert not any(state in "tT" for state in states.values()), states
        spinner = [int(tid) for tid, info in t.report["threads"].items()
                   if info and info["name"] == "spinner"][0]
        with open(f"/proc/{t.pid}/task/{spinner}/schedstat") as f:
            ran_before = int(f.read().split()[0])
        time.sleep(0.5)
        with open(f"/proc/{t.pid}/task/{spinner}/schedstat") as f:
            # on a loaded machine it may get little CPU, but some
            assert int(f.read().split()[0]) > ran_before + 5_000_000
    finally:
        t.close()


def test_dump_text_is_innermost_last(target):
    result = run_pyprof("dump", "--pid", str(target.pid))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Process {target.pid}:" in out
    assert f"Python v{target.version}." in out
    waiter = out[out.index('"waiter"'):].split("\n\n")[0].splitlines()
    names = [line.split(" (")[0].strip() for line in waiter[1:]]
    assert names.index("wait_forever") < len(names) - 1   # wait() below it
    assert names[0].endswith("_bootstrap")
    assert f'({target.pid})'.strip("()") in out
    gil_lines = [line for line in out.splitlines() if "+gil)" in line]
    assert len(gil_lines) == 1 and '"spinner"' in gil_lines[0]


def py_spy_for(version):
    """py-spy's path, after skipping a version with no CPython here."""
    py_spy = shutil.which("py-spy") or os.path.join(
        os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(py_spy):
        pytest.fail("py-spy is a test dependency (TEST_DEPS): not installed")
    if version not in PYENV and version < "3.14":
        pytest.skip(f"no CPython {version} under pyenv")
    return py_spy


def py_spy_dump(py_spy, pid):
    """`py-spy dump --nonblocking --json` of pid: its list of threads."""
    return json.loads(subprocess.run(
        [py_spy, "dump", "--nonblocking", "--json", "--pid", str(pid)],
        capture_output=True, text=True, check=True, timeout=60,
        env=PLAIN_ENV).stdout)


@pytest.mark.parametrize("version", ["3.10", "3.11", "3.12", "3.13", "3.14"])
def test_dump_agrees_with_py_spy(version):
    py_spy = py_spy_for(version)
    t = Target(version)
    try:
        ours, _ = dump_json(t.pid)
        theirs = py_spy_dump(py_spy, t.pid)
    finally:
        t.close()
    # keyed by pthread id: py-spy leaves os_thread_id empty on 3.10
    ours = {th["thread_id"]: th for th in ours["threads"]}
    theirs = {th["thread_id"]: th for th in theirs}
    assert set(ours) == set(theirs)
    for tid, spy in theirs.items():
        if spy["thread_name"] == "spinner":
            continue                    # its line moves between the dumps
        mine = [(f["name"], f["filename"], f["line"])
                for f in ours[tid]["frames"]]
        spys = [(f["name"], f["filename"], f["line"])
                for f in reversed(spy["frames"])]
        assert mine == spys
        assert ours[tid]["holds_gil"] == spy["owns_gil"]


def test_not_python_is_one_line_error():
    sleeper = subprocess.Popen(["sleep", "10"], env=PLAIN_ENV)
    try:
        result = run_pyprof("dump", "--pid", str(sleeper.pid))
    finally:
        sleeper.kill()
        sleeper.wait()
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"pid {sleeper.pid} (sleep) is not a Python process" in \
        result.stderr


def test_no_such_process():
    probe = subprocess.Popen(["true"], env=PLAIN_ENV)
    probe.wait()        # its pid is free now (and not reused this soon)
    result = run_pyprof("dump", "--pid", str(probe.pid))
    assert result.returncode == 1
    assert result.stderr == f"pyprof dump: no process with pid {probe.pid}\n"


def test_bad_command_line():
    result = run_pyprof("dump")
    assert result.returncode == 2
    assert "--pid PID is required" in result.stderr
    result = run_pyprof("dump", "--pid", "x")
    assert result.returncode == 2


def test_target_exiting_mid_dump_is_a_clean_error():
    """Dump a process again and again while it tears down its threads and
    exits: each dump prints a whole stack or one line, never crashes."""
    code = ("import threading, time\n"
            "def churn():\n"
            "    for _ in range(200):\n"
            "        ts = [threading.Thread(target=time.sleep, args=(0.001,))"
            " for _ in range(8)]\n"
            "        [t.start() for t in ts]; [t.join() for t in ts]\n"
            "print('go', flush=True); churn()\n")
    outcomes = set()
    for _ in range(3):
        proc = subprocess.Popen([PYENV.get("3.12", sys.executable), "-c",
                                 code], stdout=subprocess.PIPE, text=True,
                                env=PLAIN_ENV)
        proc.stdout.readline()
        while proc.poll() is None:
            result = run_pyprof("dump", "--pid", str(proc.pid))
            assert result.returncode in (0, 1), result.stderr
            if result.returncode == 1:
                assert result.stderr.count("\n") == 1, result.stderr
                assert result.stderr.startswith("pyprof dump: ")
                outcomes.add("error")
            else:
                assert "Thread" in result.stdout
                outcomes.add("ok")
        proc.wait()
    assert "ok" in outcomes


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv")
                    or not os.path.exists(f"{SID}/usr/bin/python3.14"),
                    reason="needs root, setpriv and the sid chroot")
def test_another_users_process_names_the_cause():
    """A target running as uid 65534 (python3.14 in the chroot: pyenv's
    pythons live under /root), read by root without CAP_SYS_PTRACE."""
    target = subprocess.Popen(
        ["chroot", "--userspec=65534:65534", SID, "python3.14", "-c",
         "print('up', flush=True); import time; time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, env=PLAIN_ENV)
    try:
        assert target.stdout.readline() == "up\n"
        pid = target.pid    # chroot execs python3.14 in the same process
        result = subprocess.run(
            ["setpriv", "--bounding-set=-sys_ptrace",
             "--inh-caps=-sys_ptrace", sys.executable, "-m", "pyprof",
             "dump", "--pid", str(pid)],
            capture_output=True, text=True, timeout=60)
    finally:
        target.kill()
        target.wait()
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"pyprof dump: permission denied: pid {pid} belongs to uid 65534 "
        "and pyprof runs as root without CAP_SYS_PTRACE; give it the "
        "capability (a container: --cap-add SYS_PTRACE)\n")
