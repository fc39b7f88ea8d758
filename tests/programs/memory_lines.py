"""Lines with known allocations, for the memory tests (line numbers are
referenced by the tests through the MARK comments)."""


def build(n):
    big = [0] * n                               # MARK big_list
    text = b"x" * (n * 2)                       # MARK big_bytes
    grown = []
    for i in range(n // 8):
        grown.append(i)                         # MARK appends
    small = [str(i) for i in range(20000)]      # MARK strings
    del big                                     # MARK free_big
    return text, grown, small


def make_records(n):
    class Record:
        def __init__(self, i):
            self.i = i
    return [Record(i) for i in range(n)]        # MARK records


if __name__ == "__main__":
    build(1_000_000)
