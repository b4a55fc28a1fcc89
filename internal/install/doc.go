// Package install owns the one pipeline both platform contracts share:
// resolve the configured request to a release, obtain its bytes (a copy an
// earlier build left, or a download), verify them, and place them on PATH.
//
// A release is verified either by the checksum the inventory pins or by a
// detached signature from an allowed key; both end in a sha256 recorded with
// its evidence (a Record). A copy an earlier build left is kept only when
// its record satisfies the trust rules of this build, decided by one
// comparison whose outcome is a typed Discard, and its bytes are always
// hashed again before they reach PATH.
//
// The classic and CNB packages only say where the binary goes and which
// Store holds earlier copies (the classic build cache or the restored
// layer).
package install
