// Package pin pins mesh releases in the buildpack's inventory.toml (make
// pin, make update-inventory), each file verified by signature under the
// buildpack's own trust rules before its sha256 is written.
package pin
