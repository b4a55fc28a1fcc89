// Package install owns the install core that both platform contracts share:
// resolving the configured request to a pinned artifact and its download URL,
// then putting exactly that artifact, verified, at a bin directory, reusing
// a checksum-keyed cache when one is given.
//
// The classic and CNB packages only decide where the bin directory and the
// cache are; everything about getting verified bytes there lives here.
package install
