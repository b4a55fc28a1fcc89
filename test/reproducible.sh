#!/bin/sh
# make verify-reproducible: builds the release binaries in two clean clones
# of HEAD, at different paths, and checks they are byte-identical for every
# target. The first uses the usual Go build cache, the second an empty one,
# so that nothing the first compiled can reach the second. Anyone can run it
# against a release tag to check that its binaries were built from its source.
set -eu
export PATH="$PATH:/usr/local/go/bin"
root=$(pwd)
ref=${REF:-HEAD}
work=$(mktemp -d "${TMPDIR:-/tmp}/reproducible-XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

commit=$(git -C "$root" rev-parse "$ref")
short=$(git -C "$root" rev-parse --short "$commit")
for n in 1 2; do
	git clone -q --no-hardlinks "$root" "$work/clone-$n"
	git -C "$work/clone-$n" checkout -q "$commit"
	echo "-----> Building clone $n ($short) in $work/clone-$n"
	if [ "$n" = 2 ]; then
		export GOCACHE="$work/cache"
	fi
	(cd "$work/clone-$n" && make -s build)
done

status=0
for bin in "$work"/clone-1/dist/bin/*/heroku-applink-buildpack; do
	target=$(basename "$(dirname "$bin")")
	a=$(sha256sum <"$bin" | cut -d' ' -f1)
	b=$(sha256sum <"$work/clone-2/dist/bin/$target/heroku-applink-buildpack" | cut -d' ' -f1)
	if [ "$a" = "$b" ]; then
		echo "       $target  identical  sha256:$a"
	else
		echo " !     $target  DIFFERENT  sha256:$a vs sha256:$b" >&2
		status=1
	fi
done
[ -n "${a-}" ] || {
	echo " !     no binaries were built" >&2
	exit 1
}

# The binary the shims build from source is the release binary, too.
for dev in "$work"/clone-1/.build/*/heroku-applink-buildpack; do
	target=$(basename "$(dirname "$dev")")
	if cmp -s "$dev" "$work/clone-1/dist/bin/$target/heroku-applink-buildpack"; then
		echo "       $target  the shim's build is the release build"
	else
		echo " !     $target  the shim's build differs from the release build" >&2
		status=1
	fi
done
exit "$status"
