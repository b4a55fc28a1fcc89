package testhelpers

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// SigningKey is an OpenPGP release signing key made by a test, standing in
// for Heroku's.
type SigningKey struct {
	entity      *openpgp.Entity
	Fingerprint string
}

// NewSigningKey generates an Ed25519 signing key.
func NewSigningKey(name string) (*SigningKey, error) {
	e, err := openpgp.NewEntity(name, "test release key", strings.ReplaceAll(strings.ToLower(name), " ", "-")+"@example.com",
		&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		return nil, err
	}
	return &SigningKey{entity: e, Fingerprint: strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))}, nil
}

// PublicKey is the armoured public key, as public-key.asc holds it.
func (k *SigningKey) PublicKey() []byte {
	var buf bytes.Buffer
	w, err := armorEncode(&buf, openpgp.PublicKeyType)
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
	if err := openpgp.ArmoredDetachSign(&buf, k.entity, bytes.NewReader(data), nil); err != nil {
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

func armorEncode(buf *bytes.Buffer, blockType string) (interface {
	Write([]byte) (int, error)
	Close() error
}, error) {
	return armor.Encode(buf, blockType, nil)
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
