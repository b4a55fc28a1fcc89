// Package inventory owns inventory.toml: the mesh releases the buildpack
// pins (version, arch, official URL, sha256), the fingerprint of the key that
// signs the releases it does not pin, and resolving a version request.
package inventory
