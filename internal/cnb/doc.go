// Package cnb adapts the install to the Cloud Native Buildpacks contract
// (bin/build, Buildpack API 0.10): the service-mesh launch layer, cached for
// a pinned release, its metadata and its CycloneDX SBOM.
package cnb
