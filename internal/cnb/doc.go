// Package cnb owns the Cloud Native Buildpack contract (Buildpack API 0.10):
// detect, and a build that keeps the mesh in a launch and cache layer named
// service-mesh. Like package classic it is a thin adapter: it decides where
// the binary goes and whether a restored layer can be kept, and leaves
// installing to package install.
package cnb
