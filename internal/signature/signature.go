package signature

import (
	"bytes"
	"crypto"
	//lint:ignore SA1019 go-crypto reads DSA keys into this type, which is how their size is read
	"crypto/dsa"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// MaxSize caps a key or a signature file: both are a few kilobytes.
const MaxSize = 64 << 10

// Key is a release signing key, possibly with subkeys.
type Key struct {
	entity      *openpgp.Entity
	Fingerprint string
}

// ParseKey reads the armoured public key with the pinned fingerprint, or
// without a pin, the file's only key.
func ParseKey(armored []byte, pinned string) (*Key, error) {
	var all openpgp.EntityList
	// Each block is decoded on its own: the decoder reads past a block's end.
	const begin = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	for _, part := range strings.Split(string(armored), begin)[1:] {
		if err := affordable(begin + part); err != nil {
			return nil, &KeyError{Problem: err.Error()}
		}
		list, err := openpgp.ReadArmoredKeyRing(strings.NewReader(begin + part))
		if err != nil {
			return nil, &KeyError{Problem: "the key is not an ASCII-armoured OpenPGP public key: " + err.Error()}
		}
		all = append(all, list...)
	}
	var found []string
	for _, e := range all {
		fp := fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
		if fp == pinned || (pinned == "" && len(all) == 1) {
			return &Key{entity: e, Fingerprint: fp}, nil
		}
		found = append(found, fp)
	}
	switch {
	case len(all) == 0:
		return nil, &KeyError{Problem: "the key file holds no ASCII-armoured OpenPGP public key"}
	case pinned == "":
		return nil, &KeyError{Problem: fmt.Sprintf("the key file holds %d keys; without a pinned fingerprint exactly one is accepted", len(all))}
	}
	return nil, &KeyError{Problem: fmt.Sprintf("its fingerprint %s differs from the pinned %s", strings.Join(found, ", "), pinned), rotated: true}
}

// affordable refuses, before any of its signatures is checked, a key whose
// checks cost far more than its size: RSA over 8192 bits, DSA over the
// standard's largest parameters (p of 3072 bits, q of 256).
func affordable(armored string) error {
	block, err := armor.Decode(strings.NewReader(armored))
	for err == nil {
		var p packet.Packet
		p, err = packet.Read(block.Body) // an error ends the check: the parser names it
		if pk, ok := p.(*packet.PublicKey); ok && err == nil {
			d, isDSA := pk.PublicKey.(*dsa.PublicKey)
			if bits, _ := pk.BitLength(); bits > 8192 || isDSA && (bits > 3072 || d.Q.BitLen() > 256) {
				return fmt.Errorf("the key has %d-bit parameters, more than a release key needs (RSA up to 8192 bits, DSA up to 3072)", bits)
			}
		}
	}
	return nil
}

// Verify checks an armoured detached signature over what signed yields: binary
// (text mode would verify bytes with other line ends), over a strong hash, by
// this key or a subkey, neither expired nor revoked. A read error is returned.
func (k *Key) Verify(signed io.Reader, armoredSig []byte) error {
	block, err := armor.Decode(bytes.NewReader(armoredSig))
	if len(armoredSig) > MaxSize || err != nil || block.Type != openpgp.SignatureType {
		return &Error{Problem: Malformed, Detail: "it is not an ASCII-armoured OpenPGP signature of at most 64 KiB"}
	}
	raw, err := io.ReadAll(block.Body)
	packets := bytes.NewReader(raw)
	p, perr := packet.Read(packets)
	sig, ok := p.(*packet.Signature)
	_, next := packet.Read(packets)
	switch {
	case err != nil || perr != nil || !ok:
		return &Error{Problem: Malformed, Detail: "it holds no signature packet"}
	case next != io.EOF: // the verifier would pick the packet by the key, unchecked
		return &Error{Problem: Malformed, Detail: "it holds more than one packet"}
	case sig.SigType != packet.SigTypeBinary:
		return &Error{Problem: Malformed, Detail: fmt.Sprintf("it is a signature of type %#02x; only a binary-mode one (0x00) is accepted", uint8(sig.SigType))}
	case !slices.Contains([]crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA3_256, crypto.SHA3_512}, sig.Hash): // SHA-256 or stronger
		return &Error{Problem: WeakHash, Detail: sig.Hash.String()}
	}
	src := &readErr{r: signed}
	_, _, err = openpgp.VerifyDetachedSignature(openpgp.EntityList{k.entity}, src, bytes.NewReader(raw), nil)
	switch {
	case src.err != nil, err == nil: // a read error, or none at all
		return src.err
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return &Error{Problem: OtherKey}
	case errors.Is(err, pgperrors.ErrKeyExpired), errors.Is(err, pgperrors.ErrSignatureExpired):
		return &Error{Problem: Expired, Detail: err.Error()}
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return &Error{Problem: Revoked}
	case errors.As(err, new(pgperrors.StructuralError)), errors.As(err, new(pgperrors.UnsupportedError)):
		return &Error{Problem: Malformed, Detail: err.Error()}
	}
	return &Error{Problem: Mismatch}
}

// readErr keeps a read error of the signed bytes, not to take it for a bad signature.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// KeyError is a key that cannot be used, or is not the pinned one.
type KeyError struct {
	Problem string
	rotated bool
}

func (e *KeyError) Error() string  { return "unusable signing key: " + e.Problem }
func (e *KeyError) Reason() string { return "verify::signing-key" }
func (e *KeyError) Help() string {
	if e.rotated {
		return "The key offered for verifying this release is not the one this buildpack\n" +
			"pins. Nothing was installed. If Heroku rotated its release key, use a\nbuildpack release that pins the new fingerprint."
	}
	return "The release signing key could not be used, so the release cannot be\n" +
		"verified. Check where it comes from (the buildpack's keys/public-key.asc,\n" +
		"or the bucket's public-key.asc). Nothing was installed."
}

// The ways a signature fails.
const (
	Malformed = "the signature is malformed"
	WeakHash  = "the signature's hash is too weak"
	OtherKey  = "the file was signed by another key"
	Expired   = "the signing key or the signature has expired"
	Revoked   = "the signing key was revoked"
	Mismatch  = "the signature does not match the file"
)

// Error is a signature that does not prove the file is the release.
type Error struct{ Problem, Detail string }

func (e *Error) Error() string {
	if e.Detail != "" {
		return "signature verification failed: " + e.Problem + " (" + e.Detail + ")"
	}
	return "signature verification failed: " + e.Problem
}
func (e *Error) Reason() string { return "verify::signature" }
func (e *Error) Help() string {
	switch e.Problem {
	case Mismatch, OtherKey:
		return "The downloaded file is not signed by the release key. It may have been\n" +
			"tampered with, or the source serves other bytes than the release.\nNothing was installed."
	case Expired, Revoked:
		return "The release key can no longer vouch for releases. Use a buildpack\n" +
			"release that pins a current key, or a version this buildpack pins by\nchecksum. Nothing was installed."
	}
	return "The release's signature is not one this buildpack accepts (a binary-mode\n" +
		"OpenPGP signature over SHA-256 or stronger). Check the source.\nNothing was installed."
}
