// Package fsutil owns what the buildpack needs beyond os.Root, which keeps
// every operation within its directory: regular-file-only, non-blocking,
// bounded reads; temporary files a later build can tell from a running
// build's; atomic replacement; and the error that says what to do about a path.
package fsutil
