"""A target for `pyprof dump`, started by the tests as a sibling process.

Threads with known stacks: two deadlocked on each other's lock, one waiting
on an event, one spinning in pure Python (it holds the GIL nearly always),
and the main thread sleeping.  Each blocked thread records its own
traceback.extract_stack() on the very line where it blocks, names its OS
thread as threading names it (what /proc/PID/task/TID/comm shows), and the
whole picture is printed as one JSON line once every thread is in place.
"""
import ctypes
import json
import sys
import threading
import time
import traceback

STACKS = {}
PLACED = threading.Barrier(5)
FIRST, SECOND = threading.Lock(), threading.Lock()
NEVER = threading.Event()
PR_SET_NAME = 15


def name_os_thread():
    """Give the OS thread the threading name (as 3.14+ does itself)."""
    name = threading.current_thread().name.encode()[:15]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)


def record():
    stack = traceback.extract_stack()[:-1]  # without record() itself
    STACKS[threading.get_native_id()] = {
        "name": threading.current_thread().name,
        "frames": [[f.name, f.filename, f.lineno] for f in stack],
    }


def take_both(mine, theirs):
    name_os_thread()
    with mine:
        PLACED.wait()
        record(); theirs.acquire()  # noqa: E702 -- the same line on purpose


def wait_forever():
    name_os_thread()
    PLACED.wait()
    record(); NEVER.wait()  # noqa: E702


def spin_inner(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def spin():
    name_os_thread()
    PLACED.wait()
    STACKS[threading.get_native_id()] = {
        "name": threading.current_thread().name, "frames": None}
    while True:
        spin_inner(1000)


def wait_until_recorded(threads, timeout=60):
    """Until every thread is past record() (a fixed sleep was too short
    on a loaded machine).  Whether each is asleep where it blocks the
    test asks the kernel: a chroot may have no /proc."""
    deadline = time.monotonic() + timeout
    while not all(t.native_id in STACKS for t in threads):
        if time.monotonic() > deadline:
            sys.exit("sampled_target: threads not in place after %d s"
                     % timeout)
        time.sleep(0.005)


def main():
    threads = [
        threading.Thread(target=take_both, args=(FIRST, SECOND),
                         name="deadlock-a", daemon=True),
        threading.Thread(target=take_both, args=(SECOND, FIRST),
                         name="deadlock-b", daemon=True),
        threading.Thread(target=wait_forever, name="waiter", daemon=True),
        threading.Thread(target=spin, name="spinner", daemon=True),
    ]
    for thread in threads:
        thread.start()
    PLACED.wait()
    wait_until_recorded(threads)
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    record(); report(); time.sleep(seconds)  # noqa: E702


def report():
    version = "%d.%d.%d" % sys.version_info[:3]
    print(json.dumps({"main": threading.get_native_id(), "threads": STACKS,
                      "version": version}), flush=True)


if __name__ == "__main__":
    main()
