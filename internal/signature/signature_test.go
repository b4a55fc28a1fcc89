package signature_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

func newKey(t *testing.T, name string) *testhelpers.SigningKey {
	t.Helper()
	k, err := testhelpers.NewSigningKey(name)
	require.NoError(t, err)
	return k
}

func TestVerify(t *testing.T) {
	release := newKey(t, "Release")
	other := newKey(t, "Other")
	data := []byte("the mesh binary\x00\x01")
	file := filepath.Join(t.TempDir(), "mesh")
	require.NoError(t, os.WriteFile(file, data, 0o600))

	key, err := signature.ParseKey(release.PublicKey(), "")
	require.NoError(t, err)
	require.Equal(t, release.Fingerprint, key.Fingerprint)

	good := release.Sign(data)
	tests := []struct {
		name    string
		sig     []byte
		wantErr string
	}{
		{"good signature", good, ""},
		{"signature over other bytes", release.Sign([]byte("other bytes")), "signature verification failed"},
		{"signature by another key", other.Sign(data), "signed by another key"},
		{"truncated", good[:len(good)/2], "signature verification failed"},
		{"garbage", []byte("not a signature at all"), "not ASCII-armoured OpenPGP"},
		{"empty", nil, "not ASCII-armoured OpenPGP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verifyFile(t, key, file, tt.sig)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			var bad *signature.BadSignatureError
			require.ErrorAs(t, err, &bad)
			require.ErrorContains(t, err, tt.wantErr)
			require.Contains(t, bad.Help(), "Nothing was installed")
		})
	}
}

func TestPinnedFingerprint(t *testing.T) {
	release := newKey(t, "Release")
	other := newKey(t, "Other")

	key, err := signature.ParseKey(release.PublicKey(), release.Fingerprint)
	require.NoError(t, err)
	require.Equal(t, release.Fingerprint, key.Fingerprint)

	_, err = signature.ParseKey(other.PublicKey(), release.Fingerprint)
	var mismatch *signature.FingerprintError
	require.ErrorAs(t, err, &mismatch)
	require.EqualError(t, err, "signing key fingerprint "+other.Fingerprint+" differs from the pinned "+release.Fingerprint)

	// A pinned fingerprint picks its key out of a file holding several.
	both := append(other.PublicKey(), release.PublicKey()...)
	key, err = signature.ParseKey(both, release.Fingerprint)
	require.NoError(t, err)
	require.Equal(t, release.Fingerprint, key.Fingerprint)
	_, err = signature.ParseKey(both, "")
	require.ErrorContains(t, err, "holds 2 keys")
}

func TestParseKeyRejects(t *testing.T) {
	for name, data := range map[string][]byte{
		"garbage": []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnope\n-----END PGP PUBLIC KEY BLOCK-----\n"),
		"empty":   nil,
		"huge":    []byte(strings.Repeat("x", signature.MaxArmoredSize+1)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := signature.ParseKey(data, "")
			var kerr *signature.KeyError
			require.ErrorAs(t, err, &kerr)
		})
	}
}

func TestNormalizeFingerprint(t *testing.T) {
	got, err := signature.NormalizeFingerprint("  abcd ef01 2345 6789 abcd  ef01 2345 6789 abcd ef01 ")
	require.NoError(t, err)
	require.Equal(t, "ABCDEF0123456789ABCDEF0123456789ABCDEF01", got)
	for _, bad := range []string{"", "abc", strings.Repeat("z", 40)} {
		_, err := signature.NormalizeFingerprint(bad)
		require.Error(t, err, bad)
	}
}

func TestVerifyKeepsReadErrorsAndCancellation(t *testing.T) {
	release := newKey(t, "release")
	key, err := signature.ParseKey(release.PublicKey(), "")
	require.NoError(t, err)
	data := []byte("the bytes")
	sig := release.Sign(data)

	broken := errors.New("disk gone")
	err = key.Verify(&failingReader{data: data, err: broken}, sig)
	require.ErrorIs(t, err, broken, "a read error is not a bad signature")
	var bad *signature.BadSignatureError
	require.False(t, errors.As(err, &bad))

}

func verifyFile(t *testing.T, key *signature.Key, path string, sig []byte) error {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	return key.Verify(f, sig)
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
