"""Functions with known allocations under @profile, for `pyprof memory`
(tests find lines through the MARK comments)."""


@profile
def build(n):
    big = [0] * n                               # MARK big_list
    text = b"x" * (n * 2)                       # MARK big_bytes
    grown = []
    for i in range(n // 8):
        grown.append(i)                         # MARK appends
    small = [str(i) for i in range(20000)]      # MARK strings
    del big                                     # MARK free_big
    return text, grown, small


@profile
def hundred_mb():
    data = [None] * (100 * 1024 * 1024 // 8)    # MARK list_100mb
    total = len(data)
    del data                                    # MARK free_100mb
    return total


if __name__ == "__main__":
    keep = build(1_000_000)
    hundred_mb()
