"""The truth for `pyprof lines` hit counts: a sys.settrace line counter.

Run as `python lines_oracle.py OUT.json script.py [args]`: provides the
`profile` builtin (it records the decorated functions' code objects, and
the code objects nested in them, and returns the function unchanged),
counts every 'line' event of those code objects in every thread with
sys.settrace/threading.settrace, and writes {"file:line": hits}.
"""
import builtins
import json
import runpy
import sys
import threading

selected = set()
counts = {}


def collect(code):
    selected.add(code)
    for const in code.co_consts:
        if isinstance(const, type(code)):
            collect(const)


def profile(func):
    target = func
    for attr in ("__func__", "__wrapped__"):
        target = getattr(target, attr, target)
    collect(target.__code__)
    return func


def local_trace(frame, event, arg):
    if event == "line":
        key = "%s:%d" % (frame.f_code.co_filename, frame.f_lineno)
        counts[key] = counts.get(key, 0) + 1
    return local_trace


def global_trace(frame, event, arg):
    if frame.f_code in selected:
        return local_trace
    return None


def main():
    out = sys.argv[1]
    sys.argv = sys.argv[2:]
    builtins.profile = profile
    threading.settrace(global_trace)
    sys.settrace(global_trace)
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    finally:
        sys.settrace(None)
        threading.settrace(None)
        with open(out, "w") as f:
            json.dump(counts, f)


if __name__ == "__main__":
    main()
