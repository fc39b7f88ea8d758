"""Long work says what it is doing -- on a terminal only.

`pyprof time` runs the program many times in one process; on a terminal
(stderr a tty, here a pty from python's pty module) it says so before the
first run and shows "run k of N" as it goes.  Without a terminal it prints
exactly what it printed before: nothing on stderr.
"""
import os
import pty
import re
import subprocess
import sys
import textwrap

PYPROF = [sys.executable, "-m", "pyprof"]
ERASE = "\r\x1b[K"


def write(path, source):
    with open(path, "w") as f:
        f.write(textwrap.dedent(source))
    return str(path)


def run_with_tty_stderr(args, cwd):
    """Run args with stderr a pty (stdout a pipe); (returncode, stdout,
    everything written to the terminal)."""
    return run_on_a_terminal(args, cwd, stdout_too=False)


def test_time_on_a_terminal_says_it_repeats_and_shows_progress(tmp_path):
    prog = write(tmp_path / "p.py", "x = sum(range(100))\n")
    status, out, terminal = run_with_tty_stderr(
        [*PYPROF, "time", "-n", "3", "-r", "4", prog], tmp_path)
    assert status == 0, terminal
    # said before the first run: 1 cold + 3 x 4 timed
    first = terminal.splitlines()[0]
    assert "runs the program 13 times in this process" in first
    assert "side effects included" in first
    # the last run of the timed batches is always drawn, then erased
    assert "run 12 of 12" in terminal
    assert terminal.endswith(ERASE)
    assert "per loop" in out and "pyprof time" not in out


def test_time_autorange_names_the_loops_it_chose(tmp_path):
    prog = write(tmp_path / "p.py", "x = sum(range(100))\n")
    status, out, terminal = run_with_tty_stderr(
        [*PYPROF, "time", "-r", "2", prog], tmp_path)
    assert status == 0, terminal
    assert "repeatedly" in terminal.splitlines()[0]
    chosen = re.search(r"(\d+) loops? per batch: (\d+) more runs", terminal)
    assert chosen, terminal
    loops = int(chosen.group(1))
    assert int(chosen.group(2)) == 2 * loops
    # the table reports the same loops as the terminal said
    assert re.search(r"%s loops? each" % format(loops, ","), out) or \
        re.search(r"%d loops? each" % loops, out), out


def test_time_without_a_terminal_prints_no_progress(tmp_path):
    prog = write(tmp_path / "p.py", "x = sum(range(100))\n")
    got = subprocess.run([*PYPROF, "time", "-n", "3", "-r", "4", prog],
                         cwd=str(tmp_path), capture_output=True, text=True,
                         timeout=300)
    assert got.returncode == 0
    assert got.stderr == ""
    assert "pyprof time:" not in got.stdout
    assert not re.search(r"run \d+ of \d+", got.stdout)


HEAP_LOOP = """\
@profile
def handle(i):
    return None

for i in range(600):
    handle(i)
"""


def test_heap_on_a_terminal_counts_the_calls_it_measures(tmp_path):
    prog = write(tmp_path / "loop.py", HEAP_LOOP)
    status, out, terminal = run_with_tty_stderr(
        [*PYPROF, "heap", prog], tmp_path)
    assert status == 0, terminal
    counts = [int(n) for n in re.findall(
        r"pyprof heap: (\d+) calls measured \(2 full collections", terminal)]
    assert counts and counts == sorted(counts) and counts[-1] <= 600
    assert terminal.endswith(ERASE)
    assert "calls measured" not in out


def test_heap_without_a_terminal_prints_no_progress(tmp_path):
    prog = write(tmp_path / "loop.py", HEAP_LOOP)
    got = subprocess.run([*PYPROF, "heap", prog], cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=300)
    assert got.returncode == 0
    assert got.stderr == ""


def big_pstats(path, n=100_000):
    """A cProfile-format file of n functions (several MB)."""
    import marshal
    root = ("big.py", 1, "root")
    stats = {root: (1, 1, 0.001, 100.0, {})}
    for i in range(n - 1):
        t = 0.5 if i < 50 else 99.0 / (n - 51) * 0.5
        stats[("big.py", i + 2, "f%d" % i)] = (1, 1, t, t,
                                               {root: (1, 1, t, t)})
    path.write_bytes(marshal.dumps(stats))
    return str(path)


def test_view_of_a_big_profile_says_what_it_is_doing(tmp_path):
    prof = big_pstats(tmp_path / "big.pstats")
    status, out, terminal = run_with_tty_stderr(
        [*PYPROF, "view", prof, "-o", str(tmp_path / "big.html"),
         "--flamegraph", str(tmp_path / "big.svg")], tmp_path)
    assert status == 0, terminal
    assert re.search(r"pyprof view: reading \S*big\.pstats \([\d.]+ MB\)",
                     terminal), terminal
    assert "pyprof view: drawing the report (" in terminal
    assert "pyprof view: drawing the flame graph (" in terminal
    assert out == ""


