"""%lprun for IPython/Jupyter, as line_profiler's magic spells it:

    %lprun -f func [-f func2] [-m module] [-u unit] [-s] [-D f.lprof]
           [-T f.txt] [-r] statement

Option parsing is IPython's; selecting, running and printing are
pyprof.LineProfiler's (C).
"""
from pyprof._pyprof import LineProfiler


def register(ipython):
    from IPython.core.magic import Magics, line_magic, magics_class

    @magics_class
    class LineProfilerMagics(Magics):
        @line_magic
        def lprun(self, parameter_s=""):
            opts, statement = self.parse_options(
                parameter_s, "rsf:m:D:T:u:", list_all=True)
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

    ipython.register_magics(LineProfilerMagics)
