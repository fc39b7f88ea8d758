#!/bin/sh
# Capture a memory image of tests/programs/sampled_target.py on every
# CPython 3.10-3.13 under pyenv and 3.14/3.15 in the sid chroot (/work/sid),
# for tests/c (test_sampler.c) and the fuzz corpus:
#   tests/c/data/image-3.X.img   what one sample read
#   tests/c/data/image-3.X.txt   the target's own account of its stacks
#                                (traceback.extract_stack per thread)
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
data="$here/tests/c/data"
tool=/tmp/pyprof-capture-image
cc -std=c11 -D_GNU_SOURCE -O1 -I"$here/src" -o "$tool" \
    "$here/tools/capture_image.c" "$here"/src/sampler/*.c
to_text='import json, sys
report = json.loads(sys.stdin.readline())
for tid, info in sorted(report["threads"].items()):
    print("thread", tid, info["name"] if info else "main")
    for name, filename, line in (info or {}).get("frames") or []:
        print("frame", name, filename, line, sep="\t")'
capture() {  # VERSION COMMAND...
    v=$1; shift
    fifo=$(mktemp -u); mkfifo "$fifo"
    "$@" > "$fifo" & runner=$!
    exec 3< "$fifo"; read -r report <&3
    pid=$(echo "$report" | python3 -c 'import json,sys; print(json.load(sys.stdin)["main"])')
    "$tool" "$pid" "$data/image-$v.img"
    echo "$report" | python3 -c "$to_text" > "$data/image-$v.txt"
    kill "$pid" 2>/dev/null || true; wait "$runner" 2>/dev/null || true
    exec 3<&-; rm -f "$fifo"
    echo "image-$v: $(wc -c < "$data/image-$v.img") bytes"
}
root=$(pyenv root)/versions
for v in 3.10 3.11 3.12 3.13; do
    py=$(ls -d "$root/$v".* | tail -1)/bin/python3
    capture "$v" "$py" "$here/tests/programs/sampled_target.py"
done
for v in 3.14 3.15; do
    [ -x "/work/sid/usr/bin/python$v" ] || continue
    cp "$here/tests/programs/sampled_target.py" /work/sid/tmp/sampled_target.py
    capture "$v" chroot /work/sid "python$v" /tmp/sampled_target.py
done
rm -f /work/sid/tmp/sampled_target.py "$tool"
