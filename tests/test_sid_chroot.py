"""tools/sid-chroot.sh finds the Debian mirror in the machine's apt
configuration, in either format apt reads, and never a security or
updates suite: checked on apt configurations written here (APT_ETC)."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tools", "sid-chroot.sh")


def mirror_of(tmp_path, files):
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    for name, text in files.items():
        (etc / name).write_text(text)
    env = dict(os.environ, APT_ETC=str(etc))
    env.pop("MIRROR", None)
    return subprocess.run(["sh", SCRIPT, "--print-mirror"], env=env,
                          capture_output=True, text=True, timeout=30)


DEB822 = """\
Types: deb
URIs: http://security.example.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb-src deb
# a comment inside the stanza
URIs: http://mirror.example.invalid/debian
Suites: bookworm bookworm-updates
Components: main
"""

ONE_LINE = """\
# deb http://commented.example.invalid/debian bookworm main
deb [arch=amd64 signed-by=/k.gpg] http://security.example.invalid/debian-security bookworm-security main
deb http://updates.example.invalid/debian bookworm-updates main
deb [trusted=yes] http://mirror.example.invalid/debian/ bookworm main contrib
"""


@pytest.mark.parametrize("files", [
    {"sources.list.d/debian.sources": DEB822},
    {"sources.list": ONE_LINE},
    {"sources.list.d/other.list": ONE_LINE},
], ids=["deb822", "sources.list", "sources.list.d/*.list"])
def test_mirror_is_the_debian_archive(tmp_path, files):
    got = mirror_of(tmp_path, files)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip().rstrip("/") == "http://mirror.example.invalid/debian"


def test_no_debian_archive_is_a_one_line_error(tmp_path):
    got = mirror_of(tmp_path, {"sources.list": "deb http://x.invalid/ubuntu noble main\n"})
    assert got.returncode == 2
    assert got.stderr.count("\n") == 1 and "MIRROR=" in got.stderr
