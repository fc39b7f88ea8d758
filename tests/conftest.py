"""Shared helpers for the pytest suite: running pyprof's CLI and loading the
example programs."""
import importlib.util
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROGRAMS = os.path.join(HERE, "programs")


def load_program(name):
    """Import tests/programs/<name>.py as a fresh module."""
    path = os.path.join(PROGRAMS, name + ".py")
    spec = importlib.util.spec_from_file_location("prog_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_pyprof(*args, **kwargs):
    """Run `python -m pyprof ARGS`, returning the CompletedProcess."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 300)
    return subprocess.run([sys.executable, "-m", "pyprof", *args], **kwargs)


@pytest.fixture
def program():
    return load_program
