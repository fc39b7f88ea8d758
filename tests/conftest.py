"""Shared helpers for the pytest suite: running pyprof's CLI and loading the
example programs."""
import base64
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROGRAMS = os.path.join(HERE, "programs")

# A suite started in the background by a shell without job control (nohup,
# `cmd &` in a script) inherits SIGINT ignored, and every program it starts
# would too: python then installs no KeyboardInterrupt handler and the Ctrl-C
# tests wait for ever.  The programs must start as from a terminal.  (A
# Python-level handler is reset to the default on exec; an ignored signal
# is not.)
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def load_program(name):
    """Import tests/programs/<name>.py as a fresh module."""
    path = os.path.join(PROGRAMS, name + ".py")
    spec = importlib.util.spec_from_file_location("prog_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_pyprof(*args, **kwargs):
    """Run `python -m pyprof ARGS`, returning the CompletedProcess."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 300)
    return subprocess.run([sys.executable, "-m", "pyprof", *args], **kwargs)


@pytest.fixture
def program():
    return load_program


# -- the reports in headless Chromium (test_view*.py) -----------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="chromium is not installed")


class Browser:
    """Headless Chromium driven over the DevTools protocol (websocket on
    loopback), one page."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pyprof-chromium-")
        env = {k: v for k, v in os.environ.items()
               if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                            "PYTHONMALLOC")}
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-background-networking",
             "--user-data-dir=" + self.dir, "--remote-debugging-port=0",
             "--remote-debugging-address=127.0.0.1",
             "--window-size=1200,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        port_file = os.path.join(self.dir, "DevToolsActivePort")
        deadline = time.monotonic() + 60
        while not os.path.exists(port_file) or \
                len(open(port_file).read().split()) < 2:
            assert time.monotonic() < deadline, "chromium did not start"
            assert self.proc.poll() is None, "chromium exited"
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen(
            "http://127.0.0.1:%d/json/list" % port, timeout=30))
        page = next(t for t in targets if t["type"] == "page")
        import websocket        # test_view*.py skip without it
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"],
                                              timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events = []
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method,
                                 "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                assert "error" not in msg, msg
                return msg.get("result", {})
            self.events.append(msg)
            if msg.get("method") == "Page.javascriptDialogOpening":
                self.ws.send(json.dumps({
                    "id": 10 ** 9, "method": "Page.handleJavaScriptDialog",
                    "params": {"accept": True}}))

    def open(self, path):
        self.events.clear()
        self.call("Page.navigate", url="file://" + os.path.abspath(path))
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired"
                      for e in self.events):
            assert time.monotonic() < deadline, "page did not load"
            self.call("Runtime.evaluate", expression="1")
            time.sleep(0.05)

    def js(self, expression):
        r = self.call("Runtime.evaluate", expression=expression,
                      returnByValue=True)
        assert "exceptionDetails" not in r, r
        return r["result"].get("value")

    def click(self, selector):
        """A real mouse click at the centre of the element."""
        box = self.js("(function(){var r=document.querySelector(%s)"
                      ".getBoundingClientRect();return [r.x+r.width/2,"
                      "r.y+r.height/2];})()" % json.dumps(selector))
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0],
                      y=box[1], button="left", clickCount=1)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png",
                         captureBeyondViewport=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def dialogs(self):
        return [e for e in self.events
                if e.get("method") == "Page.javascriptDialogOpening"]

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    b = Browser()
    yield b
    b.close()


def profile_program(directory, source, name="prog"):
    """`source` written to DIRECTORY/NAME.py and profiled by `pyprof run -o
    NAME.pstats`: the two paths."""
    script = directory / (name + ".py")
    script.write_text(source)
    prof = directory / (name + ".pstats")
    r = run_pyprof("run", "-o", str(prof), str(script))
    assert r.returncode == 0, r.stderr
    return script, prof


def make_report(directory, source, name="prog", *view_args):
    """profile_program's profile drawn by `pyprof view` (NAME.html,
    NAME.svg): the paths of the profile and the two drawings."""
    script, prof = profile_program(directory, source, name)
    html = directory / (name + ".html")
    svg = directory / (name + ".svg")
    r = run_pyprof("view", str(prof), "-o", str(html), "--flamegraph",
                   str(svg), *view_args)
    assert r.returncode == 0, r.stderr
    return {"pstats": str(prof), "html": str(html), "svg": str(svg)}
