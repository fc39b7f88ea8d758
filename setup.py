"""Build glue: one C extension, pyprof._pyprof, from every .c under src/.

Extra compiler flags come from PYPROF_CFLAGS / PYPROF_LDFLAGS (the Makefile
uses them for the sanitizer build), so no build logic lives here.

The reports' HTML/CSS/JS are real files in web/; tools/embed_web.py turns
them into build/generated/pyprof_web_assets.h (one byte array per file, see
src/report/web_assets.h) so a plain `pip install .` embeds them.
"""
import glob
import os
import shlex
import sys

from setuptools import Extension, setup

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "tools"))
from embed_web import embed_web  # noqa: E402


sources = sorted(glob.glob("src/**/*.c", recursive=True))
cflags = ["-std=c11", "-Wall", "-Wextra", "-Wstrict-prototypes",
          "-Wno-missing-field-initializers", "-Wno-unused-parameter",
          "-Wno-cast-function-type",
          # a call without a prototype guesses its types: never let one by
          "-Werror=implicit-function-declaration",
          # only PyInit__pyprof is exported: every other global is reached
          # directly, not through the GOT (the hooks touch several per event)
          "-fvisibility=hidden"]
cflags += shlex.split(os.environ.get("PYPROF_CFLAGS", ""))
ldflags = shlex.split(os.environ.get("PYPROF_LDFLAGS", ""))

setup(ext_modules=[Extension(
    "pyprof._pyprof",
    sources=sources,
    depends=sorted(glob.glob("web/*")),
    include_dirs=["src", embed_web()],
    extra_compile_args=cflags,
    extra_link_args=ldflags,
    define_macros=[("_GNU_SOURCE", "1")],
)])
