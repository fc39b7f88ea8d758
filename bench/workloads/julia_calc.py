"""Bench workload (memory): julia.py with @profile on calc_point_val (every call).

The blog's Julia set ("Profiling the performance - Python").

A self-contained copy of examples/julia_set.py's algorithm, same constants
(bounds +-1.8, width 100, at most 254 iterations): ~10k Python calls, ~2.3M
executed lines, float arithmetic, one list.append per point.  Deterministic.
"""

import os

# PYPROF_BENCH_SCALE (bench/run.py --scale) shrinks the work, for runs under
# valgrind: the point count scales by it (the width by its square root).
SCALE = float(os.environ.get("PYPROF_BENCH_SCALE", "1"))

try:                        # the decorator memory_profiler / pyprof inject
    profile
except NameError:
    def profile(func):
        return func


def create_inputs():
    x_start, x_end = -1.8, 1.8
    y_start, y_end = -1.8, 1.8
    width = max(1, round(100 * SCALE ** 0.5))
    x_vals = list()
    y_vals = list()
    x_step = (x_end - x_start) / width
    y_step = (y_end - y_start) / width
    x_val = x_start
    while x_val <= x_end:
        x_vals.append(x_val)
        x_val += x_step
    y_val = y_start
    while y_val <= y_end:
        y_vals.append(y_val)
        y_val += y_step
    return x_vals, y_vals


def jset():
    x_vals, y_vals = create_inputs()
    threshold = 2
    max_iters = 254
    x_center = -0.62772
    y_center = -0.42193
    output_vals = list()
    for x_val in x_vals:
        for y_val in y_vals:
            output_vals.append(
                calc_point_val(x_val, y_val, threshold, max_iters, x_center, y_center))
    return output_vals


@profile
def calc_point_val(x_val, y_val, thresh, max_iters, x_center, y_center):
    no_iter = 0
    while True:
        val = ((x_val ** 2 + y_val ** 2) ** (1/2))
        if val < thresh:
            no_iter += 1
            val = val + ((x_center ** 2 + y_center ** 2) ** (1/2))
        else:
            break
        if no_iter >= max_iters:
            break
    return no_iter


def main():
    out = jset()
    assert SCALE != 1 or (len(out), sum(out)) == (10000, 2278634), (len(out), sum(out))
    return out


if __name__ == '__main__':
    main()
