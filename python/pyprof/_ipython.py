"""IPython/Jupyter magics, spelled as line_profiler's and memory_profiler's:

    %lprun -f func [-f func2] [-m module] [-u unit] [-s] [-D f.lprof]
           [-T f.txt] [-r] statement
    %mprun -f func [-f func2] [-T f.txt] [-c] statement
    %memit [-r R] [-t T] [-i I] [-c] [-q] statement

Option parsing is IPython's; selecting, running, sampling and printing are
the C engine's (pyprof.LineProfiler, _mprun, memory_usage).
"""
import gc
import re

from pyprof._pyprof import LineProfiler, _mprun, memory_usage


def _interrupted(exc):
    """memory_profiler's and line_profiler's note for a statement that
    exits or is interrupted, or None to re-raise `exc`."""
    if isinstance(exc, SystemExit):
        return "*** SystemExit exception caught in code being profiled."
    if isinstance(exc, KeyboardInterrupt):
        return ("*** KeyboardInterrupt exception caught in code being "
                "profiled.")
    return None


def _split_statement(parameter_s, spec):
    """(the options, the statement exactly as typed) of a magic's line.

    getopt would see the statement as shell words, losing its quotes and
    the spaces inside its strings; the statement starts at the first word
    that is not an option of `spec` (getopt's rule), and is kept raw."""
    pos = 0
    while True:
        word = re.compile(r"\s*(\S+)").match(parameter_s, pos)
        if word is None or not word.group(1).startswith("-") \
                or word.group(1) == "-":
            break
        if word.group(1) == "--":
            return parameter_s[:word.start(1)], parameter_s[word.end():]
        letter = word.group(1)[1]
        pos = word.end()
        if spec.find(letter + ":") >= 0 and len(word.group(1)) == 2:
            value = re.compile(r"\s*\S+").match(parameter_s, pos)
            pos = value.end() if value is not None else pos
    return parameter_s[:pos], parameter_s[pos:].strip()


def register(ipython):
    from IPython.core.error import UsageError
    from IPython.core.magic import Magics, line_magic, magics_class

    @magics_class
    class LineProfilerMagics(Magics):
        @line_magic
        def lprun(self, parameter_s=""):
            options, statement = _split_statement(parameter_s,
                                                  "rsf:m:D:T:u:")
            opts, _ = self.parse_options(options, "rsf:m:D:T:u:",
                                         list_all=True)
            namespace = self.shell.user_ns
            profiler = LineProfiler()
            for expr in opts.get("f", []):
                profiler.add_function(eval(expr, namespace, namespace))
            for name in opts.get("m", []):
                module = __import__(name, fromlist=["_"])
                for value in vars(module).values():
                    if getattr(value, "__module__", None) == module.__name__:
                        try:
                            profiler.add_function(value)
                        except TypeError:
                            pass
            unit = float(opts["u"][0]) if "u" in opts else None
            try:
                profiler.runctx(statement, namespace, namespace)
            except SystemExit:
                print("*** SystemExit exception caught in code being "
                      "profiled.")
            except KeyboardInterrupt:
                print("*** KeyboardInterrupt exception caught in code "
                      "being profiled.")
            profiler.print_stats(output_unit=unit, stripzeros="s" in opts)
            if "D" in opts:
                profiler.dump_stats(opts["D"][0])
                print("*** Profile stats pickled to file %r." % opts["D"][0])
            if "T" in opts:
                with open(opts["T"][0], "w") as f:
                    profiler.print_stats(stream=f, output_unit=unit,
                                         stripzeros="s" in opts)
                print("*** Profile printout saved to text file %r."
                      % opts["T"][0])
            if "r" in opts:
                return profiler
            return None

        @line_magic
        def mprun(self, parameter_s=""):
            options, statement = _split_statement(parameter_s, "rcf:T:")
            opts, _ = self.parse_options(options, "rcf:T:", list_all=True)
            namespace = self.shell.user_ns
            funcs = []
            for expr in opts.get("f", []):
                try:
                    funcs.append(eval(expr, namespace, namespace))
                except Exception as e:
                    raise UsageError("Could not find function %r.\n%s: %s"
                                     % (expr, e.__class__.__name__, e))
            code = compile(statement, "<mprun>", "exec")
            report, raised = _mprun(funcs,
                                    lambda: exec(code, namespace, namespace))
            message = _interrupted(raised) if raised is not None else ""
            print(report.rstrip())
            if message:
                print(message)
            if "T" in opts:
                with open(opts["T"][0], "w") as f:
                    f.write(report.rstrip())
                print("\n*** Profile printout saved to text file %s. %s"
                      % (opts["T"][0], message or ""))
            if raised is not None and message is None:
                raise raised
            return None

        @line_magic
        def memit(self, parameter_s=""):
            opts, statement = self.parse_options(parameter_s, "r:t:i:coq",
                                                 posix=False, strict=False)
            repeat = max(int(getattr(opts, "r", 1)), 1)
            timeout = int(getattr(opts, "t", 0)) or None
            interval = float(getattr(opts, "i", 0.1))
            namespace = self.shell.user_ns
            code = compile(statement, "<memit>", "exec")
            gc.collect()    # as memory_profiler: less noise
            baseline = memory_usage()[0]
            peaks = [memory_usage((exec, (code, namespace, namespace)),
                                  interval=interval, timeout=timeout,
                                  include_children="c" in opts,
                                  max_usage=True)
                     for _ in range(repeat)]
            peak = max(peaks)
            if "q" not in opts:
                print("peak memory: %.02f MiB, increment: %.02f MiB"
                      % (peak, peak - baseline))
            return (peak, peak - baseline) if "o" in opts else None

    ipython.register_magics(LineProfilerMagics)
