"""pyprof top in a real terminal (tmux): the live table shows what the
target runs, `q` and Ctrl-C quit, and the terminal's modes are restored
(stty says so), also when the target exits."""
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import pytest

from test_record import start_sibling

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux not installed")

# The pane runs top, then prints the terminal's modes and top's status.
# A tmux server already running gives its panes its own environment, so the
# sanitizer settings of `make test-asan` are passed on explicitly.
PASSED_ENV = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONMALLOC")
PANE = ("{env}{python} -m pyprof top --pid {pid}; echo EXIT=$?; "
        "stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo "
        "-e -echo; sleep 60")


def capture(session):
    return subprocess.run(["tmux", "capture-pane", "-t", session, "-p"],
                          capture_output=True, text=True).stdout


def wait_for(session, pattern, seconds=15):
    deadline = time.time() + seconds
    text = ""
    while time.time() < deadline:
        text = capture(session)
        if re.search(pattern, text, re.M):
            return text
        time.sleep(0.2)
    raise AssertionError("no %r in:\n%s" % (pattern, text))


def pane_env():
    names = [n for n in PASSED_ENV if os.environ.get(n)]
    if not names:
        return ""
    return "env " + " ".join("%s=%s" % (n, shlex.quote(os.environ[n]))
                             for n in names) + " "


@pytest.fixture
def pane(tmp_path):
    sib = start_sibling(tmp_path, 60)
    session = "pyprof-top-%d" % os.getpid()
    subprocess.run(["tmux", "kill-session", "-t", session],
                   capture_output=True)
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120",
                    "-y", "30", PANE.format(env=pane_env(),
                                            python=sys.executable,
                                            pid=sib.pid)], check=True)
    yield session, sib
    subprocess.run(["tmux", "kill-session", "-t", session],
                   capture_output=True)
    sib.kill()
    sib.wait()


def check_restored(text):
    assert re.search(r"^icanon$", text, re.M), text
    assert re.search(r"^echo$", text, re.M), text


def test_table_then_q(pane):
    session, sib = pane
    text = wait_for(session, r"spin_here \(.*sibling\.py:\d+\)")
    assert "pyprof top: pid %d" % sib.pid in text
    own = float(re.search(r"^\s*([\d.]+)\s+[\d.]+\s+spin_here ", text,
                          re.M).group(1))
    assert own > 50, text
    subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
    text = wait_for(session, r"^-?echo$", 5)
    assert "EXIT=0" in text
    check_restored(text)
    assert sib.poll() is None


def test_ctrl_c_restores_terminal(pane):
    session, sib = pane
    wait_for(session, r"spin_here")
    subprocess.run(["tmux", "send-keys", "-t", session, "C-c"], check=True)
    text = wait_for(session, r"^-?echo$", 5)
    check_restored(text)


def test_target_exit(pane):
    session, sib = pane
    wait_for(session, r"spin_here")
    sib.kill()
    sib.wait()
    text = wait_for(session, r"^-?echo$", 10)
    assert "pyprof top: process %d exited" % sib.pid in text
    check_restored(text)
