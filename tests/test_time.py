"""`pyprof time`: a whole program timed as IPython's %timeit and %time do.

The printed lines must parse as IPython prints them, the loop count must
be chosen as %timeit's autorange chooses it, -n / -r / -q must be honoured,
and the numbers must be real: a sleeping program's wall time covers the
sleep while its CPU time does not.  Where IPython is installed, its own
_format_time and TimeitResult are the oracle for the formatting.
"""
import math
import os
import re
import subprocess
import sys
import textwrap

import pytest

CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "pyprof")
LAUNCHERS = {
    "python -m pyprof": [sys.executable, "-m", "pyprof"],
    "pyprof": [CONSOLE_SCRIPT],
}

# Micro is the Greek mu, as IPython 8 and 9 print it (not U+00B5).
UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "\u03bcs": 1e-6, "us": 1e-6,
                "ns": 1e-9}
# IPython's _format_time: "%.3g <unit>", or "1min 5s" from a minute on.
TIME = (r"(?:-?[\d.]+(?:e[+-]\d+)? (?:s|ms|\u03bcs|us|ns)"
        r"|\d+(?:d|h|min|s)(?: \d+(?:h|min|s))*)")
PM = r"(?:\u00b1|\+-)"
TIMEIT_LINE = re.compile(
    rf"^(?P<mean>{TIME}) {PM} (?P<std>{TIME}) per loop \(mean {PM} std\. "
    rf"dev\. of (?P<runs>\d+) runs?, (?P<loops>[\d,]+) loops? each\)$", re.M)
BEST_LINE = re.compile(rf"^best of (?P<runs>\d+): (?P<best>{TIME}) per loop$",
                       re.M)
CPU_LINE = re.compile(rf"^CPU times: user (?P<user>{TIME}), sys: "
                      rf"(?P<sys>{TIME}), total: (?P<total>{TIME})$", re.M)
WALL_LINE = re.compile(rf"^Wall time: (?P<wall>{TIME})$", re.M)


def seconds(text):
    """The number of seconds a _format_time string stands for."""
    match = re.fullmatch(r"(-?[\d.]+(?:e[+-]\d+)?) (\S+)", text)
    if match:
        return float(match[1]) * UNIT_SECONDS[match[2]]
    lengths = {"d": 86400, "h": 3600, "min": 60, "s": 1}
    return sum(int(n) * lengths[u]
               for n, u in re.findall(r"(\d+)(d|h|min|s)", text))


