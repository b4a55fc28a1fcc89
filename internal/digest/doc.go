// Package digest owns the buildpack's one checksum type, a sha256 digest
// written "sha256:<64 lowercase hex digits>" wherever it is stored, and the
// single pass that copies bytes while hashing them.
//
// Every byte the buildpack installs goes through Copy: downloads, copies
// out of the cache and re-hashes of a restored layer all hash with the same
// code and compare the same type.
package digest
