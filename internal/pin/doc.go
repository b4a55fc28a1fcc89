// Package pin owns the maintainers' pin tool: it downloads a release for
// every target architecture, verifies each signature against the release
// key, and writes the sha256 of each into buildpack.toml's inventory as
// [[metadata.artifacts]] tables, editing the file as text so that comments,
// order and the TOML 0.4 form the classic registry needs are kept.
package pin
