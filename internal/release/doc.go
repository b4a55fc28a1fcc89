// Package release owns turning the source tree into what users install: the
// classic buildpack tarball and the per-target CNB buildpack directories
// (with prebuilt binaries and no Go sources), and the checks a release
// commit must pass before it is tagged.
package release
