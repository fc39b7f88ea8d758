"""Bench workload: call-heavy.

Deep recursion (a depth-700 linear recursion, Ackermann A(2, n)), branchy
recursion (fib), and hundreds of thousands of tiny Python function calls,
Python method calls, and C function / C method calls (len, list.append,
dict.get, str.join, min).  This is where a profiler's per-call cost shows.
Deterministic; ~0.6 s plain on CPython 3.11 here.
"""
import sys

DEPTH = 700          # deepest Python stack reached (plus a few driver frames)


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def down(n):
    # Linear recursion DEPTH deep; every frame returns through all the others.
    if n == 0:
        return 0
    return 1 + down(n - 1)


def ack(m, n):
    # Ackermann A(2, n) = 2n + 3: recursion ~2n deep, ~2n^2 calls.
    if m == 0:
        return n + 1
    if n == 0:
        return ack(m - 1, 1)
    return ack(m - 1, ack(m, n - 1))


def tiny(a, b):
    return a + b


def ident(x):
    return x


class Counter:
    __slots__ = ("n", "seen")

    def __init__(self):
        self.n = 0
        self.seen = {}

    def bump(self, k):
        self.n += 1
        self.seen[k] = self.seen.get(k, 0) + 1
        return self.n

    @staticmethod
    def twice(x):
        return x * 2


def call_loop(n):
    total = 0
    c = Counter()
    out = []
    d = {}
    for i in range(n):
        total = tiny(total, ident(i))          # 2 Python calls
        total += c.bump(i & 15)                # Python method, dict.get inside
        total += Counter.twice(i & 3)          # staticmethod
        out.append(i)                          # C method
        total += len(out) & 1                  # C function
        d.get(i & 255)                         # C method
        if len(out) > 64:
            out.clear()
    return total


def c_calls(n):
    # Mostly C-level calls from a Python loop.
    words = ["a", "bb", "ccc", "dddd"]
    acc = 0
    for i in range(n):
        acc += len(",".join(words))
        acc += min(i, 7)
        acc += abs(-i) & 1
        acc += isinstance(i, int)
    return acc


def main():
    if sys.getrecursionlimit() < DEPTH + 200:
        sys.setrecursionlimit(DEPTH + 200)
    out = []
    for _ in range(10):                 # 10 x 242785 calls
        out.append(fib(25))
    for _ in range(1200):               # 1200 x 701 calls, 700 deep
        out.append(down(DEPTH))
    for _ in range(3):                  # 3 x ~181k calls, ~600 deep
        out.append(ack(2, 300))
    out.append(call_loop(800_000))      # 800k x (5 Python + 4 C calls)
    out.append(c_calls(500_000))        # 500k x 4 C calls
    assert out[0] == 75025 and out[10] == DEPTH and out[-3] == 603, out[:12]
    return out


def units():
    """Small pieces of main() for bench/slowdown.py, 10-50 ms each, as
    (label, callable)."""
    if sys.getrecursionlimit() < DEPTH + 200:
        sys.setrecursionlimit(DEPTH + 200)
    return [("fib", lambda: fib(24)),
            ("down", lambda: [down(DEPTH) for _ in range(40)]),
            ("ack", lambda: ack(2, 200)),
            ("call_loop", lambda: call_loop(12_000)),
            ("c_calls", lambda: c_calls(12_000))]


if __name__ == "__main__":
    main()
