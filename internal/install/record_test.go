package install

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
)

// TestCheck is the reuse rule as a table: what an earlier build recorded,
// what this build resolved, and whether the copy may be kept.
func TestCheck(t *testing.T) {
	sumA, sumB := digest.Of([]byte("a")), digest.Of([]byte("b"))
	const fpA, fpB = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	pinned := Release{Version: "0.2.2", OS: "linux", Arch: "amd64", URL: "https://mirror/x", Pin: sumA, pinnedURL: "https://bucket/x"}
	signed := Release{Version: "latest", OS: "linux", Arch: "amd64", URL: "https://u:p@mirror/latest", Trust: Trust{KeyURL: "https://bucket/key"}}
	good := func(r Release, signer string) Record {
		return r.record(sumA, signer, "SIG")
	}
	with := func(r Record, f func(*Record)) Record { f(&r); return r }
	tests := []struct {
		name   string
		rel    Release
		got    Record
		signer string
		want   string
	}{
		{"the same pinned release", pinned, good(pinned, ""), "", ""},
		{"pinned bytes first trusted by a signature", pinned, with(good(pinned, ""), func(r *Record) { r.Verified, r.Signer = BySignature, fpA }), "", ""},
		{"another version", pinned, with(good(pinned, ""), func(r *Record) { r.Version = "0.3.0" }), "", "the version changed (0.3.0 to 0.2.2)"},
		{"another architecture", pinned, with(good(pinned, ""), func(r *Record) { r.Arch = "arm64" }), "", "the architecture changed (linux-arm64 to linux-amd64)"},
		{"another pinned URL", pinned, with(good(pinned, ""), func(r *Record) { r.URL = "https://old/x" }), "", "the download URL changed (https://old/x to https://bucket/x)"},
		{"another pin", pinned, with(good(pinned, ""), func(r *Record) { r.Checksum = sumB }), "", "its checksum " + sumB.String() + " is not the pinned " + sumA.String()},
		{"a record from another buildpack", pinned, Record{}, "", "its metadata is from another version of this buildpack"},
		{"the same signed release", signed, good(signed, fpA), fpA, ""},
		{"recorded without credentials", signed, with(good(signed, fpA), func(r *Record) { r.URL = "https://u:p@mirror/latest" }), fpA, "the download URL changed (https://u:p@mirror/latest to https://mirror/latest)"},
		{"once pinned, now not", signed, with(good(signed, fpA), func(r *Record) { r.Verified, r.Signer, r.KeySource, r.URL = ByPin, "", "", "https://bucket/x" }), fpA,
			"it was trusted by a pinned checksum this buildpack no longer has"},
		{"a key from elsewhere", signed, with(good(signed, fpA), func(r *Record) { r.KeySource = "https://mirror/key" }), fpA, "its signing key came from https://mirror/key; this build takes the key from https://bucket/key"},
		{"a key other than the one this build accepts", signed, good(signed, fpA), fpB, "it was signed by key " + fpA + "; this build accepts only key " + fpB},
		{"a signer that is no fingerprint at all", signed, with(good(signed, fpA), func(r *Record) { r.Signer = "NOT-A-FINGERPRINT" }), fpA, "it was signed by key NOT-A-FINGERPRINT; this build accepts only key " + fpA},
		{"an unknown way of trusting", signed, with(good(signed, fpA), func(r *Record) { r.Verified = "trust me" }), fpA, "its metadata is from another version of this buildpack"},
		{"a record from before signatures were kept", signed, with(good(signed, fpA), func(r *Record) { r.Signature = "" }), fpA, "its metadata does not hold the signature to check it against again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.rel.check(tt.got, tt.signer)
			if tt.want == "" {
				require.Nil(t, d, "%v", d)
				return
			}
			require.NotNil(t, d)
			require.Equal(t, tt.want, d.String())
			require.False(t, strings.Contains(d.String(), "u:p@") && !strings.Contains(tt.name, "credentials"))
		})
	}
}
