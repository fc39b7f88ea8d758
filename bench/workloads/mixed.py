"""Bench workload: a realistic mix, like a small log-processing app.

Generates a deterministic log (seeded random), then: parses it with regular
expressions, builds objects with properties, validates fields with
exceptions raised and caught, streams records through generator pipelines,
sorts with key functions (lambda, attrgetter, str.lower), round-trips
batches through json, and renders a report with %-, str.format and
f-string formatting.  ~0.7 s plain on CPython 3.11 here.
"""
import json
import operator
import random
import re
from collections import Counter, defaultdict

LEVELS = ["DEBUG", "INFO", "INFO", "INFO", "WARNING", "ERROR"]
USERS = ["alice", "bob", "carol", "dave", "eve", "mallory", "trent", "peggy"]
PATHS = ["/", "/login", "/api/items", "/api/items/42", "/static/app.js",
         "/search?q=profiler", "/logout", "/api/users/7"]
LINE_RE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) (?P<level>[A-Z]+) "
    r"user=(?P<user>\w+) path=(?P<path>\S+) ms=(?P<ms>\S+) status=(?P<status>\d+)$")
WORD_RE = re.compile(r"[a-z]+")


def gen_log(n, seed=7):
    rnd = random.Random(seed)
    lines = []
    for i in range(n):
        ms = rnd.choice(["%.1f" % rnd.uniform(0.1, 900.0), "n/a", "-1"]
                        if i % 11 == 0 else ["%.1f" % rnd.uniform(0.1, 900.0)])
        lines.append("2026-11-%02dT%02d:%02d:%02d %s user=%s path=%s ms=%s status=%d" % (
            1 + i % 28, i % 24, i % 60, (i * 7) % 60, rnd.choice(LEVELS),
            rnd.choice(USERS), rnd.choice(PATHS), ms, rnd.choice([200, 200, 200, 304, 404, 500])))
    return lines


class BadRecord(ValueError):
    pass


class Record:
    __slots__ = ("ts", "level", "user", "path", "_ms", "status")

    def __init__(self, ts, level, user, path, ms, status):
        self.ts, self.level, self.user, self.path = ts, level, user, path
        self.ms = ms
        self.status = int(status)

    @property
    def ms(self):
        return self._ms

    @ms.setter
    def ms(self, value):
        v = float(value)            # ValueError for "n/a"
        if v < 0:
            raise BadRecord("negative duration %r" % value)
        self._ms = v

    @property
    def is_error(self):
        return self.status >= 500 or self.level == "ERROR"

    @property
    def endpoint(self):
        return self.path.split("?", 1)[0].rstrip("/") or "/"


def parse(lines):
    for line in lines:
        m = LINE_RE.match(line)
        if m is None:
            continue
        try:
            yield Record(**m.groupdict())
        except (ValueError, BadRecord):
            continue


def slow_only(records, limit):
    return (r for r in records if r.ms > limit)


def json_roundtrip(records, batch=500):
    out = []
    buf = []
    for r in records:
        buf.append({"ts": r.ts, "level": r.level, "user": r.user,
                    "path": r.path, "ms": r.ms, "status": r.status})
        if len(buf) == batch:
            out.extend(json.loads(json.dumps(buf)))
            buf = []
    out.extend(json.loads(json.dumps(buf)))
    return out


def report(records):
    by_endpoint = defaultdict(list)
    for r in records:
        by_endpoint[r.endpoint].append(r.ms)
    rows = []
    for ep, values in sorted(by_endpoint.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        values.sort()
        p50 = values[len(values) // 2]
        rows.append("{:<20} {:>7d} {:>9.1f}".format(ep, len(values), p50))
        rows.append(f"{ep!r:>22} max={values[-1]:.2f} mean={sum(values) / len(values):.3f}")
    return "\n".join(rows)


def main():
    lines = gen_log(60_000)
    records = list(parse(lines))
    records.sort(key=operator.attrgetter("ms"))
    records.sort(key=lambda r: (r.user, -r.status))
    errors = sum(1 for r in records if r.is_error)
    slow = list(slow_only(records, 500.0))
    users = sorted(Counter(r.user for r in slow).items(), key=lambda kv: kv[0].lower())
    dicts = json_roundtrip(records)
    words = Counter(w for d in dicts for w in WORD_RE.findall(d["path"]))
    text = report(records)
    formatted = ["%s|%-8s|%6.1f" % (d["user"], d["level"], d["ms"]) for d in dicts]
    formatted.sort(key=str.lower)
    result = (len(records), errors, len(slow), users[0], words.most_common(2),
              len(text), formatted[0])
    assert result == (56390, 17276, 25242, ("alice", 3061),
                      [("api", 21241), ("items", 14203)], 687,
                      "alice|DEBUG   |   0.2"), result
    return result


if __name__ == "__main__":
    main()
