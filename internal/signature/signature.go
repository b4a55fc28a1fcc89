package signature

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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

// ParseKey reads an armoured public key. With pinned set, the key must have
// that fingerprint, whatever else the file holds; without, the file must
// hold exactly one key.
func ParseKey(armored []byte, pinned string) (*Key, error) {
	if len(armored) > MaxSize {
		return nil, &KeyError{Problem: "the key file is too large"}
	}
	var all openpgp.EntityList
	// Each armoured block is decoded on its own: the armour decoder reads
	// past the end of a block.
	const begin = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	for _, part := range strings.Split(string(armored), begin)[1:] {
		list, err := openpgp.ReadArmoredKeyRing(strings.NewReader(begin + part))
		if err != nil {
			return nil, &KeyError{Problem: "the key is not an ASCII-armoured OpenPGP public key: " + err.Error()}
		}
		all = append(all, list...)
	}
	var found []string
	for _, e := range all {
		fp := strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
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
	return nil, &KeyError{Problem: fmt.Sprintf("its fingerprint %s differs from the pinned %s", strings.Join(found, ", "), pinned),
		Help_: "The key offered for verifying this release is not the one this buildpack\n" +
			"pins. Nothing was installed. If Heroku rotated its release key, use a\n" +
			"buildpack release that pins the new fingerprint."}
}

// Verify checks an armoured detached signature over the bytes signed
// yields: a binary-mode signature (a text-mode one would verify bytes
// whose line ends were changed), over SHA-256 or stronger, by this key or
// one of its signing subkeys, neither expired nor revoked. An error from
// signed is returned as it is, not as a bad signature.
func (k *Key) Verify(signed io.Reader, armoredSig []byte) error {
	if len(armoredSig) > MaxSize {
		return &Error{Problem: Malformed, Detail: "the signature file is too large"}
	}
	block, err := armor.Decode(bytes.NewReader(armoredSig))
	if err != nil || block.Type != openpgp.SignatureType {
		return &Error{Problem: Malformed, Detail: "it is not an ASCII-armoured OpenPGP signature"}
	}
	raw, err := io.ReadAll(block.Body)
	if err != nil {
		return &Error{Problem: Malformed, Detail: err.Error()}
	}
	p, err := packet.Read(bytes.NewReader(raw))
	sig, ok := p.(*packet.Signature)
	switch {
	case err != nil || !ok:
		return &Error{Problem: Malformed, Detail: "it holds no signature packet"}
	case sig.SigType != packet.SigTypeBinary:
		return &Error{Problem: Malformed, Detail: fmt.Sprintf("it is a signature of type %#02x; only a binary-mode one (0x00) is accepted", uint8(sig.SigType))}
	case sig.Hash != crypto.SHA256 && sig.Hash != crypto.SHA384 && sig.Hash != crypto.SHA512 && sig.Hash != crypto.SHA3_256 && sig.Hash != crypto.SHA3_512:
		return &Error{Problem: WeakHash, Detail: sig.Hash.String()}
	}
	src := &readErr{r: signed}
	_, _, err = openpgp.VerifyDetachedSignature(openpgp.EntityList{k.entity}, src, bytes.NewReader(raw), nil)
	switch {
	case src.err != nil:
		return src.err
	case err == nil:
		return nil
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return &Error{Problem: OtherKey}
	case errors.Is(err, pgperrors.ErrKeyExpired), errors.Is(err, pgperrors.ErrSignatureExpired):
		return &Error{Problem: Expired, Detail: err.Error()}
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return &Error{Problem: Revoked}
	}
	var structural pgperrors.StructuralError
	var unsupported pgperrors.UnsupportedError
	if errors.As(err, &structural) || errors.As(err, &unsupported) {
		return &Error{Problem: Malformed, Detail: err.Error()}
	}
	return &Error{Problem: Mismatch}
}

// readErr keeps the error of the signed bytes' reader, which the OpenPGP
// library would otherwise report as a signature that does not verify.
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
	Help_   string
}

func (e *KeyError) Error() string { return "unusable signing key: " + e.Problem }

// Help says what to do.
func (e *KeyError) Help() string {
	if e.Help_ != "" {
		return e.Help_
	}
	return "The release signing key could not be used, so the release cannot be\n" +
		"verified. Check where it comes from (the buildpack's keys/public-key.asc,\n" +
		"or the bucket's public-key.asc). Nothing was installed."
}

// Reason names the failure for the build report.
func (e *KeyError) Reason() string { return "verify::signing-key" }

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
type Error struct {
	Problem, Detail string
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return "signature verification failed: " + e.Problem + " (" + e.Detail + ")"
	}
	return "signature verification failed: " + e.Problem
}

// Help says what this means: none of these is cured by a retry.
func (e *Error) Help() string {
	switch e.Problem {
	case Mismatch, OtherKey:
		return "The downloaded file is not signed by the release key. It may have been\n" +
			"tampered with, or the source serves other bytes than the release.\n" +
			"Nothing was installed."
	case Expired, Revoked:
		return "The release key can no longer vouch for releases. Use a buildpack\n" +
			"release that pins a current key, or a version this buildpack pins by\n" +
			"checksum. Nothing was installed."
	}
	return "The release's signature is not one this buildpack accepts (a binary-mode\n" +
		"OpenPGP signature over SHA-256 or stronger). Check the source.\n" +
		"Nothing was installed."
}

// Reason names the failure for the build report.
func (e *Error) Reason() string { return "verify::signature" }
