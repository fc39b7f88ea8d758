"""The `profile` builtin for a program `pyprof record` starts.

record samples its child from outside, so the child is plain python with no
pyprof code under the program.  To give it the pass-through `profile`
builtin every pyprof command gives (issue #13), record copies this file as
`sitecustomize.py` alone into a fresh directory (src/cli/child_site.c) and
puts that directory first on the child's PYTHONPATH; the user's PYTHONPATH,
if any, is kept in a file `PYTHONPATH` beside it.  site.py imports it at
start-up (never under -S, -I or -E, which record does not disturb) and this
module then leaves no trace: its directory leaves sys.path (and the
importer cache), PYTHONPATH in os.environ is the user's again (or absent),
it drops itself from sys.modules and imports the real sitecustomize (the
distribution's, the user's on PYTHONPATH, or none) as site.py would: an
ImportError for 'sitecustomize' is raised on to site.py, which ignores it,
any other error reaches site.py, which reports it as it always does.  It
imports nothing that site.py has not already imported.
"""
import builtins
import os
import sys


def profile(*args, **kwargs):
    """profile(func): func itself (pyprof record does not use @profile)."""
    if len(args) == 1 and callable(args[0]):
        return args[0]
    if not args or (len(args) == 1 and args[0] is None):
        return profile      # profile(precision=3): memory_profiler's form
    raise TypeError("profile() takes a function")


def _leave():
    here = os.path.dirname(__file__)
    while here in sys.path:
        sys.path.remove(here)
    sys.path_importer_cache.pop(here, None)
    try:
        with open(os.path.join(here, "PYTHONPATH"), "rb") as saved:
            os.environb[b"PYTHONPATH"] = saved.read()
    except FileNotFoundError:
        os.environ.pop("PYTHONPATH", None)
    del sys.modules[__name__]


if not hasattr(builtins, "profile"):
    builtins.profile = profile
_leave()
del _leave
import sitecustomize  # noqa: E402,F401  the real one, or ImportError
