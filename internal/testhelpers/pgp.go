package testhelpers

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// SigningKey is an OpenPGP release signing key made by a test, standing in
// for Heroku's.
type SigningKey struct {
	entity      *openpgp.Entity
	config      *packet.Config
	Fingerprint string
}

// NewSigningKey generates an Ed25519 signing key.
func NewSigningKey(name string) (*SigningKey, error) {
	return newKey(name, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
}

func newKey(name string, config *packet.Config) (*SigningKey, error) {
	e, err := openpgp.NewEntity(name, "test release key", strings.ReplaceAll(strings.ToLower(name), " ", "-")+"@example.com", config)
	if err != nil {
		return nil, err
	}
	return &SigningKey{entity: e, Fingerprint: strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))}, nil
}

// ExpiredKey is a signing key made two hours ago that expired an hour
// later; Sign signs as of its creation, when it was valid.
func ExpiredKey(t testing.TB, name string) *SigningKey {
	t.Helper()
	made := time.Now().Add(-2 * time.Hour)
	k, err := newKey(name, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, KeyLifetimeSecs: 3600, Time: func() time.Time { return made }})
	if err != nil {
		t.Fatal(err)
	}
	k.config = &packet.Config{Time: func() time.Time { return made.Add(time.Minute) }}
	return k
}

// Revoke revokes the key, as its owner would after a compromise.
func (k *SigningKey) Revoke(t testing.TB) {
	t.Helper()
	if err := k.entity.RevokeKey(packet.KeyCompromised, "compromised", nil); err != nil {
		t.Fatal(err)
	}
}

// SignAs signs data with this hash, in text mode when text is set: the
// shapes of signature a verifier must refuse. The OpenPGP library no longer
// makes SHA-1 signatures, so one is made as a SHA-256 signature whose hash
// octet then says SHA-1, as a packet from an older signer would.
func (k *SigningKey) SignAs(data []byte, hash crypto.Hash, text bool) []byte {
	var raw bytes.Buffer
	config := &packet.Config{DefaultHash: hash}
	if hash == crypto.SHA1 {
		config.DefaultHash = crypto.SHA256
	}
	sign := openpgp.DetachSign
	if text {
		sign = openpgp.DetachSignText
	}
	if err := sign(&raw, k.entity, bytes.NewReader(data), config); err != nil {
		panic(err)
	}
	b := raw.Bytes()
	if hash == crypto.SHA1 {
		b[5] = 2 // a new-format header of two octets, then version, type, key algorithm, hash
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.SignatureType, nil)
	if err != nil {
		panic(err)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// PublicKey is the armoured public key, as public-key.asc holds it.
func (k *SigningKey) PublicKey() []byte {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		panic(err)
	}
	if err := k.entity.Serialize(w); err != nil {
		panic(err)
	}
	w.Close()
	return buf.Bytes()
}

// Sign makes the armoured detached signature a release's .asc holds.
func (k *SigningKey) Sign(data []byte) []byte {
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, k.entity, bytes.NewReader(data), k.config); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// PublishSigned puts an artifact, its signature and (optionally) the public
// key on the mirror, as the release bucket lays them out.
func (m *Mirror) PublishSigned(object string, data []byte, k *SigningKey, withKey bool) {
	m.Put(object, data)
	m.Put(object+".asc", k.Sign(data))
	if withKey {
		m.Put("public-key.asc", k.PublicKey())
	}
}

// Key makes a signing key or fails the test.
func Key(t testing.TB, name string) *SigningKey {
	t.Helper()
	k, err := NewSigningKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// WriteKeyFile ships k's public key in a buildpack directory, as a release
// may, and returns its path.
func WriteKeyFile(t testing.TB, buildpackDir string, k *SigningKey) string {
	t.Helper()
	p := filepath.Join(buildpackDir, "keys", "public-key.asc")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, k.PublicKey(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
