package signature

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// MaxArmoredSize caps a key or a signature: both are a few kilobytes.
const MaxArmoredSize = 64 << 10

// Key is a release signing key, possibly with subkeys.
type Key struct {
	entity      *openpgp.Entity
	Fingerprint string
}

// NormalizeFingerprint accepts a v4 (40 hex digits) or v6 (64) fingerprint
// with any spacing or case, and returns it as uppercase hex.
func NormalizeFingerprint(s string) (string, error) {
	f := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	f = strings.TrimPrefix(f, "0X")
	if len(f) != 40 && len(f) != 64 {
		return "", fmt.Errorf("fingerprint %q: want 40 or 64 hex digits", s)
	}
	if _, err := hex.DecodeString(f); err != nil {
		return "", fmt.Errorf("fingerprint %q is not hex", s)
	}
	return f, nil
}

// ParseKey reads an armoured public key. With pinned set, the key must have
// that fingerprint, whatever else the file holds.
func ParseKey(armored []byte, pinned string) (*Key, error) {
	if len(armored) > MaxArmoredSize {
		return nil, &KeyError{Reason: "the key file is too large"}
	}
	list, err := readKeys(armored)
	if err != nil {
		return nil, &KeyError{Reason: "the key is not an ASCII-armoured OpenPGP public key: " + err.Error()}
	}
	if pinned == "" {
		if len(list) != 1 {
			return nil, &KeyError{Reason: fmt.Sprintf("the key file holds %d keys; without a pinned fingerprint exactly one is accepted", len(list))}
		}
		return &Key{entity: list[0], Fingerprint: fingerprint(list[0])}, nil
	}
	var found []string
	for _, e := range list {
		fp := fingerprint(e)
		if fp == pinned {
			return &Key{entity: e, Fingerprint: fp}, nil
		}
		found = append(found, fp)
	}
	return nil, &FingerprintError{Pinned: pinned, Found: found}
}

// readKeys reads every armoured key block in data: a key file may hold
// several, one after another. Each block is decoded on its own, because the
// armour decoder reads ahead past the end of a block.
func readKeys(data []byte) (openpgp.EntityList, error) {
	const begin = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	parts := strings.Split(string(data), begin)
	var all openpgp.EntityList
	for _, part := range parts[1:] {
		list, err := openpgp.ReadArmoredKeyRing(strings.NewReader(begin + part))
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
	}
	if len(all) == 0 {
		return nil, errors.New("no public key block found")
	}
	return all, nil
}

func fingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// Verify checks an armoured detached signature over the bytes r yields.
// Only this key (or one of its signing subkeys) is accepted. An error r
// returns is returned as it is, not as a bad signature.
func (k *Key) Verify(r io.Reader, armoredSig []byte) error {
	if len(armoredSig) > MaxArmoredSize {
		return &BadSignatureError{Reason: "the signature file is too large"}
	}
	if _, err := armor.Decode(bytes.NewReader(armoredSig)); err != nil {
		return &BadSignatureError{Reason: "the signature is not ASCII-armoured OpenPGP (" + err.Error() + ")"}
	}
	src := &readErr{r: r}
	_, err := openpgp.CheckArmoredDetachedSignature(openpgp.EntityList{k.entity}, src, bytes.NewReader(armoredSig), nil)
	switch {
	case src.err != nil:
		return src.err
	case err != nil:
		return &BadSignatureError{Reason: describe(err)}
	}
	return nil
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

func describe(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the signature is truncated"
	case strings.Contains(err.Error(), "signature made by unknown entity"):
		return "the file was signed by another key"
	default:
		return err.Error()
	}
}

// KeyError is a key that cannot be used.
type KeyError struct{ Reason string }

func (e *KeyError) Error() string { return "unusable signing key: " + e.Reason }

// FingerprintError is a key other than the pinned one.
type FingerprintError struct {
	Pinned string
	Found  []string
}

func (e *FingerprintError) Error() string {
	return fmt.Sprintf("signing key fingerprint %s differs from the pinned %s", strings.Join(e.Found, ", "), e.Pinned)
}

// Help says what this means.
func (e *FingerprintError) Help() string {
	return "The key offered for verifying this release is not the one this buildpack\n" +
		"pins. Nothing was installed. If Heroku rotated its release key, use a\n" +
		"buildpack release that pins the new fingerprint."
}

// BadSignatureError is a signature that does not verify.
type BadSignatureError struct{ Reason string }

func (e *BadSignatureError) Error() string { return "signature verification failed: " + e.Reason }

// Help says what this means.
func (e *BadSignatureError) Help() string {
	return "The downloaded file is not signed by the release key. It may have been\n" +
		"tampered with, or the source serves other bytes than the release.\n" +
		"Nothing was installed."
}
