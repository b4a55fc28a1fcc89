#!/bin/sh
# lib/build.sh ARCH OUT: builds the buildpack binary for linux/ARCH into OUT
# from this source tree. The one build recipe: `make binaries` and the bin/
# shims (in a source checkout) both run it, so the shim's build is the
# release build, byte for byte. lib/build.sh --version prints the version it
# stamps (the release workflow reads it so, through make).
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd -P)

# The binary embeds the buildpack's version, and nothing else about the
# machine or the time: release builds must be reproducible.
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$root/buildpack.toml" | head -n 1)
[ -n "$version" ] || {
	echo "lib/build.sh: no [buildpack] version in $root/buildpack.toml" >&2
	exit 1
}
if [ "${1-}" = --version ]; then
	echo "$version"
	exit 0
fi
arch=${1:?usage: lib/build.sh ARCH OUT, or lib/build.sh --version}
out=${2:?usage: lib/build.sh ARCH OUT, or lib/build.sh --version}

go_cmd=$(command -v go 2>/dev/null || true)
for candidate in /usr/local/go/bin/go /usr/lib/go/bin/go; do
	[ -n "$go_cmd" ] && break
	[ -x "$candidate" ] && go_cmd=$candidate
done
[ -n "$go_cmd" ] || {
	echo "lib/build.sh: no Go toolchain on PATH, in /usr/local/go or /usr/lib/go" >&2
	exit 127
}

mkdir -p "$(dirname -- "$out")"
cd "$root"
CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOFLAGS="-mod=readonly ${GOFLAGS-}" "$go_cmd" build ${BUILD_VERBOSE:+-v} \
	-trimpath -buildvcs=false -ldflags "-s -w -buildid= -X main.version=$version" \
	-o "$out.tmp.$$" ./cmd/heroku-applink-buildpack || {
	rm -f "$out.tmp.$$"
	exit 1
}
mv -f "$out.tmp.$$" "$out"
