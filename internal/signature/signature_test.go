package signature_test

import (
	"bytes"
	"crypto"
	//lint:ignore SA1019 go-crypto reads DSA keys into this type, which is how their size is read
	"crypto/dsa"
	"crypto/rsa"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

// TestVerify: only a binary-mode signature over SHA-256 or stronger, by
// the key, neither expired nor revoked, over exactly these bytes, passes;
// every other outcome names its own cause and none invites a retry.
func TestVerify(t *testing.T) {
	release, other := testhelpers.Key(t, "Release"), testhelpers.Key(t, "Other")
	expired := testhelpers.ExpiredKey(t, "Expired")
	revoked := testhelpers.Key(t, "Revoked")
	data := []byte("the mesh binary\r\nwith\x00bytes\n")
	crlf := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	good := release.Sign(data)
	revokedSig := revoked.Sign(data)
	revoked.Revoke(t)

	tests := []struct {
		name    string
		key     *testhelpers.SigningKey
		signed  []byte
		sig     []byte
		problem string
		detail  string
	}{
		{"good signature", release, data, good, "", ""},
		{"SHA-512", release, data, release.SignAs(data, crypto.SHA512, false), "", ""},
		{"other bytes", release, []byte("other bytes"), good, signature.Mismatch, ""},
		{"one byte more", release, append(append([]byte{}, data...), 0), good, signature.Mismatch, ""},
		{"another key", release, data, other.Sign(data), signature.OtherKey, ""},
		{"text mode over bytes with other line ends", release, crlf, release.SignAs(data, crypto.SHA256, true), signature.Malformed, "only a binary-mode one (0x00)"},
		{"SHA-1", release, data, release.SignAs(data, crypto.SHA1, false), signature.WeakHash, "SHA-1"},
		{"an expired key", expired, data, expired.Sign(data), signature.Expired, ""},
		{"a revoked key", revoked, data, revokedSig, signature.Revoked, ""},
		{"truncated", release, data, good[:len(good)/2], signature.Malformed, ""},
		{"garbage", release, data, []byte("not a signature at all"), signature.Malformed, "not an ASCII-armoured OpenPGP signature"},
		{"a key where the signature goes", release, data, release.PublicKey(), signature.Malformed, "not an ASCII-armoured OpenPGP signature"},
		{"empty", release, data, nil, signature.Malformed, ""},
		{"a text-mode signature behind another key's", release, crlf, concat(t, other.Sign(crlf), release.SignAs(data, crypto.SHA256, true)), signature.Malformed, "more than one packet"},
		{"a SHA-1 signature behind another key's", release, data, concat(t, other.Sign(data), release.SignAs(data, crypto.SHA1, false)), signature.Malformed, "more than one packet"},
		{"two good signatures", release, data, concat(t, good, good), signature.Malformed, "more than one packet"},
		{"too large", release, data, append(release.Sign(data), strings.Repeat("x", signature.MaxSize)...), signature.Malformed, "of at most 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := signature.ParseKey(tt.key.PublicKey(), "")
			require.NoError(t, err)
			err = key.Verify(bytes.NewReader(tt.signed), tt.sig)
			if tt.problem == "" {
				require.NoError(t, err)
				return
			}
			var bad *signature.Error
			require.ErrorAs(t, err, &bad)
			require.Equal(t, tt.problem, bad.Problem, err.Error())
			require.Contains(t, bad.Detail, tt.detail)
			require.Equal(t, "verify::signature", bad.Reason())
			require.Contains(t, bad.Help(), "Nothing was installed")
			require.NotContains(t, strings.ToLower(bad.Help()), "retry")
		})
	}
}

