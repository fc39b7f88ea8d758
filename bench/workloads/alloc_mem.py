"""Bench workload (memory): alloc.py with @profile on main().

Allocation-heavy.

Builds and drops many lists, dicts, tuples, sets, strings, bytes and class
instances of varied sizes (tiny to ~100k elements), including reference
cycles so the cyclic GC runs.  Sizes come from a seeded random.Random, so
every run allocates the same things.  ~0.6 s plain on CPython 3.11 here.
"""
import os
import random

# PYPROF_BENCH_SCALE (bench/run.py --scale) shrinks the work, for runs under
# valgrind: every count below is multiplied by it.
SCALE = float(os.environ.get("PYPROF_BENCH_SCALE", "1"))


class Node:
    def __init__(self, key, payload):
        self.key = key
        self.payload = payload
        self.next = None


class Slotted:
    __slots__ = ("a", "b", "c")

    def __init__(self, a, b, c):
        self.a, self.b, self.c = a, b, c


def small_objects(rnd, n):
    # Many short-lived small containers and instances.
    keep = 0
    for i in range(n):
        t = (i, i + 1, str(i))
        lst = [i] * (i & 7)
        d = {"k": i, "v": t, "l": lst}
        s = Slotted(t, lst, d)
        keep += len(s.b) + len(d)
    return keep


def varied_lists(rnd, n):
    total = 0
    for _ in range(n):
        size = int(rnd.expovariate(1 / 200)) + 1
        lst = list(range(size))
        lst2 = [x * 2 for x in lst]
        tup = tuple(lst2)
        total += len(tup) + sum(lst2[:3])
    return total


def dicts_and_sets(rnd, n):
    total = 0
    for i in range(n):
        size = rnd.randint(1, 300)
        d = {j: j * j for j in range(size)}
        s = set(d.values())
        inv = {v: k for k, v in d.items()}
        total += len(s) + len(inv)
    return total


def strings(rnd, n):
    total = 0
    parts = []
    for i in range(n):
        w = "w%d" % i
        parts.append(w.upper() + "-" + w[::-1])
        if len(parts) >= 500:
            blob = ",".join(parts)
            total += len(blob.split(",")) + len(blob.encode())
            parts = []
    return total


def linked_cycles(rnd, n):
    # Rings of nodes: reference cycles only the cyclic GC can free.
    total = 0
    for r in range(n):
        ring_len = rnd.randint(10, 200)
        head = prev = Node(0, [r])
        for k in range(1, ring_len):
            node = Node(k, {"r": r, "k": k})
            prev.next = node
            prev = node
        prev.next = head
        total += ring_len
    return total


def big_blocks(rnd, n):
    total = 0
    for i in range(n):
        a = [None] * 100_000
        b = bytearray(200_000 + i)
        c = list(range(50_000))
        total += len(a) + len(b) + len(c)
    return total


try:                        # the decorator memory_profiler / pyprof inject
    profile
except NameError:
    def profile(func):
        return func


@profile
def main():
    rnd = random.Random(20261125)
    out = [
        small_objects(rnd, max(1, int(250_000 * SCALE))),
        varied_lists(rnd, max(1, int(15_000 * SCALE))),
        dicts_and_sets(rnd, max(1, int(6_000 * SCALE))),
        strings(rnd, max(1, int(300_000 * SCALE))),
        linked_cycles(rnd, max(1, int(3_000 * SCALE))),
        big_blocks(rnd, max(1, int(120 * SCALE))),
    ]
    assert SCALE != 1 or out == [1625000, 3141563, 1795558, 4877180, 316960, 42007140], out
    return out


if __name__ == "__main__":
    main()
