package install

import (
	"fmt"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
)

// How a record's bytes were trusted.
const (
	ByPin       = "pinned checksum"
	BySignature = "signature"
)

// Record is what a build writes down about the release it installed, so a
// later build can decide by equality whether a copy may be kept: the
// release, the sha256 of its bytes and the evidence that trusted them (for
// an unpinned release, the signature itself, which is also how a later
// build asks its source whether it changed). It is the CNB layer's metadata
// and an entry of the classic cache's index, and it never holds
// credentials.
type Record struct {
	Version  string        `toml:"version"`
	OS       string        `toml:"os"`
	Arch     string        `toml:"arch"`
	URL      string        `toml:"url"`
	Checksum digest.Digest `toml:"checksum"`
	// Verified is ByPin or BySignature.
	Verified string `toml:"verified"`
	// Signer and KeySource: the fingerprint of the key whose signature was
	// verified, and where that key came from.
	Signer    string `toml:"signer,omitempty"`
	KeySource string `toml:"key-source,omitempty"`
	// Signature is the detached signature itself, ASCII-armoured: the
	// evidence a later build checks the kept bytes against again, since a
	// checksum written beside the bytes proves nothing about them.
	Signature string `toml:"signature,omitempty"`
}

// Problem is a kind of reason to discard a copy.
type Problem int

// The reasons a copy is discarded.
const (
	// NoMetadata: a restored layer without its record.
	NoMetadata Problem = iota + 1
	// BadMetadata: a record that cannot be read.
	BadMetadata
	// OtherMetadata: a record written by another version of the buildpack.
	OtherMetadata
	// VersionChanged, PlatformChanged, URLChanged: another release.
	VersionChanged
	PlatformChanged
	URLChanged
	// NotThePin: bytes other than the ones the inventory pins.
	NotThePin
	// NotSigned: bytes trusted by a pin this buildpack no longer has.
	NotSigned
	// KeySourceChanged, SignerNotAllowed: a signature this build's trust
	// rules would not accept.
	KeySourceChanged
	SignerNotAllowed
	// NoSignature, BadSignature: a signed release whose signature is not
	// kept, or no longer verifies over the kept bytes.
	NoSignature
	BadSignature
	// ChangedAtSource: the source publishes another signature.
	ChangedAtSource
	// BadCopy: the bytes are missing or no longer hash to their record.
	BadCopy
)

// Discard is why a copy an earlier build left cannot be kept.
type Discard struct {
	Problem  Problem
	Was, Now string
}

func (d *Discard) String() string {
	switch d.Problem {
	case NoMetadata:
		return "its metadata is missing"
	case BadMetadata:
		return "its metadata is unreadable (" + d.Was + ")"
	case OtherMetadata:
		return "its metadata is from another version of this buildpack"
	case VersionChanged:
		return fmt.Sprintf("the version changed (%s to %s)", orNone(d.Was), d.Now)
	case PlatformChanged:
		return fmt.Sprintf("the architecture changed (%s to %s)", d.Was, d.Now)
	case URLChanged:
		return fmt.Sprintf("the download URL changed (%s to %s)", orNone(d.Was), d.Now)
	case NotThePin:
		return fmt.Sprintf("its checksum %s is not the pinned %s", orNone(d.Was), d.Now)
	case NotSigned:
		return "it was trusted by a pinned checksum this buildpack no longer has"
	case KeySourceChanged:
		return fmt.Sprintf("its signing key came from %s; this build takes the key from %s", orNone(d.Was), d.Now)
	case SignerNotAllowed:
		return fmt.Sprintf("it was signed by key %s; this build accepts only key %s", orNone(d.Was), d.Now)
	case NoSignature:
		return "its metadata does not hold the signature to check it against again"
	case BadSignature:
		return "its recorded signature does not verify over it: " + d.Was
	case ChangedAtSource:
		return "the release changed at its source (it publishes another signature)"
	case BadCopy:
		return d.Was
	}
	return fmt.Sprintf("problem %d", d.Problem)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// check is the one comparison: it says why a copy recorded as got cannot
// stand for rel under this build's trust rules, or nil. signer is the
// fingerprint this build accepts for an unpinned release. The copy's bytes
// are checked against got.Checksum separately, after this.
func (rel Release) check(got Record, signer string) *Discard {
	switch {
	case got.Version == "" || (got.Verified != ByPin && got.Verified != BySignature):
		return &Discard{Problem: OtherMetadata}
	case got.Version != rel.Version:
		return &Discard{Problem: VersionChanged, Was: got.Version, Now: rel.Version}
	case got.OS != rel.OS || got.Arch != rel.Arch:
		return &Discard{Problem: PlatformChanged, Was: orNone(got.OS) + "-" + orNone(got.Arch), Now: rel.OS + "-" + rel.Arch}
	case !rel.Pinned() && got.Verified != BySignature:
		return &Discard{Problem: NotSigned}
	case got.URL != rel.recordURL():
		return &Discard{Problem: URLChanged, Was: got.URL, Now: rel.recordURL()}
	}
	if rel.Pinned() {
		// The pin is its own evidence: bytes that hash to it are the pinned
		// release, however an earlier build came to trust them.
		if got.Checksum != rel.Pin {
			return &Discard{Problem: NotThePin, Was: got.Checksum.String(), Now: rel.Pin.String()}
		}
		return nil
	}
	switch want := rel.Trust.KeySource(); {
	case got.KeySource != want:
		return &Discard{Problem: KeySourceChanged, Was: got.KeySource, Now: want}
	case got.Signer != signer:
		return &Discard{Problem: SignerNotAllowed, Was: got.Signer, Now: signer}
	case got.Signature == "":
		return &Discard{Problem: NoSignature}
	}
	return nil
}

// record is what this build writes down for bytes with digest sum, trusted
// by the pin or by sig, a signature from signer.
func (rel Release) record(sum digest.Digest, signer, sig string) Record {
	r := Record{Version: rel.Version, OS: rel.OS, Arch: rel.Arch, URL: rel.recordURL(), Checksum: sum, Verified: ByPin}
	if !rel.Pinned() {
		r.Verified, r.Signer, r.KeySource, r.Signature = BySignature, signer, rel.Trust.KeySource(), sig
	}
	return r
}
