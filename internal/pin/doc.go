// Package pin owns the maintainers' pin tool: it downloads a release for
// every target architecture of the buildpack, verifies each signature
// against the release key under the buildpack's own trust rules, and
// writes the sha256 of each into inventory.toml, which it rewrites whole.
package pin
