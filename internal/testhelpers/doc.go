// Package testhelpers owns what the unit tests and the end-to-end harness
// share: a loopback release mirror with fault injection, release signing
// keys, stand-in release files with their inventory, an installer with no
// backoff and a fixed clock, and one assertion over go-cmp.
//
// Only tests import it.
package testhelpers
