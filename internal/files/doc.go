// Package files owns how the buildpack writes to directories it shares
// with the app and the platform: directories created under a root without
// passing through a symlink the app may have planted, and files replaced
// atomically through a temporary name, so that a reader sees the old file
// or the new one and never half of either.
package files
