// Package inventory owns the release inventory, inventory.toml at the
// buildpack's root: the mesh releases this buildpack pins, each an artifact
// with a version, a platform, the official download URL and the sha256 that
// every installed byte must match, and the pinned fingerprint of the key
// that signs releases the inventory does not pin.
//
// The file has the form Heroku's own buildpacks use (repeated [[artifacts]]
// tables), is read at run time and is written whole by an encoder, so a
// maintainer (make pin) or a test can pin a release without rebuilding the
// binary or editing text. The package also resolves a version request to
// one artifact for one architecture.
package inventory
