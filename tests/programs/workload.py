"""A small program touching every kind of call a profiler must count:
recursion (direct and mutual), generators, coroutines, methods, C
functions and methods, key functions called from C, exceptions."""
import asyncio
import re


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def ping(n):
    if n:
        pong(n - 1)


def pong(n):
    if n:
        ping(n - 1)


def countdown(n):
    while n:
        yield n
        n -= 1


class Shape:
    def __init__(self, side):
        self.side = side

    @property
    def area(self):
        return self.side * self.side

    def grow(self, by):
        self.side += by
        return self


def fails(i):
    if i % 3 == 0:
        raise ValueError(i)
    return i


async def tick(i):
    await asyncio.sleep(0)
    return i * 2


async def gather_ticks(n):
    return sum(await asyncio.gather(*(tick(i) for i in range(n))))


def main():
    fib(12)
    ping(9)
    total = sum(countdown(50)) + len(list(countdown(7)))
    shapes = [Shape(i) for i in range(200)]
    total += sum(s.grow(1).area for s in shapes)
    shapes.sort(key=lambda s: -s.area)
    words = re.findall(r"\w+", "the quick brown fox jumps over the lazy dog " * 20)
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    caught = 0
    for i in range(30):
        try:
            fails(i)
        except ValueError:
            caught += 1
    total += asyncio.run(gather_ticks(5))
    return total, caught, len(counts)


if __name__ == "__main__":
    print(main())
