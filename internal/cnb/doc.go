// Package cnb owns the Cloud Native Buildpack contract (Buildpack API 0.10):
// a build that keeps the mesh in a launch layer named service-mesh, cached
// for a pinned release, with its record as the layer's metadata and a
// CycloneDX SBOM. Like package classic it is a thin adapter: it says where
// the binary goes and which restored copy the install may keep, and writes
// the layer's files.
package cnb
