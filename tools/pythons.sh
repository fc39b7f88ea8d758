#!/bin/sh
# Prints the interpreter of every supported CPython (3.10-3.13) found on this
# machine, one path a line: the newest pyenv build of each minor version, or
# else python3.1x on PATH.  `make test` runs the suite once for each.
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for minor in 10 11 12 13; do
    found=
    if [ -d "$root/versions" ]; then
        v=$(ls "$root/versions" 2>/dev/null | grep -E "^3\.$minor\.[0-9]+$" | sort -V | tail -n 1)
        if [ -n "$v" ] && [ -x "$root/versions/$v/bin/python3" ]; then
            found="$root/versions/$v/bin/python3"
        fi
    fi
    if [ -z "$found" ]; then
        p=$(command -v "python3.$minor" 2>/dev/null)
        if [ -n "$p" ] && "$p" -c 'import sys' >/dev/null 2>&1; then
            found="$p"
        fi
    fi
    [ -n "$found" ] && echo "$found"
done
exit 0
