// Package signature owns OpenPGP verification of releases the inventory
// does not pin: the release signing key, checked against a pinned
// fingerprint, and detached armoured signatures, all in-process.
package signature