def test_view_without_a_terminal_prints_no_progress(tmp_path):
    prof = big_pstats(tmp_path / "big.pstats")
    got = subprocess.run([*PYPROF, "view", prof, "-o",
                          str(tmp_path / "big.html")], cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr
    assert "reading" not in got.stderr and "drawing" not in got.stderr
    assert "\r" not in got.stderr


# -- the program writes to the same terminal ------------------------------

def run_on_a_terminal(args, cwd, stdout_too):
    """Run args with stderr -- and stdout when stdout_too, else a pipe --
    on one pty, as in a terminal window; (returncode, what went to the
    pipe, what reached the terminal)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, cwd=str(cwd), stdin=subprocess.DEVNULL,
                            stdout=slave if stdout_too else subprocess.PIPE,
                            stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:         # EIO: the last writer closed the pty
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    out = b""
    if proc.stdout is not None:
        out = proc.stdout.read()
        proc.stdout.close()
    proc.wait(timeout=300)
    return proc.returncode, out.decode(), b"".join(chunks).decode()


def screen_lines(terminal):
    """What a terminal shows of `terminal`, line by line: "\\r" goes back to
    the line's start, ESC [ K erases to its end, other text overwrites."""
    shown = []
    for raw in terminal.replace("\r\n", "\n").split("\n"):
        line, col, i = [], 0, 0
        while i < len(raw):
            if raw.startswith("\x1b[K", i):
                del line[col:]
                i += 3
                continue
            if raw[i] == "\r":
                col = 0
            elif col < len(line):
                line[col] = raw[i]
                col += 1
            else:
                line.append(raw[i])
                col += 1
            i += 1
        shown.append("".join(line))
    return shown


SAYS_HELLO = """\
import sys, time
time.sleep(0.03)
sys.stderr.write("program says hello\\n")
"""


def test_time_progress_never_sticks_to_the_programs_lines(tmp_path):
    """The program writes to stderr, the terminal the progress line is on:
    each of its lines shows whole, on a line of its own."""
    prog = write(tmp_path / "p.py", SAYS_HELLO)
    status, _, terminal = run_on_a_terminal(
        [*PYPROF, "time", "-n", "2", "-r", "3", prog], tmp_path,
        stdout_too=False)
    assert status == 0, terminal
    shown = screen_lines(terminal)
    said = [line for line in shown if "program says" in line]
    assert said == ["program says hello"] * 7, shown
    assert all(line.startswith("pyprof time: ") or line in
               ("", "program says hello") for line in shown), shown
    # shown between the runs all the same, and erased before the next
    assert re.search(r"timing: run \d of 6", terminal), terminal
    assert_each_status_line_erased_at_once(terminal)


def test_time_progress_does_not_flash_between_runs(tmp_path):
    """A quiet program on a terminal (stdout too): the status line is
    redrawn in place, never erased between runs (which would show it only
    for the instant between two runs), and erased once at the end."""
    prog = write(tmp_path / "p.py", "import time\ntime.sleep(0.05)\n")
    status, _, terminal = run_on_a_terminal(
        [*PYPROF, "time", "-n", "1", "-r", "8", prog], tmp_path,
        stdout_too=True)
    assert status == 0, terminal
    pieces = terminal.split(ERASE)[1:]
    drawn = [p for p in pieces if p.startswith("pyprof time: ")]
    bare = [p for p in pieces if not p.startswith("pyprof time: ")]
    assert len(drawn) >= 3, terminal
    assert len(bare) == 1, terminal         # the end's, before the results
    assert "per loop" in bare[0]


PRINTING_LOOP = """\
import time

@profile
def handle(i):
    print("handled call", i)
    time.sleep(0.002)

for i in range(400):
    handle(i)
"""


def test_heap_progress_never_sticks_to_the_programs_lines(tmp_path):
    prog = write(tmp_path / "loop.py", PRINTING_LOOP)
    status, _, terminal = run_on_a_terminal([*PYPROF, "heap", prog],
                                            tmp_path, stdout_too=True)
    assert status == 0, terminal
    shown = screen_lines(terminal)
    handled = [line for line in shown if "handled call" in line]
    assert handled == ["handled call %d" % i for i in range(400)], \
        [line for line in handled if not line.startswith("handled")][:3]
    assert not any("calls measured" in line for line in shown)
    # drawn during the censuses all the same, erased before the program
    # goes on
    assert re.search(r"pyprof heap: \d+ calls measured", terminal), terminal


def assert_each_status_line_erased_at_once(terminal):
    """Each status line drawn is erased before anything else reaches the
    terminal (the program's next line, or the end): nothing follows its
    text but the erase."""
    pieces = terminal.split(ERASE)
    for piece in pieces[1:]:
        if piece.startswith("pyprof time: ") and "run " in piece:
            assert re.fullmatch(r"pyprof time: [a-z ]+: run \d+ of \d+",
                                piece), (piece, terminal)
    assert terminal.endswith(ERASE)


WRITES_A_FILE = """\
import sys, time
time.sleep(0.05)
with open(sys.argv[1], "a") as log:
    log.write("one more run\\n")
"""


def test_time_progress_shows_while_the_program_writes_a_file(tmp_path):
    """A program that writes (to a file here) on every run: the status line
    is drawn between runs, while the program is not running, and erased
    before each run again, so the program's writes cannot land on it."""
    prog = write(tmp_path / "p.py", WRITES_A_FILE)
    log = tmp_path / "runs.log"
    status, _, terminal = run_on_a_terminal(
        [*PYPROF, "time", "-n", "1", "-r", "8", prog, str(log)], tmp_path,
        stdout_too=False)
    assert status == 0, terminal
    assert log.read_text() == "one more run\n" * 9
    runs = [int(k) for k in re.findall(r"timing: run (\d+) of 8", terminal)]
    assert len(runs) >= 3 and runs == sorted(runs), terminal
    assert_each_status_line_erased_at_once(terminal)
