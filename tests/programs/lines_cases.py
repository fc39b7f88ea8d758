"""Every construct the line profiler must attribute right, each in a
function decorated with the `profile` builtin (`pyprof lines` and the
test's sys.settrace oracle both provide it).  Deterministic."""
import asyncio
import threading


@profile
def loop_with_break(n):
    total = 0
    for i in range(n):
        if i % 7 == 3:
            continue
        total += i
        if total > 400:
            break
    while True:
        total -= 1
        if total < 350: break
    return total


@profile
def generator(n):
    for i in range(n):
        if i % 2:
            yield i * i
        else:
            yield -i
    yield 0


@profile
def comprehensions(n):
    squares = [i * i for i in range(n)]
    evens = {i for i in squares if i % 2 == 0}
    table = {i: str(i)
             for i in range(n)}
    total = sum(x for x in squares
                if x > 3)
    return len(evens) + len(table) + total


@profile
def lambdas(items):
    key = lambda item: (item % 5,
                        -item)
    ordered = sorted(items, key=key)
    doubled = list(map(lambda x: x * 2, ordered))
    return doubled[0]


@profile
def recursive(n):
    if n <= 1:
        return 1
    left = recursive(n - 1)
    right = recursive(n - 2)
    return left + right


class Guard:
    def __init__(self):
        self.entered = 0

    def __enter__(self):
        self.entered += 1
        return self

    def __exit__(self, *exc):
        return True  # swallow


@profile
def exceptions_and_with(n):
    caught = 0
    for i in range(n):
        try:
            if i % 3 == 0:
                raise ValueError(i)
            caught -= 1
        except ValueError:
            caught += 2
        finally:
            caught += 1
    with Guard() as guard:
        caught += guard.entered
        raise KeyError("swallowed by Guard")
    return caught


@profile
def raises(n):
    value = n * 2
    if value > 5:
        raise RuntimeError("escapes")
    return value


@profile
async def coroutine(n):
    total = 0
    for i in range(n):
        await asyncio.sleep(0)
        total += i
    return total


@profile
def nested_function(n):
    def helper(x):
        return x + 1
    out = 0
    for i in range(n):
        out = helper(out)
    return out


class Shapes:
    @profile
    def method(self, n):
        acc = 0
        for i in range(n):
            acc += i
        return acc

    @profile
    @staticmethod
    def static(n):
        return n * 3


@profile
def in_thread(n, out):
    acc = 0
    for i in range(n):
        acc += i * i
    out.append(acc)


@profile
def never_called(x):
    return x + 1


def main():
    loop_with_break(100)
    total = 0
    for value in generator(9):
        total += value
    comprehensions(12)
    lambdas(list(range(15)))
    recursive(8)
    exceptions_and_with(10)
    try:
        raises(4)
    except RuntimeError:
        pass
    asyncio.run(coroutine(4))
    nested_function(6)
    Shapes().method(7)
    Shapes.static(2)
    out = []
    threads = [threading.Thread(target=in_thread, args=(50 + k, out))
               for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return total


if __name__ == "__main__":
    main()
