// Package release turns the source tree into what users install (the
// classic tarball and per-target CNB directories, with prebuilt binaries and
// no Go sources) and checks a release commit.
package release
