// Package install owns the one pipeline both platforms share: resolve the
// config vars against the inventory, keep an earlier copy of a pinned
// release or download, verify (the pinned sha256, or a signature by the
// allowed key), and place the binary with its links.
package install
