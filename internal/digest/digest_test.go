package digest_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
)

// The sha256 of "abc", from FIPS 180-2.
const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

func TestParse(t *testing.T) {
	d, err := digest.Parse("sha256:" + abc)
	require.NoError(t, err)
	require.Equal(t, abc, d.Hex())
	require.Equal(t, "sha256:"+abc, d.String())
	require.Equal(t, digest.Of([]byte("abc")), d)
	require.False(t, d.IsZero())
	require.True(t, digest.Digest{}.IsZero())
	require.Empty(t, digest.Digest{}.String())

	for in, want := range map[string]string{
		abc:                                 "no algorithm prefix",
		"md5:" + abc:                        `uses "md5"`,
		"sha256:" + abc[:60]:                "want 64 lowercase hex digits",
		"sha256:" + strings.ToUpper(abc):    "want 64 lowercase hex digits",
		"sha256:" + strings.Repeat("z", 64): "not hex",
	} {
		_, err := digest.Parse(in)
		require.ErrorContains(t, err, want, in)
	}
}

func TestTextRoundTrip(t *testing.T) {
	d := digest.Of([]byte("abc"))
	b, err := d.MarshalText()
	require.NoError(t, err)
	var back digest.Digest
	require.NoError(t, back.UnmarshalText(b))
	require.Equal(t, d, back)
	require.Error(t, back.UnmarshalText([]byte("sha1:x")))
}

func TestCopy(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 300_000) // several buffers
	var out bytes.Buffer
	d, n, err := digest.Copy(&out, iotest.HalfReader(bytes.NewReader(data)))
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.Equal(t, digest.Of(data), d)
	require.Equal(t, data, out.Bytes())
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCopyErrors(t *testing.T) {
	_, _, err := digest.Copy(failingWriter{}, strings.NewReader("abc"))
	var werr *digest.WriteError
	require.ErrorAs(t, err, &werr, "a failed write is told apart from a failed read")
	require.EqualError(t, err, "disk full")

	_, n, err := digest.Copy(&bytes.Buffer{}, iotest.TimeoutReader(strings.NewReader(strings.Repeat("x", 2<<20))))
	require.ErrorIs(t, err, iotest.ErrTimeout)
	require.False(t, errors.As(err, &werr))
	require.Positive(t, n)
}
