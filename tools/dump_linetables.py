"""Print the line of every instruction of some code, as CPython itself says.

For the plain-C line-table decoder's tests (tests/c/test_sampler.c): run
with each CPython 3.10-3.15, output to tests/c/data/linetables-3.X.txt.
One record per code object:

    code FIRSTLINENO HEX-OF-CO_LINETABLE
    OFFSET LINE ...           (byte offset of each instruction, -1: no line)

The lines come from code.co_lines(), which reads the same table through
CPython's own decoder.
"""
import sys

SOURCE = '''
import os
def simple(a, b):
    return a + b

def branches(x):
    if x > 3:
        y = x * 2
    elif x < -100:
        y = 0
    else:
        y = (x +
             1)
    for i in range(3):
        try:
            y += i
        except ZeroDivisionError:
            pass
        finally:
            y -= 1
    while y > 100000:
        y //= 2
    return y

class K:
    def method(self):
        return [i * i for i in range(10)
                if i % 2]

    async def coro(self):
        await other()

def gen():
    yield 1
    yield from range(3)

def far():
    x = 1
''' + "\n" * 300 + '''    x = 2
    return (lambda q: q + x)(
        3)
'''


def codes(code):
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_lines"):
            yield from codes(const)


def main():
    import json.decoder
    roots = [compile(SOURCE, "<linetables>", "exec")]
    for module in (json.decoder,):
        with open(module.__file__) as f:
            roots.append(compile(f.read(), module.__file__, "exec"))
    out = sys.stdout
    for root in roots:
        for code in codes(root):
            out.write("code %d %s\n" % (code.co_firstlineno,
                                        code.co_linetable.hex() or "-"))
            pairs = []
            for start, end, line in code.co_lines():
                for offset in range(start, end, 2):
                    pairs.append("%d %d" % (offset,
                                            -1 if line is None else line))
            out.write(" ".join(pairs) + "\n")


main()
