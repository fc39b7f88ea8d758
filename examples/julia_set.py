"""The Julia set from the blog post "Profiling the performance - Python":
same algorithm, same constants (width 100, at most 254 iterations), so
profiles of it compare with the post's numbers.  Run it plainly, or under
`pyprof run`, `pyprof time`, `python -m cProfile`."""


def create_inputs():
    # Set bounds
    x_start, x_end = -1.8, 1.8
    y_start, y_end = -1.8, 1.8
    # Set width of data
    width = 100
    # Empty holder for values
    x_vals = list()
    y_vals = list()
    # Calculate difference between points
    x_step = (x_end - x_start) / width
    y_step = (y_end - y_start) / width
    # Calculate values
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
    # Get input values
    x_vals, y_vals = create_inputs()
    # Set parameters
    threshold = 2
    max_iters = 254
    x_center = -0.62772
    y_center = -0.42193
    # Empty holder for output
    output_vals = list()
    # Calculate output for each point
    for x_val in x_vals:
        for y_val in y_vals:
            output_vals.append(
                calc_point_val(x_val, y_val, threshold, max_iters, x_center, y_center))


def calc_point_val(x_val, y_val, thresh, max_iters, x_center, y_center):
    # Iteration number
    no_iter = 0
    # Start iterations
    while True:
        # Calculate point value
        val = ((x_val ** 2 + y_val ** 2) ** (1/2))
        # Check threshold
        if val < thresh:
            no_iter += 1
            val = val + ((x_center ** 2 + y_center ** 2) ** (1/2))
        # Break if greater than threshold
        else:
            break
        # Break if iterations complete
        if no_iter >= max_iters:
            break
    return no_iter


def main():
    # Call main function
    jset()


if __name__ == '__main__':
    main()
