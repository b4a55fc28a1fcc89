// Package version owns what a user may ask for in
// HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION: nothing (the newest pinned
// release), "latest", an exact version, or a semver constraint, and which
// released versions each of those matches.
package version
