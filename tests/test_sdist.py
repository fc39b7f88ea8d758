"""The sdist builds and installs in a fresh venv (a release is built from it).

Built and installed once, on 3.12: the sdist's contents do not depend on the
Python that packs it, and a compile per version would double the suite.
"""
import os
import subprocess
import sys
import tarfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] != (3, 12),
    reason="the sdist is checked once, on 3.12")


def test_sdist_installs_in_a_fresh_venv(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "setup.py", "-q", "sdist", "-d", str(dist)],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    (sdist,) = dist.glob("pyprof-*.tar.gz")
    names = tarfile.open(sdist).getnames()
    assert any(n.endswith("src/core/stats.h") for n in names)
    assert any(n.endswith("tools/embed_web.py") for n in names)
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True,
                   timeout=300)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install",
                          "-q", "--disable-pip-version-check", str(sdist)],
                         capture_output=True, text=True, timeout=900,
                         cwd=str(tmp_path))
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-2000:]
    prog = tmp_path / "prog.py"
    prog.write_text("def f():\n    return 1\nf()\n")
    run = subprocess.run([str(venv / "bin" / "pyprof"), "run", str(prog)],
                         capture_output=True, text=True, timeout=300,
                         cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert "prog.py:1(f)" in run.stdout
