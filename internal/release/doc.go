// Package release is the maintainers' tooling: it pins mesh releases in the
// buildpack's inventory.toml, each verified by signature under the buildpack's
// own trust rules, turns the source tree into what users install (the classic
// tarball and per-target CNB directories, with prebuilt binaries and no Go
// sources) and checks a release commit.
package release
