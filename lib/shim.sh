# shellcheck shell=sh
# Shared by the bin/ shims, which set $phase and $shim_dir and source this
# file; `sh lib/shim.sh prepare` only builds the binary (make build).
#
# It execs the one buildpack binary for this machine: the prebuilt one of a
# packaged release (lib/linux-<arch>/), or else one built from this source
# tree into the ignored .build/ folder, rebuilt only when a source is newer
# than the last build. It must work under `env -i PATH=/usr/bin:/bin` with
# HOME unset.

case $0 in
*shim.sh)
	phase=${1-}
	[ $# -gt 0 ] && shift
	shim_dir=${0%/*}/../bin
	;;
*) ;; # sourced by a shim, which set both
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
export HEROKU_APPLINK_BUILDPACK_DIR="$bp_dir"

if [ -f "$prebuilt" ] && [ "$phase" != prepare ]; then
	# Some installers keep the exec bit only on bin/detect, bin/compile and
	# bin/release.
	if [ ! -x "$prebuilt" ]; then
		# shellcheck disable=SC2312 # id's status does not matter in an error message
		chmod +x "$prebuilt" 2>/dev/null ||
			shim_fail "$prebuilt has lost its exec bit, and user $(id -u) cannot restore it (the file belongs to someone else or is on a read-only filesystem). Install the buildpack with its file modes kept, or run chmod +x on that file where it is installed."
	fi
	exec "$prebuilt" "$phase" "$@"
fi

if [ ! -f "$bp_dir/go.mod" ]; then
	shim_fail "no prebuilt buildpack binary for linux/$arch at $prebuilt. Install the buildpack from the buildpack registry (heroku/heroku-applink-service-mesh) or a release tag (https://github.com/heroku/heroku-buildpack-heroku-applink-service-mesh#vX.Y.Z), which carry binaries for amd64 and arm64."
fi

# A source checkout: rebuild when any source is newer than the last build.
# File times, not contents: reading every source on each call would cost
# more than the binary it starts.
dev=$bp_dir/.build/linux-$arch/$name
stamp=$dev.stamp
# Only find's output matters: a path it cannot read is no newer source.
# shellcheck disable=SC2312
if [ ! -x "$dev" ] || [ ! -f "$stamp" ] ||
	[ -n "$(find "$bp_dir/cmd" "$bp_dir/internal" "$bp_dir/go.mod" "$bp_dir/go.sum" "$bp_dir/buildpack.toml" "$bp_dir/lib/build.sh" \
		-newer "$stamp" -print 2>/dev/null | head -n 1)" ]; then
	if ! mkdir -p "${dev%/*}" 2>/dev/null || [ ! -w "${dev%/*}" ]; then
		shim_fail "cannot build the buildpack binary: $bp_dir is read-only. Run 'make build' before using this checkout, or use a packaged release."
	fi
	if [ -z "${HOME-}" ]; then
		# A scrubbed environment: go needs a cache and a module directory,
		# kept in the build folder (the module cache writable, so it can be
		# removed), and everything is compiled from scratch.
		export GOCACHE="${GOCACHE:-$bp_dir/.build/go-cache}" GOMODCACHE="${GOMODCACHE:-$bp_dir/.build/go-mod}" GOPATH="${GOPATH:-$bp_dir/.build/go-path}"
		export GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw" BUILD_VERBOSE=1
		echo "-----> Building the buildpack binary for linux/$arch from source: a one-time build that takes a few minutes" >&2
	else
		echo "-----> Building the buildpack binary for linux/$arch from source" >&2
	fi
	# The stamp is taken before the build, so a source edited during it is
	# newer than the stamp and triggers the next rebuild.
	: >"$stamp.new" 2>/dev/null || shim_fail "cannot write $stamp.new"
	sh "$bp_dir/lib/build.sh" "$arch" "$dev" >&2 || {
		status=$?
		rm -f "$stamp.new"
		case $status in
		127) shim_fail "no prebuilt buildpack binary for linux/$arch and no Go toolchain to build one from source. Install the buildpack from the buildpack registry (heroku/heroku-applink-service-mesh) or a release tag (https://github.com/heroku/heroku-buildpack-heroku-applink-service-mesh#vX.Y.Z): Heroku's stacks have no Go." ;;
		*) shim_fail "building the buildpack binary failed (see above)" ;;
		esac
	}
	mv -f "$stamp.new" "$stamp" || shim_fail "cannot write $stamp"
fi

[ "$phase" = prepare ] && exit 0
exec "$dev" "$phase" "$@"