def write(tmp_path, source, name="prog.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def pyprof_time(args, tmp_path, launcher="python -m pyprof", **kwargs):
    return subprocess.run([*LAUNCHERS[launcher], "time", *args],
                          cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=300, **kwargs)


class Report:
    """The four lines of a `pyprof time` report, parsed."""

    def __init__(self, stdout):
        self.stdout = stdout
        self.timeit = TIMEIT_LINE.search(stdout)
        self.best_line = BEST_LINE.search(stdout)
        self.cpu = CPU_LINE.search(stdout)
        self.wall_line = WALL_LINE.search(stdout)
        assert self.timeit and self.best_line and self.cpu and self.wall_line, \
            stdout
        self.runs = int(self.timeit["runs"])
        self.loops = int(self.timeit["loops"].replace(",", ""))
        self.mean = seconds(self.timeit["mean"])
        self.std = seconds(self.timeit["std"])
        self.best = seconds(self.best_line["best"])
        self.user = seconds(self.cpu["user"])
        self.sys = seconds(self.cpu["sys"])
        self.total = seconds(self.cpu["total"])
        self.wall = seconds(self.wall_line["wall"])

    def time_strings(self):
        return [self.timeit["mean"], self.timeit["std"], self.best_line["best"],
                self.cpu["user"], self.cpu["sys"], self.cpu["total"],
                self.wall_line["wall"]]


@pytest.fixture(params=sorted(LAUNCHERS))
def launcher(request):
    if request.param == "pyprof" and not os.path.exists(CONSOLE_SCRIPT):
        pytest.skip("no pyprof console script next to %s" % sys.executable)
    return request.param


def test_report_lines_parse_and_honour_n_and_r(launcher, tmp_path):
    prog = write(tmp_path, "total = sum(range(1000))\n")
    got = pyprof_time(["-n", "3", "-r", "2", prog], tmp_path, launcher)
    assert got.returncode == 0, got.stderr
    report = Report(got.stdout)
    assert (report.runs, report.loops) == (2, 3)
    assert "of 2 runs, 3 loops each)" in got.stdout
    assert int(report.best_line["runs"]) == 2
    assert 0 < report.best <= report.mean
    assert report.std >= 0
    assert got.stderr == ""


def test_three_significant_digits_and_known_units(tmp_path):
    prog = write(tmp_path, "total = sum(range(1000))\n")
    report = Report(pyprof_time(["-n", "5", "-r", "3", prog], tmp_path).stdout)
    for text in report.time_strings():
        number, unit = text.split(" ")
        assert unit in UNIT_SECONDS
        digits = number.split("e")[0].replace(".", "").lstrip("0")
        assert len(digits) <= 3, text
        # The unit is the largest one the value reaches (below a second).
        value = float(number)
        if unit != "ns" and value != 0:
            assert value >= 1, text


def test_singular_run_and_loop(tmp_path):
    prog = write(tmp_path, "pass\n")
    got = pyprof_time(["-n", "1", "-r", "1", prog], tmp_path)
    assert got.returncode == 0, got.stderr
    assert "(mean \u00b1 std. dev. of 1 run, 1 loop each)" in got.stdout
    report = Report(got.stdout)
    assert report.std == 0
    assert report.best_line["best"] == report.timeit["mean"]


def test_ascii_stdout_gets_ascii_glyphs(tmp_path):
    """IPython falls back to "+-" and "us" when stdout cannot encode the
    plus-minus sign and mu."""
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    got = pyprof_time(["-n", "1000", "-r", "2", "-c", "pass"], tmp_path,
                      env=env)
    assert got.returncode == 0, got.stderr
    report = Report(got.stdout)
    assert " +- " in report.timeit.group(0)
    assert got.stdout.isascii()
    assert report.best_line["best"].endswith(" us")


def test_loop_count_uses_thousands_separators(tmp_path):
    got = pyprof_time(["-n", "1000", "-r", "1", "-c", "pass"], tmp_path)
    assert got.returncode == 0, got.stderr
    assert "1 run, 1,000 loops each)" in got.stdout


def test_autorange_gives_a_50ms_program_10_loops(tmp_path):
    """%timeit tries 1, 10, 100, ... loops until a batch takes >= 0.2 s:
    1 x 50 ms is too short, 10 x 50 ms is enough."""
    prog = write(tmp_path, "import time\ntime.sleep(0.05)\n")
    got = pyprof_time(["-r", "2", prog], tmp_path)
    if "of 2 runs, 1 loop each)" in got.stdout:
        # a loaded machine woke one 50 ms sleep 150 ms late: once more
        got = pyprof_time(["-r", "2", prog], tmp_path)
    assert got.returncode == 0, got.stderr
    report = Report(got.stdout)
    assert (report.runs, report.loops) == (2, 10)
    assert 0.05 <= report.best < 0.2


def test_autorange_gives_a_slow_program_1_loop(tmp_path):
    prog = write(tmp_path, "import time\ntime.sleep(0.25)\n")
    report = Report(pyprof_time(["-r", "1", prog], tmp_path).stdout)
    assert report.loops == 1
    assert report.best >= 0.25


def test_default_repeat_is_7(tmp_path):
    prog = write(tmp_path, "pass\n")
    report = Report(pyprof_time(["-n", "2", prog], tmp_path).stdout)
    assert (report.runs, report.loops) == (7, 2)


def test_sleeping_program_wall_time_far_above_cpu_time(tmp_path):
    prog = write(tmp_path, "import time\ntime.sleep(0.3)\n")
    got = pyprof_time(["-n", "1", "-r", "1", prog], tmp_path)
    assert got.returncode == 0, got.stderr
    report = Report(got.stdout)
    assert report.wall >= 0.3
    assert report.total < report.wall / 5
    assert math.isclose(report.total, report.user + report.sys,
                        rel_tol=0.01, abs_tol=2e-6)
    assert report.best >= 0.3


def test_busy_program_cpu_time_is_counted(tmp_path):
    """A program that burns 0.2 s of CPU shows at least that much CPU time
    (mostly user time), and at least as much wall time."""
    prog = write(tmp_path, """\
        import time
        end = time.process_time() + 0.2
        while time.process_time() < end:
            x = sum(i * i for i in range(10000))
    """)
    report = Report(pyprof_time(["-n", "1", "-r", "1", prog], tmp_path).stdout)
    assert report.total >= 0.199
    assert report.wall >= report.total * 0.99
    assert report.user > report.sys


def test_program_output_shown_once_per_run_unless_quiet(tmp_path):
    prog = write(tmp_path, "print('hello from the program')\n")
    loud = pyprof_time(["-n", "2", "-r", "2", prog], tmp_path)
    # One cold run for the %time view, then 2 batches of 2 loops.
    assert loud.stdout.count("hello from the program") == 1 + 2 * 2
    quiet = pyprof_time(["-q", "-n", "2", "-r", "2", prog], tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "hello" not in quiet.stdout
    Report(quiet.stdout)


def test_program_rebinding_sys_stdout_does_not_swallow_the_report(tmp_path):
    prog = write(tmp_path, """\
        import io, sys
        sys.stdout = io.StringIO()
        print("hidden")
    """)
    got = pyprof_time(["-n", "2", "-r", "2", prog], tmp_path)
    assert got.returncode == 0, got.stderr
    assert "hidden" not in got.stdout
    Report(got.stdout)


def test_quiet_keeps_the_program_s_stderr(tmp_path):
    prog = write(tmp_path, "import sys\nprint('warning', file=sys.stderr)\n")
    got = pyprof_time(["-q", "-n", "1", "-r", "1", prog], tmp_path)
    assert got.stderr.count("warning") == 2
    Report(got.stdout)


@pytest.mark.parametrize("source,status", [
    ("raise ValueError('nope')\n", 1),
    ("import sys\nsys.exit(4)\n", 4),
])
def test_failing_program_stops_timing_with_its_status(source, status,
                                                      tmp_path):
    prog = write(tmp_path, source)
    got = pyprof_time([prog], tmp_path)
    assert got.returncode == status
    assert not TIMEIT_LINE.search(got.stdout)
    assert got.stderr.rstrip().endswith(
        "pyprof time: the program failed (exit status %d); timing stopped"
        % status)


def test_program_failing_on_a_later_run_stops_timing(tmp_path):
    prog = write(tmp_path, """\
        import os, sys
        marker = os.path.join(os.path.dirname(__file__), "count")
        count = int(open(marker).read()) if os.path.exists(marker) else 0
        open(marker, "w").write(str(count + 1))
        if count == 3:
            sys.exit(5)
    """)
    got = pyprof_time(["-n", "2", "-r", "5", prog], tmp_path)
    assert got.returncode == 5
    assert (tmp_path / "count").read_text() == "4"
    assert not TIMEIT_LINE.search(got.stdout)


def test_sys_exit_zero_counts_as_success(tmp_path):
    prog = write(tmp_path, "import sys\nsys.exit(0)\n")
    got = pyprof_time(["-n", "1", "-r", "2", prog], tmp_path)
    assert got.returncode == 0, got.stderr
    Report(got.stdout)


# --------------------------------------------------------------------------
# IPython itself as the oracle for the formatting, where it is installed.

def ipython_execution():
    pytest.importorskip("IPython")
    from IPython.core.magics import execution
    return execution


def test_times_are_formatted_as_ipython_formats_them(tmp_path):
    execution = ipython_execution()
    prog = write(tmp_path, "import time\ntime.sleep(0.002)\n")
    for args in (["-n", "3", "-r", "2"], ["-n", "1", "-r", "1"]):
        report = Report(pyprof_time([*args, prog], tmp_path).stdout)
        for text in report.time_strings():
            assert execution._format_time(seconds(text)) == text


def test_timeit_line_is_ipython_s(tmp_path):
    """Rebuild a TimeitResult with the printed mean and standard deviation
    and compare IPython's line with ours, character for character."""
    execution = ipython_execution()
    prog = write(tmp_path, "sum(range(100))\n")
    for args in (["-n", "3", "-r", "2"], ["-n", "1000", "-r", "7"]):
        got = pyprof_time([*args, prog], tmp_path)
        report = Report(got.stdout)
        runs, loops, mean, std = (report.runs, report.loops, report.mean,
                                  report.std)
        # Per-loop times with exactly this mean and population deviation:
        # pairs mean +- d, plus the mean itself when the count is odd.
        if runs == 1:
            timings = [mean]
        else:
            pairs = runs // 2
            d = std * math.sqrt(runs / (2 * pairs))
            timings = [mean + d, mean - d] * pairs + [mean] * (runs % 2)
        result = execution.TimeitResult(
            loops, runs, min(timings), max(timings),
            [t * loops for t in timings], 0, 3)
        assert str(result) == report.timeit.group(0)
