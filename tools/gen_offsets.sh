#!/bin/sh
# Print src/sampler/offsets.c's table rows for every pyenv CPython 3.10-3.12
# (3.13+ targets carry their own _Py_DebugOffsets).
set -e
root=$(pyenv root)/versions
for v in 3.10 3.11 3.12; do
    dir=$(ls -d "$root/$v".* | tail -1)
    inc="$dir/include/python$v"
    cc -std=c11 -I"$inc" -I"$inc/internal" -o /tmp/gen_offsets_$v \
        "$(dirname "$0")/gen_offsets.c"
    /tmp/gen_offsets_$v
    rm -f /tmp/gen_offsets_$v
done
