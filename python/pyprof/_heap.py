"""pyprof.no_growth: a leak check for tests, over the C census."""
from pyprof import _pyprof


class no_growth:
    """Fail when the block leaves more objects behind than allowed.

        with pyprof.no_growth(types=["Session"], tolerance=0):
            handle_request()

    Counts every object the garbage collector tracks, by type, after a
    full collection on entry and on exit.  ``types`` (type objects or
    objgraph's names, 'name' or 'module.name'; None for all) selects what
    is checked; a type name may grow by ``tolerance`` objects.  Raises
    pyprof.HeapGrowthError (an AssertionError) whose message is the
    growth table and whose ``rows`` attribute holds its rows (name,
    before, after, delta).  A block that raises is not checked.
    """

    def __init__(self, types=None, tolerance=0):
        self.types = types
        self.tolerance = tolerance
        self._before = None

    def __enter__(self):
        self._before = _pyprof._growth_baseline()
        return self

    def __exit__(self, exc_type, exc, tb):
        before, self._before = self._before, None
        if exc_type is None:
            _pyprof._no_growth_check(before, self.types, self.tolerance)
        return False
