/* cli.h - the `pyprof` command line: subcommand dispatch.
 *
 * `pyprof run|stats|time ...`.  Entered from the console script and from
 * `python -m pyprof` through pyprof._pyprof.main(argv), with the GIL held.
 */
#ifndef PYPROF_CLI_H
#define PYPROF_CLI_H

/* Run the command line `argv[0..argc)` (argv[0] is the program name).
 * Returns the process exit status; never leaves a Python exception set. */
int pyprof_cli_main(int argc, char **argv);

#endif
