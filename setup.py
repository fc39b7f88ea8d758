"""Build glue: one C extension, pyprof._pyprof, from every .c under src/.

Extra compiler flags come from PYPROF_CFLAGS / PYPROF_LDFLAGS (the Makefile
uses them for the sanitizer build), so no build logic lives here.
"""
import glob
import os
import shlex

from setuptools import Extension, setup

sources = sorted(glob.glob("src/**/*.c", recursive=True))
cflags = ["-std=c11", "-Wall", "-Wextra", "-Wstrict-prototypes",
          "-Wno-missing-field-initializers", "-Wno-unused-parameter",
          "-Wno-cast-function-type"]
cflags += shlex.split(os.environ.get("PYPROF_CFLAGS", ""))
ldflags = shlex.split(os.environ.get("PYPROF_LDFLAGS", ""))

setup(ext_modules=[Extension(
    "pyprof._pyprof",
    sources=sources,
    include_dirs=["src"],
    extra_compile_args=cflags,
    extra_link_args=ldflags,
    define_macros=[("_GNU_SOURCE", "1")],
)])
