"""Bench workload: a CPU loop under a 12-deep Python stack, ~20 ms a call.

For the sampling bench (bench/sampling.py): main() is short, so a run of
0.5 s and one of 2 s differ by many samples and the sampler CPU per sample
without start-up (the difference of the two) is precise; the stack is as
deep as a typical application's.  Deterministic.
"""

DEPTH = 12


def spin(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def nest(depth, n):
    if depth == 0:
        return spin(n)
    return nest(depth - 1, n)


def main():
    return nest(DEPTH, 150000)


if __name__ == "__main__":
    main()
