"""Bench workload: the blog's Julia set ("Profiling the performance - Python").

A self-contained copy of examples/julia_set.py's algorithm, same constants
(bounds +-1.8, width 100, at most 254 iterations): ~10k Python calls, ~2.3M
executed lines, float arithmetic, one list.append per point.  Deterministic.
"""


def create_inputs():
    x_start, x_end = -1.8, 1.8
    y_start, y_end = -1.8, 1.8
    width = 100
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
    assert (len(out), sum(out)) == (10000, 2278634), (len(out), sum(out))
    return out


if __name__ == '__main__':
    main()


def units():
    """Small pieces of main() for bench/slowdown.py: three columns of the
    set (x fixed, every y), 10-50 ms each, as (label, callable)."""
    x_vals, y_vals = create_inputs()

    def column(x_val):
        return [calc_point_val(x_val, y_val, 2, 254, -0.62772, -0.42193)
                for y_val in y_vals]
    return [("column %d" % i, lambda x=x_vals[i]: column(x))
            for i in (25, 50, 75)]
