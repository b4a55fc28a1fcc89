// Package inventory owns the release inventory: the mesh releases this
// buildpack pins, each an artifact with a version, a platform, a download URL
// and the sha256 checksum that every downloaded byte must match.
//
// The inventory lives in buildpack.toml as repeated [[metadata.artifacts]]
// tables and is read at run time, so a maintainer or a test can pin a release
// without rebuilding the binary. The package also resolves a user's request
// (an exact version, a semver constraint, "latest" or nothing) to one
// artifact for one architecture.
package inventory
