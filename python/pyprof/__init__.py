"""pyprof: one profiler for where a Python program's time and memory go.

The engine, the file formats, the reports and the CLI are C, in the
extension module pyprof._pyprof; this file only re-exports its API.
"""
from pyprof._pyprof import Profile, memory_usage

__all__ = ["Profile", "memory_usage"]
__version__ = "0.1.0"
