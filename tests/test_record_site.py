"""pyprof record gives the program it starts the `profile` builtin, as every
pyprof command does (issue #13), without changing anything else it sees.

The child is plain python sampled from outside; the builtin comes from a
sitecustomize shim on a temporary PYTHONPATH (src/cli/child_site.c).  Oracle:
the same probe run by plain python (the same interpreter, the same
environment), whose sys.path, PYTHONPATH, sys.modules keys, importer cache,
argv and exit code the child must reproduce exactly; the distribution's or
the user's own sitecustomize must still run.  Every interpreter found is a
child: pyenv's 3.10-3.13, and /usr/bin/python3.14 and 3.15 when the suite
runs in the sid chroot (tools/sid-run.sh), where Debian's sitecustomize is
the real one to import."""
import glob
import json
import os
import pstats
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import run_pyprof

DECORATED = textwrap.dedent("""\
    import sys, time

    @profile
    def burn_decorated(seconds):
        t = time.perf_counter()
        s = 0
        while time.perf_counter() - t < seconds:
            s += 1
        return s

    burn_decorated(0.6)
    print("done", profile(len) is len)
    """)

# What the program sees of its start-up; `profile` is the one difference
# record makes.
PROBE = textwrap.dedent("""\
    import builtins, json, os, sys
    print(json.dumps({
        "path": sys.path,
        "PYTHONPATH": os.environ.get("PYTHONPATH"),
        "environ": sorted(k for k in os.environ),
        "modules": sorted(sys.modules),
        "importer_cache": sorted(sys.path_importer_cache),
        "argv": sys.argv,
        "main": __file__,
        "profile": hasattr(builtins, "profile"),
        "marker": getattr(builtins, "user_site_marker", None),
    }))
    sys.exit(3)
    """)


def interpreters():
    """Every CPython 3.10+ found: this one, pyenv's, the chroot's."""
    found = [sys.executable]
    root = subprocess.run(["pyenv", "root"], capture_output=True,
                          text=True).stdout.strip() if shutil.which(
                              "pyenv") else ""
    found += sorted(glob.glob(os.path.join(root, "versions", "3.1[0-9]*",
                                           "bin", "python3")))
    found += [p for p in ("/usr/bin/python3.14", "/usr/bin/python3.15")
              if os.path.exists(p)]
    return found


def probe_json(out):
    return json.loads(out.strip().splitlines()[-1])


def plain_and_recorded(tmp_path, argv, env, through_command=True):
    """(plain python's probe, the recorded child's probe), each checked to
    exit 3."""
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    plain = subprocess.run([*argv, str(probe), "x"], capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=120)
    assert plain.returncode == 3, plain.stderr
    if through_command:
        ours = run_pyprof("record", "--rate", "50", "-o", "p.pyprof", "--",
                          *argv, str(probe), "x", env=env, cwd=tmp_path)
    else:
        ours = run_pyprof("record", "--rate", "50", "-o", "p.pyprof",
                          str(probe), "x", env=env, cwd=tmp_path)
    assert ours.returncode == 3, ours.stderr
    # The summary only; a probe this short may end between two samples on a
    # loaded machine, and then record says so in one more line.
    said = [line for line in ours.stderr.splitlines()
            if not line.startswith("pyprof record: warning: no samples: ")]
    assert len(said) == 1, ours.stderr
    return probe_json(plain.stdout), probe_json(ours.stdout)


def environment(pythonpath):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return env


def test_decorated_script_is_recorded(tmp_path):
    script = tmp_path / "decorated.py"
    script.write_text(DECORATED)
    plain = subprocess.run([sys.executable, str(script)], capture_output=True,
                           text=True, cwd=tmp_path)
    assert "NameError" in plain.stderr          # what plain python gives it
    ours = run_pyprof("record", "--rate", "200", "-o", "d.pyprof",
                      str(script), cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr
    assert "done True" in ours.stdout
    own = {key[2]: v[0] for key, v in
           pstats.Stats(str(tmp_path / "d.pyprof")).stats.items()}
    assert own.get("burn_decorated", 0) > 0.5 * sum(own.values()), own


@pytest.mark.parametrize("pythonpath", [None, "", "/nonexistent/a::b"],
                         ids=["unset", "empty", "set"])
@pytest.mark.parametrize("python", interpreters())
def test_child_sees_what_plain_python_gives(python, pythonpath, tmp_path):
    plain, ours = plain_and_recorded(tmp_path, [python],
                                     environment(pythonpath))
    assert not plain["profile"] and ours["profile"]
    del plain["profile"], ours["profile"]
    assert ours == plain


def test_script_form_sees_what_plain_python_gives(tmp_path):
    plain, ours = plain_and_recorded(tmp_path, [sys.executable],
                                     environment("/nonexistent/a"),
                                     through_command=False)
    assert ours.pop("profile") and not plain.pop("profile")
    assert ours == plain


@pytest.mark.parametrize("flags", [["-S"], ["-I"], ["-E"], ["-X", "dev",
                                                           "-sE"]])
def test_no_site_no_builtin(flags, tmp_path):
    """A python that would not run the shim (or not see PYTHONPATH) is left
    as it is: plain python's sys.path, environment and no builtin."""
    plain, ours = plain_and_recorded(tmp_path, [sys.executable, *flags],
                                     environment("/nonexistent/a"))
    assert ours == plain
    assert not ours["profile"]


USER_SITE = textwrap.dedent("""\
    import builtins, sys
    builtins.user_site_marker = "ran from " + __file__
    """)


@pytest.mark.parametrize("python", interpreters())
def test_users_sitecustomize_still_runs(python, tmp_path):
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "sitecustomize.py").write_text(USER_SITE)
    plain, ours = plain_and_recorded(tmp_path, [python],
                                     environment(str(site_dir)))
    assert plain["marker"] == "ran from %s/sitecustomize.py" % site_dir
    assert ours.pop("profile") and not plain.pop("profile")
    assert ours == plain


def test_users_failing_sitecustomize_is_reported_as_python_does(tmp_path):
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "sitecustomize.py").write_text("raise ValueError('boom')\n")
    env = environment(str(site_dir))
    script = tmp_path / "hello.py"
    script.write_text("print('hello')\n")
    plain = subprocess.run([sys.executable, str(script)], capture_output=True,
                           text=True, env=env)
    ours = run_pyprof("record", "--rate", "50", "-o", str(tmp_path / "h.pyprof"),
                      str(script), env=env)
    assert "ValueError: boom" in plain.stderr
    assert ours.returncode == plain.returncode == 0
    assert ours.stdout == plain.stdout
    assert ours.stderr.startswith(plain.stderr), (plain.stderr, ours.stderr)


def test_the_shim_directory_is_removed(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = environment(None)
    env["TMPDIR"] = str(tmp)
    script = tmp_path / "p.py"
    script.write_text("import os, sys; print(os.listdir(sys.argv[1]))\n")
    ours = run_pyprof("record", "--rate", "50", "-o", str(tmp_path / "r.pyprof"),
                      str(script), str(tmp), env=env)
    assert ours.returncode == 0, ours.stderr
    assert "pyprof-record-" in ours.stdout      # there while it ran
    assert os.listdir(tmp) == []
