"""pyprof.memory_usage against memory_profiler.memory_usage (the oracle:
same call, same process) and against the memory a call really touches."""
import mmap
import os
import subprocess
import sys
import time

import pytest

import pyprof

memory_profiler = pytest.importorskip("memory_profiler")

MIB = 1 << 20

# Under AddressSanitizer the process's RSS also holds ASan's quarantine of
# freed memory, which grows between two back-to-back measurements: the
# two tools' absolute peaks are then not comparable (the growth is).
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


def touch(n_mib, hold=0.3):
    # A fresh anonymous mapping, every page written: RSS grows by n_mib
    # whatever the heap already holds from earlier tests.
    with mmap.mmap(-1, n_mib * MIB) as block:
        for offset in range(0, len(block), 4096):
            block[offset] = 1
        time.sleep(hold)
        return len(block)


def test_call_peak_agrees_with_memory_profiler():
    ours, ret = pyprof.memory_usage((touch, (120,)), interval=0.02,
                                    max_usage=True, retval=True)
    theirs = memory_profiler.memory_usage((touch, (120,)), interval=0.02,
                                          max_usage=True)
    assert ret == 120 * MIB
    if not UNDER_ASAN:
        assert abs(ours - theirs) < 8, (ours, theirs)
    base = pyprof.memory_usage()[0]
    assert ours - base > 110


def test_call_samples_and_timestamps():
    start = time.time()
    samples = pyprof.memory_usage((touch, (40,), {"hold": 0.3}),
                                  interval=0.05, timestamps=True)
    end = time.time()
    assert len(samples) >= 5
    times = [t for m, t in samples]
    assert times == sorted(times)
    assert start - 0.01 <= times[0] and times[-1] <= end + 0.01
    assert max(m for m, t in samples) - samples[0][0] > 35


def test_this_process_once_and_with_timeout():
    (once,) = pyprof.memory_usage(-1)
    (theirs,) = memory_profiler.memory_usage(-1)
    assert abs(once - theirs) < 4
    t0 = time.monotonic()
    samples = pyprof.memory_usage(-1, interval=0.05, timeout=0.3)
    assert time.monotonic() - t0 >= 0.3
    assert 4 <= len(samples) <= 9


def test_other_process_until_it_ends():
    child = subprocess.Popen([sys.executable, "-c",
        "import time; a = bytearray(60 << 20); a[::4096] = b'x' * "
        "len(a[::4096]); time.sleep(0.5)"])
    try:
        peak = pyprof.memory_usage(child.pid, interval=0.05, max_usage=True,
                                   timeout=20)
    finally:
        child.wait()
    assert peak > 60


def test_errors():
    with pytest.raises(ValueError):
        pyprof.memory_usage(interval=0)
    with pytest.raises(ValueError):
        pyprof.memory_usage(interval=-1)
    with pytest.raises(TypeError):
        pyprof.memory_usage("nope")
    with pytest.raises(ProcessLookupError):
        pyprof.memory_usage(2 ** 22 + 12345)

    def boom():
        raise KeyError("x")
    with pytest.raises(KeyError):
        pyprof.memory_usage(boom)
