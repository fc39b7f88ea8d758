#!/bin/sh
# tools/sid-chroot.sh DIR: makes DIR a Debian sid chroot with CPython 3.14 and
# 3.15 (the versions the pyenv builds of tools/pythons.sh do not cover), their
# headers, venv and test suites, and a C toolchain, so that `make test SID=DIR`
# can build pyprof and run the suite on them.  Runs as root (debootstrap,
# chroot, mount).
#
# The mirror is this machine's own: the URIs of the Debian archive in its apt
# configuration (/etc/apt/sources.list.d/*.sources in deb822 form, or
# *.list / /etc/apt/sources.list in one-line form), read at run time; no host
# name is written here.  MIRROR=URI in the environment overrides it;
# `tools/sid-chroot.sh --print-mirror` prints the one it would use.
# DIR may already hold a chroot: debootstrap is then skipped and the
# listed packages installed (a no-op when they are).
set -eu

dir=${1:?usage: tools/sid-chroot.sh DIR}
apt_etc=${APT_ETC:-/etc/apt}   # another apt configuration, for testing

# Prints the URI of the first Debian archive (a suite without "-", such as
# bookworm or sid, not bookworm-security or bookworm-updates) configured in
# apt, deb822 stanzas first, then one-line entries.
apt_debian_uri() {
    for f in "$apt_etc"/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '
            function flush() {
                if (deb && uri != "" && suite) { print uri; exit }
                deb = 0; uri = ""; suite = 0
            }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]*#/ { next }
            tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
            tolower($1) == "uris:" { uri = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i !~ /-/) suite = 1 }
            END { flush() }
        ' "$f"
    done
    for f in "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # deb [options] URI SUITE COMPONENT...
        sed -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $3 !~ /-/ { print $2 }'
    done
}

mirror=${MIRROR:-}
if [ -z "$mirror" ]; then
    for uri in $(apt_debian_uri); do
        case "$uri" in
            */debian | */debian/) mirror=$uri; break ;;
        esac
    done
fi
if [ -z "$mirror" ]; then
    echo "sid-chroot: no Debian archive found in $apt_etc (set MIRROR=URI)" >&2
    exit 2
fi
if [ "$dir" = --print-mirror ]; then
    echo "$mirror"
    exit 0
fi
echo "sid-chroot: mirror $mirror"
command -v debootstrap >/dev/null || { echo "sid-chroot: debootstrap not installed" >&2; exit 2; }

start=$(date +%s)
if [ ! -x "$dir/usr/bin/apt-get" ]; then
    debootstrap --variant=minbase sid "$dir" "$mirror"
fi

# Package installation inside needs /proc and /dev: sid-run.sh mounts them
# for the one command.
here=$(cd "$(dirname "$0")" && pwd)
in_chroot() { sh "$here/sid-run.sh" "$dir" "$@"; }

# A throwaway test chroot needs no fsync after every file dpkg unpacks.
echo force-unsafe-io > "$dir/etc/dpkg/dpkg.cfg.d/99pyprof-unsafe-io"
# A mirror may serve a frozen snapshot of sid whose Release file has
# expired; its signature is still checked.
echo 'Acquire::Check-Valid-Until "false";' > "$dir/etc/apt/apt.conf.d/99pyprof-snapshot"
in_chroot apt-get update -q
# The interpreters under test with their headers, venv, and test suites
# (test.support, which the suite's programs may import); build-essential
# builds pyprof (and is GCC 16 for `make ctest`); the tools the suite
# drives, as on the host: chromium renders pyprof view's pages (headless),
# graphviz's dot draws show_refs, golang-go's `go tool pprof` reads pprof
# files.  A missing name fails here, loudly, rather than testing less.
pkgs="build-essential ca-certificates chromium graphviz golang-go"
for v in 3.14 3.15; do
    pkgs="$pkgs python$v python$v-dev python$v-venv libpython$v-testsuite"
done
in_chroot apt-get install -y -q --no-install-recommends $pkgs
in_chroot apt-get clean
# sid's Go (1.24+) builds `go tool pprof` from source at its first use
# (40 s and more); built here once, into root's Go cache inside, so that no
# test waits for it.
in_chroot go tool pprof -h >/dev/null 2>&1

# pip inside verifies TLS with the host's CA bundle (the same trust as the
# host's own pip), whatever ca-certificates sid shipped.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
fi
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$dir/etc/pip.conf"
# Name resolution for pip inside.
cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true

for v in 3.14 3.15; do
    in_chroot "python$v" -c 'import sys; print(sys.version)'
done
echo "sid-chroot: $dir made in $(( $(date +%s) - start )) s"
