"""A target for the thread-name tests, started by them as a sibling.

Threads named by threading.Thread(name=...): a short name, one longer than
the 15 bytes an OS thread name holds, a non-ASCII one, one renamed by the
main thread after it started (its OS name, where CPython sets one, stays
the old), and a Thread subclass whose __dict__ was taken (so its
attributes live in a real dict, not in values kept by the object).  The
OS names are left as CPython leaves them.  Once every thread waits, one
JSON line gives threading.enumerate()'s idents, native ids and names.
"""
import ctypes
import json
import sys
import threading
import time

STOP = threading.Event()


class Worker(threading.Thread):
    def run(self):
        STOP.wait()


def main():
    try:        # Yama ptrace_scope 1: let any process of ours attach
        ctypes.CDLL(None).prctl(0x59616d61, ctypes.c_ulong(-1), 0, 0, 0)
    except Exception:
        pass
    ready = threading.Barrier(6)

    def wait():
        ready.wait()
        STOP.wait()

    threads = [threading.Thread(target=wait, name=name, daemon=True)
               for name in ("worker-a", "a-rather-long-worker-name",
                            "w\u00f6rker-\u00fc\u4e2d", "before-rename")]
    sub = Worker(name="subclass-worker", daemon=True)
    vars(sub)["extra"] = 1
    sub.run = wait
    for thread in threads + [sub]:
        thread.start()
    ready.wait()
    threads[3].name = "after-rename"
    time.sleep(0.1)
    print(json.dumps({
        "main": threading.get_native_id(),
        "version": "%d.%d.%d" % sys.version_info[:3],
        "threads": [{"ident": t.ident, "native_id": t.native_id,
                     "name": t.name} for t in threading.enumerate()],
    }), flush=True)
    time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 60)


if __name__ == "__main__":
    main()
