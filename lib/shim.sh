# shellcheck shell=sh
# Shared by the bin/ shims, which set $phase and $shim_dir and source this
# file; `sh lib/shim.sh prepare` only builds the binary (make build).
#
# It execs the one buildpack binary for this machine: the prebuilt one of a
# packaged release (lib/linux-<arch>/), or else one built from this source
# tree into the ignored .build/ folder, rebuilt only when the sources change.
# It must work under `env -i PATH=/usr/bin:/bin` with HOME unset.

case $0 in
*shim.sh)
	phase=${1-}
	[ $# -gt 0 ] && shift
	shim_dir=${0%/*}/../bin
	;;
esac

shim_fail() {
	printf '\n !     Error: %s\n\n' "$1" >&2
	exit 1
}

# Platforms call the shims by absolute path; only a relative one costs a
# subshell to resolve. bin/detect's speed matters: it runs on every build.
case $shim_dir in
/*/bin) bp_dir=${shim_dir%/bin} ;;
/*) bp_dir=$shim_dir/.. ;;
*) bp_dir=$(CDPATH='' cd -- "$shim_dir/.." && pwd -P) || shim_fail "cannot find the buildpack directory from $0" ;;
esac

# The kernel's own answer, without forking uname where it is offered.
machine=
{ read -r machine </proc/sys/kernel/arch; } 2>/dev/null || machine=$(uname -m)
case $machine in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) shim_fail "unsupported architecture $machine: the Heroku AppLink Service Mesh is released for x86_64 (amd64) and aarch64 (arm64) only" ;;
esac

name=heroku-applink-buildpack
prebuilt=$bp_dir/lib/linux-$arch/$name

if [ -f "$prebuilt" ] && [ "$phase" != prepare ]; then
	# Some installers keep the exec bit only on bin/detect, bin/compile and
	# bin/release.
	if [ ! -x "$prebuilt" ]; then
		chmod +x "$prebuilt" 2>/dev/null ||
			shim_fail "$prebuilt has lost its exec bit, and user $(id -u) cannot restore it (the file belongs to someone else or is on a read-only filesystem). Install the buildpack with its file modes kept, or run chmod +x on that file where it is installed."
	fi
	HEROKU_APPLINK_BUILDPACK_DIR=$bp_dir exec "$prebuilt" "$phase" "$@"
fi

if [ ! -f "$bp_dir/go.mod" ]; then
	shim_fail "no prebuilt buildpack binary for linux/$arch at $prebuilt. Use a packaged release of this buildpack, which carries binaries for amd64 and arm64."
fi

# The binary embeds the buildpack version, so it is part of the fingerprint;
# the inventory pins are read at run time and are not.
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$bp_dir/buildpack.toml" | head -n 1)
fingerprint=$(
	cd "$bp_dir" &&
		files=$(find cmd internal -type f -name '*.go' ! -name '*_test.go' | LC_ALL=C sort) &&
		{ echo "$version $files"; cat go.mod go.sum $files; } | cksum
) || shim_fail "cannot read the buildpack sources in $bp_dir"

out_dir=$bp_dir/.build/linux-$arch
dev=$out_dir/$name
if [ ! -x "$dev" ] || [ "$(cat "$dev.stamp" 2>/dev/null)" != "$fingerprint" ]; then
	go_cmd=$(command -v go 2>/dev/null)
	for candidate in /usr/local/go/bin/go /usr/lib/go/bin/go; do
		[ -n "$go_cmd" ] && break
		[ -x "$candidate" ] && go_cmd=$candidate
	done
	[ -n "$go_cmd" ] ||
		shim_fail "no prebuilt buildpack binary for linux/$arch and no Go toolchain to build one from source. Use a packaged release of this buildpack, or install Go and run 'make build'."
	mkdir -p "$out_dir" 2>/dev/null && [ -w "$out_dir" ] ||
		shim_fail "cannot build the buildpack binary: $bp_dir is read-only. Run 'make build' before using this checkout, or use a packaged release."
	if [ -z "${HOME-}" ]; then
		# go needs a cache and a module directory; keep them in the build
		# folder rather than fail in a scrubbed environment.
		export GOCACHE="${GOCACHE:-$bp_dir/.build/go-cache}" GOMODCACHE="${GOMODCACHE:-$bp_dir/.build/go-mod}" GOPATH="${GOPATH:-$bp_dir/.build/go-path}"
		# A module cache is read-only by default; keep this one removable.
		go_flags=-modcacherw
	fi
	echo "-----> Building the buildpack binary for linux/$arch from source" >&2
	(
		cd "$bp_dir" &&
			CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOFLAGS="-mod=readonly ${go_flags-}" "$go_cmd" build -trimpath -buildvcs=false \
				-ldflags "-s -w -buildid= -X main.version=$version" -o "$dev.$$" ./cmd/$name
	) >&2 || {
		rm -f "$dev.$$"
		shim_fail "building the buildpack binary failed (see above)"
	}
	mv -f "$dev.$$" "$dev" && echo "$fingerprint" >"$dev.stamp" ||
		shim_fail "cannot write $dev"
fi

[ "$phase" = prepare ] && exit 0
HEROKU_APPLINK_BUILDPACK_DIR=$bp_dir exec "$dev" "$phase" "$@"
