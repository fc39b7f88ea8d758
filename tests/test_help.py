"""Every command's --help is its own page and lists exactly the options the
command accepts.

What a command accepts is read from its parser in src/cli/ (each call of
pyprof_options_flag/pyprof_options_value/take_value, each `strcmp(arg,
"-x") == 0`, and the rule options
of selection.c for the commands that call it), so a new option without a
help line, or a help line for an option of another command, fails here.
The mprof actions' pages are also held against mprof's own (memory_profiler):
every option of ours that mprof has too is listed under the same names.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, run_pyprof

CLI = os.path.join(ROOT, "src", "cli")
OPTION_CALL = re.compile(
    r"\b(?:pyprof_options_flag|pyprof_options_value|take_value)\s*\(([^;]*?)\)",
    re.S)
LITERAL = re.compile(r'"(-[^"]*)"')
COMPARED = re.compile(r'strcmp\(arg, "(-[^"]+)"\) == 0')
COMMAND_NAME = re.compile(r'"pyprof ((?:mprof )?[a-z]+)"')
FUNCTION = re.compile(r"^[a-z_]+\([^;]*?\)\n\{\n(.*?)^\}", re.S | re.M)
HELP_OPTION = re.compile(r"^  (-[-\w]+)(?:, (--[-\w]+))?", re.M)

COMMANDS = ["run", "stats", "lines", "heap", "memory", "time", "view",
            "export", "dump", "record", "top", "mprof run", "mprof plot", "mprof list", "mprof clean",
            "mprof rm", "mprof peak"]
# mprof list takes no option; its parser shares clean's, guarded by `clean &&`.
NOT_ACCEPTED = {("mprof list", "--dry-run")}


def _options_in(body):
    found = set()
    for call in OPTION_CALL.finditer(body):
        found.update(LITERAL.findall(call.group(1)))
    # stats' own scanner compares each argument; "--" ends the options
    found.update(o for o in COMPARED.findall(body) if o != "--")
    return found


def accepted_options():
    """{command: set of option spellings its parser in src/cli accepts}."""
    with open(os.path.join(CLI, "selection.c")) as f:
        selection = set(re.findall(r'\{"(--[a-z-]+)"', f.read()))
    accepted = {command: set() for command in COMMANDS}
    for name in sorted(os.listdir(CLI)):
        if not name.endswith(".c") or name == "selection.c":
            continue
        with open(os.path.join(CLI, name)) as f:
            source = f.read()
        file_command = (name[len("cmd_"):-2] if name.startswith("cmd_")
                        else None)
        for body in FUNCTION.findall(source):
            options = _options_in(body)
            if "pyprof_selection_option(" in body:
                options |= selection
            if not options:
                continue
            commands = COMMAND_NAME.findall(
                "".join(re.findall(r"pyprof_options_init\([^;]*;", body)))
            if not commands:
                commands = [file_command]
            for command in commands:
                assert command in accepted, (name, command)
                accepted[command] |= {
                    o for o in options if (command, o) not in NOT_ACCEPTED}
    return accepted


def help_page(command):
    got = run_pyprof(*command.split(), "--help")
    assert got.returncode == 0, (command, got.stderr)
    assert got.stderr == ""
    return got.stdout


def listed_options(page):
    """The option spellings of the page's "  -x, --long ARG  text" lines."""
    listed = set()
    for short, long in HELP_OPTION.findall(page):
        listed.add(short)
        if long:
            listed.add(long)
    return listed


def test_parsers_are_found():
    accepted = accepted_options()
    # The scan must see the parsers, or the test below proves nothing.
    assert {"-o", "--outfile", "-s", "--sort", "--limit"} <= accepted["run"]
    assert {"--function", "--module", "--path"} <= accepted["lines"]
    assert {"-T", "--interval", "-C", "-M"} <= accepted["mprof run"]
    assert accepted["mprof clean"] >= {"--dry-run"}
    assert "--dry-run" not in accepted["mprof list"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_every_option_accepted(command):
    page = help_page(command)
    assert page.startswith("usage: pyprof %s" % command)
    listed = listed_options(page)
    accepted = accepted_options()[command]
    assert accepted - listed == set(), "accepted but not in --help"
    assert listed - accepted == set(), "in --help but not accepted"


def test_mprof_actions_have_pages_of_their_own():
    pages = {command: help_page(command) for command in COMMANDS
             if command.startswith("mprof ")}
    assert len(set(pages.values())) == len(pages)
    overview = help_page("mprof")
    for command in pages:
        assert "pyprof %s" % command in overview
    # the short options mprof users type appear in run's usage line
    usage = pages["mprof run"].split("\n\n")[0]
    for option in ("-T", "-C", "-M", "-o"):
        assert option in usage


def _mprof_options(action):
    mprof = shutil.which("mprof") or os.path.join(
        os.path.dirname(sys.executable),
        "mprof")
    if not os.path.exists(mprof):
        pytest.skip("memory_profiler's mprof is not installed")
    got = subprocess.run([mprof, action, "--help"], capture_output=True,
                         text=True, timeout=60)
    assert got.returncode == 0
    # "  --interval INTERVAL, -T INTERVAL" / "  --dry-run   Show ..."
    spellings = set()
    for line in got.stdout.splitlines():
        m = re.match(r"^  (-[^ ].*?)(?:  |$)", line)
        if m:
            spellings.update(re.findall(r"(?:^|, )(-[-\w]+)", m.group(1)))
    return spellings - {"--version"}


@pytest.mark.parametrize("action", ["run", "plot", "list", "clean", "rm",
                                    "peak"])
def test_mprof_options_named_as_mprof_names_them(action):
    ours = listed_options(help_page("mprof " + action))
    theirs = _mprof_options(action)
    accepted = accepted_options()["mprof " + action]
    # An option both tools accept is spelled the same way, short and long.
    shared = {o for o in theirs if o in accepted}
    assert shared <= ours
    assert shared, "no option in common with mprof %s" % action
