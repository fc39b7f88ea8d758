#!/bin/sh
# tools/sid-run.sh DIR [--repo PATH] CMD [ARG...]: runs CMD as root inside the
# chroot DIR (made by tools/sid-chroot.sh) with /proc, /dev, /dev/pts and
# /dev/shm of the host, and with PATH (a source tree) mounted at the same
# path inside, so that the tree's paths mean the same in and out.  CMD starts
# in PATH, else in /.
#
# The mounts live in a mount namespace of this command alone (unshare): they
# vanish when CMD exits, however it exits, and several runs at once (other
# worktrees, other users of one chroot) never unmount each other's /proc.
set -eu

dir=${1:?usage: tools/sid-run.sh DIR [--repo PATH] CMD [ARG...]}
shift
repo=
if [ "${1:-}" = --repo ]; then
    repo=$(cd "${2:?--repo needs a path}" && pwd -P)
    shift 2
fi
[ $# -ge 1 ] || { echo "usage: tools/sid-run.sh DIR [--repo PATH] CMD [ARG...]" >&2; exit 2; }
dir=$(cd "$dir" && pwd -P)
[ -x "$dir/usr/bin/env" ] || { echo "sid-run: $dir is not a chroot (tools/sid-chroot.sh $dir makes one)" >&2; exit 2; }

cd=${repo:-/}
# CMD starts in $cd, in a clean environment but for PYPROF_* settings
# (PYPROF_REQUIRE_GO and the like must mean the same inside).
set -- sh -c 'cd "$0" && exec "$@"' "$cd" "$@"
for name in $(env | sed -n 's/^\(PYPROF_[A-Za-z0-9_]*\)=.*/\1/p'); do
    set -- "$name=$(printenv "$name")" "$@"
done

# The body runs in the new namespace: $1 chroot, $2 repo ('' for none),
# then the environment and CMD.  Bind mounts one by one (not --rbind), so
# nothing of the host's mount tree propagates in or out.
exec unshare --mount --propagation private sh -eu -c '
    dir=$1; repo=$2; shift 2
    mount --bind /proc "$dir/proc"
    mount --bind /dev "$dir/dev"
    for m in dev/pts dev/shm; do
        if mountpoint -q "/$m" && [ -d "$dir/$m" ]; then mount --bind "/$m" "$dir/$m"; fi
    done
    if [ -n "$repo" ]; then
        mkdir -p "$dir$repo"
        mount --bind "$repo" "$dir$repo"
    fi
    exec chroot "$dir" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
' sid-run "$dir" "$repo" "$@"
