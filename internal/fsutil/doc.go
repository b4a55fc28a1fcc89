// Package fsutil owns the few file operations the buildpack needs beyond
// os.Root, which already confines every one of them to the directory it is
// given (BUILD_DIR, the cache, the layer, the buildpack): reading only
// regular files, without blocking and within a size; temporary files that
// a later build can tell from a running build's; atomic replacement of
// files and links; and the error that says what to do about a path.
package fsutil
