// Package signature owns OpenPGP verification for releases the inventory
// does not pin: parsing the release signing key, checking it against a
// pinned fingerprint, and verifying a detached ASCII-armoured signature over
// a downloaded file, all in-process, with no gpg binary.
package signature
