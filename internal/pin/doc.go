// Package pin owns pinning mesh releases in the buildpack's inventory.toml:
// make pin downloads a version for every architecture, make
// update-inventory does so for what the bucket calls latest when it is
// new. Each file is verified by signature under the buildpack's own trust
// rules before its sha256 is written, and the inventory is rewritten whole.
package pin