func TestParseKey(t *testing.T) {
	release, other := testhelpers.Key(t, "Release"), testhelpers.Key(t, "Other")
	key, err := signature.ParseKey(release.PublicKey(), release.Fingerprint)
	require.NoError(t, err)
	require.Equal(t, release.Fingerprint, key.Fingerprint)

	// A pinned fingerprint picks its key out of a file holding several;
	// without one, a file of several keys is refused.
	both := append(other.PublicKey(), release.PublicKey()...)
	key, err = signature.ParseKey(both, release.Fingerprint)
	require.NoError(t, err)
	require.Equal(t, release.Fingerprint, key.Fingerprint)

	for name, tc := range map[string]struct {
		data             []byte
		pinned, want     string
		wantHelpContains string
	}{
		"another key than the pinned": {other.PublicKey(), release.Fingerprint, "its fingerprint " + other.Fingerprint + " differs from the pinned " + release.Fingerprint, "use a\nbuildpack release that pins the new fingerprint"},
		"several without a pin":       {both, "", "holds 2 keys", "Check where it comes from"},
		"garbage":                     {[]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnope\n-----END PGP PUBLIC KEY BLOCK-----\n"), "", "not an ASCII-armoured OpenPGP public key", ""},
		"empty":                       {nil, "", "holds no ASCII-armoured OpenPGP public key", ""},
		"huge":                        {[]byte(strings.Repeat("x", signature.MaxSize+1)), "", "holds no ASCII-armoured OpenPGP public key", ""},
		"DSA of huge parameters":      {dsaKey(t, 20000, 20000), "", "the key has 20000-bit parameters", ""},
		"DSA of a huge q":             {dsaKey(t, 2048, 4000), "", "the key has 2048-bit parameters", ""},
		"RSA over 8192 bits":          {rsaKey(t, 9000), "", "the key has 9000-bit parameters", ""},
		"a key packet cut short":      {cutKey(t), "", "not an ASCII-armoured OpenPGP public key", ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := signature.ParseKey(tc.data, tc.pinned)
			var kerr *signature.KeyError
			require.ErrorAs(t, err, &kerr)
			require.ErrorContains(t, err, tc.want)
			require.Contains(t, kerr.Help(), tc.wantHelpContains)
			require.Equal(t, "verify::signing-key", kerr.Reason())
		})
	}
}

// TestReadErrors: an error reading the signed bytes is that error, not a
// bad signature.
func TestReadErrors(t *testing.T) {
	release := testhelpers.Key(t, "release")
	key, err := signature.ParseKey(release.PublicKey(), "")
	require.NoError(t, err)
	broken := errors.New("disk gone")
	err = key.Verify(&failingReader{data: []byte("the bytes"), err: broken}, release.Sign([]byte("the bytes")))
	require.ErrorIs(t, err, broken)
	var bad *signature.Error
	require.False(t, errors.As(err, &bad))
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// concat is one armoured signature file of the packets of several.
func concat(t *testing.T, sigs ...[]byte) []byte {
	var raw bytes.Buffer
	for _, sig := range sigs {
		block, err := armor.Decode(bytes.NewReader(sig))
		require.NoError(t, err)
		_, err = io.Copy(&raw, block.Body)
		require.NoError(t, err)
	}
	return armored(t, openpgp.SignatureType, raw.Bytes())
}

func armored(t *testing.T, kind string, data []byte) []byte {
	var out bytes.Buffer
	w, err := armor.Encode(&out, kind, nil)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return out.Bytes()
}

// bigInt is a number of the given bits: the parameters' sizes, not their
// values, are what a key check refuses, before any signature is checked.
func bigInt(bits int) *big.Int { return new(big.Int).Lsh(big.NewInt(1), uint(bits-1)) }

func dsaKey(t *testing.T, pBits, qBits int) []byte {
	pub := &dsa.PublicKey{Parameters: dsa.Parameters{P: bigInt(pBits), Q: bigInt(qBits), G: big.NewInt(2)}, Y: big.NewInt(3)}
	var raw bytes.Buffer
	require.NoError(t, packet.NewDSAPublicKey(time.Now(), pub).Serialize(&raw))
	return armored(t, openpgp.PublicKeyType, raw.Bytes())
}

func rsaKey(t *testing.T, bits int) []byte {
	var raw bytes.Buffer
	require.NoError(t, packet.NewRSAPublicKey(time.Now(), &rsa.PublicKey{N: bigInt(bits), E: 65537}).Serialize(&raw))
	return armored(t, openpgp.PublicKeyType, raw.Bytes())
}

// cutKey is an RSA key packet whose header promises more than it holds:
// the parser returns the half-read packet with its error.
func cutKey(t *testing.T) []byte {
	var raw bytes.Buffer
	require.NoError(t, packet.NewRSAPublicKey(time.Now(), &rsa.PublicKey{N: bigInt(2048), E: 65537}).Serialize(&raw))
	return armored(t, openpgp.PublicKeyType, raw.Bytes()[:raw.Len()-100])
}
