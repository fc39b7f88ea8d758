"""pyprof: one profiler for where a Python program's time and memory go.

The engine, the file formats, the reports and the CLI are C, in the
extension module pyprof._pyprof; this file only re-exports its API.
"""
from pyprof._pyprof import (LineProfiler, Profile, memory_profile,
                             memory_usage, profile)
from pyprof._pyprof import (HeapGrowthError, at, at_addrs, by_type, census,
                            count, find_backref_chain, find_ref_chain,
                            get_leaking_objects, get_new_ids, growth,
                            is_proper_module, most_common_types,
                            show_backrefs, show_chain, show_growth,
                            show_most_common_types, show_refs, typestats)
from pyprof._heap import no_growth

__all__ = ["LineProfiler", "Profile", "memory_profile", "memory_usage",
           "profile",
           "HeapGrowthError", "at", "at_addrs", "by_type", "census",
           "count", "find_backref_chain", "find_ref_chain",
           "get_leaking_objects", "get_new_ids", "growth",
           "is_proper_module", "most_common_types", "no_growth",
           "show_backrefs", "show_chain", "show_growth",
           "show_most_common_types", "show_refs", "typestats"]
__version__ = "0.1.0"


def load_ipython_extension(ipython):
    """`%load_ext pyprof`: adds %lprun (line_profiler's magic), %mprun and
    %memit (memory_profiler's)."""
    from pyprof._ipython import register
    register(ipython)
