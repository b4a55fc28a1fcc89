package inventory_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

const sumA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func artifact(version, arch string) string {
	return `
[[metadata.artifacts]]
version = "` + version + `"
os = "linux"
arch = "` + arch + `"
url = "https://example-bucket.s3.dualstack.us-east-1.amazonaws.com/heroku-applink-service-mesh-v` + version + `-` + arch + `"
checksum = "` + sumA + `"
`
}

const header = `api = "0.10"
[buildpack]
id = "heroku/heroku-applink"
version = "0.1.0"
`

func parse(t *testing.T, body string) inventory.Inventory {
	t.Helper()
	inv, err := inventory.Parse(strings.NewReader(header + body))
	require.NoError(t, err)
	return inv
}

func TestParseValid(t *testing.T) {
	inv := parse(t, artifact("0.2.2", "amd64")+artifact("0.2.2", "arm64")+artifact("1.0.0", "amd64"))
	require.Len(t, inv.Artifacts, 3)
	a := inv.Artifacts[0]
	if diff := cmp.Diff([]string{"0.2.2", "linux", "amd64", "v0.2.2", strings.TrimPrefix(sumA, "sha256:")},
		[]string{a.Version.String(), a.OS, a.Arch, a.Tag(), a.Checksum.Hex()}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1.0.0", "0.2.2"}, inv.Versions("linux", "amd64")); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
}

func TestParseEmptyInventory(t *testing.T) {
	inv := parse(t, "[metadata]\n")
	require.Empty(t, inv.Artifacts)
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
	}{
		{"checksum without algorithm", strings.Replace(artifact("0.2.2", "amd64"), "sha256:", "", 1), "no algorithm prefix"},
		{"checksum with md5", strings.Replace(artifact("0.2.2", "amd64"), "sha256:", "md5:", 1), `uses "md5"`},
		{"checksum too short", strings.Replace(artifact("0.2.2", "amd64"), "aaaa\"", "\"", 1), "64 lowercase hex"},
		{"checksum uppercase", strings.Replace(artifact("0.2.2", "amd64"), "aaaa\"", "AAAA\"", 1), "64 lowercase hex"},
		{"checksum not hex", strings.Replace(artifact("0.2.2", "amd64"), "aaaa\"", "zzzz\"", 1), "not hex"},
		{"duplicate", artifact("0.2.2", "amd64") + artifact("v0.2.2", "amd64"), "duplicate of artifact 1"},
		{"unknown arch", artifact("0.2.2", "386"), `arch "386" is not supported`},
		{"unknown os", strings.Replace(artifact("0.2.2", "amd64"), `"linux"`, `"darwin"`, 1), `os "darwin"`},
		{"bad version", artifact("0.2", "amd64"), `version "0.2" is not a semantic version`},
		{"missing version", strings.Replace(artifact("0.2.2", "amd64"), `version = "0.2.2"`, "", 1), "version is missing"},
		{"relative url", strings.Replace(artifact("0.2.2", "amd64"), "https://example-bucket.s3.dualstack.us-east-1.amazonaws.com", "", 1), "not an absolute http(s) URL"},
		{"ftp url", strings.Replace(artifact("0.2.2", "amd64"), "https://", "ftp://", 1), "not an absolute http(s) URL"},
		{"url with credentials", strings.Replace(artifact("0.2.2", "amd64"), "https://", "https://u:p@", 1), "carries credentials"},
		{"unknown key", artifact("0.2.2", "amd64") + "sha = \"x\"\n", `unknown key "metadata.artifacts.sha"`},
		{"inline table is still TOML but wrong type", "[metadata]\nartifacts = \"x\"\n", "failed to parse TOML"},
		{"not TOML", "[[metadata.artifacts]\n", "failed to parse TOML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inventory.Parse(strings.NewReader(header + tt.body))
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestResolve(t *testing.T) {
	inv := parse(t, artifact("0.2.2", "amd64")+artifact("0.2.3", "amd64")+artifact("0.3.0", "amd64")+
		artifact("1.0.0", "amd64")+artifact("1.4.1", "amd64")+artifact("2.0.0-rc.1", "amd64")+artifact("0.9.0", "arm64"))
	tests := []struct {
		request, arch, want string
	}{
		{"", "amd64", "1.4.1"},
		{"  ", "amd64", "1.4.1"},
		{"0.2.2", "amd64", "0.2.2"},
		{"v0.2.2", "amd64", "0.2.2"},
		{" v0.2.3\n", "amd64", "0.2.3"},
		{"~0.2", "amd64", "0.2.3"},
		{"^0.2", "amd64", "0.2.3"},
		{"^1", "amd64", "1.4.1"},
		{">=1.0, <2", "amd64", "1.4.1"},
		{"<1", "amd64", "0.3.0"},
		{"2.0.0-rc.1", "amd64", "2.0.0-rc.1"},
		{"", "arm64", "0.9.0"},
	}
	for _, tt := range tests {
		t.Run(tt.request+"/"+tt.arch, func(t *testing.T) {
			req, err := inventory.ParseRequest(tt.request)
			require.NoError(t, err)
			got, err := inv.Resolve(req, "linux", tt.arch)
			require.NoError(t, err)
			require.Equal(t, tt.want, got.Version.String())
			require.Equal(t, tt.arch, got.Arch)
		})
	}
}

func TestResolveFailures(t *testing.T) {
	inv := parse(t, artifact("0.2.2", "amd64")+artifact("1.0.0", "amd64"))

	req, err := inventory.ParseRequest("9.9.9")
	require.NoError(t, err)
	_, err = inv.Resolve(req, "linux", "amd64")
	var unknown *inventory.UnknownVersionError
	require.ErrorAs(t, err, &unknown)
	require.Equal(t, []string{"1.0.0", "0.2.2"}, unknown.Available)
	require.EqualError(t, err, `no pinned release of the service mesh matches "9.9.9" for linux-amd64`)
	require.Contains(t, unknown.Help(), "Pinned versions for linux-amd64: 1.0.0, 0.2.2")

	latest, err := inventory.ParseRequest("latest")
	require.NoError(t, err)
	require.True(t, latest.IsLatest())
	_, err = inv.Resolve(latest, "linux", "amd64")
	require.ErrorAs(t, err, &unknown, "latest is what Heroku released last: no pin can match it")

	_, err = inv.Resolve(inventory.DefaultRequest(), "linux", "arm64")
	require.ErrorAs(t, err, &unknown)
	require.EqualError(t, err, "no release of the service mesh is pinned for linux-arm64")
	require.Contains(t, unknown.Help(), "pins no release for this")

	_, err = inv.Resolve(inventory.DefaultRequest(), "linux", "s390x")
	var arch *inventory.UnsupportedArchError
	require.ErrorAs(t, err, &arch)
	require.Contains(t, arch.Help(), "amd64 and arm64")
}

func TestParseRequestInvalid(t *testing.T) {
	for _, in := range []string{"v", "1.2.3.4", "^^1", "latest-please", "0.2.2\n0.2.3", "\xff\xfe", strings.Repeat("1", 100_000)} {
		t.Run(strings.ToValidUTF8(in[:min(len(in), 20)], "?"), func(t *testing.T) {
			_, err := inventory.ParseRequest(in)
			var invalid *inventory.InvalidRequestError
			require.ErrorAs(t, err, &invalid)
			require.Contains(t, err.Error(), "invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION")
			require.Less(t, len(err.Error()), 300, "the error must not echo a huge value back")
			require.Contains(t, invalid.Help(), "exact version")
		})
	}
}

func TestSigningKeyPin(t *testing.T) {
	inv := parse(t, "[metadata.signing]\nfingerprint = \"1234 5678 9abc def0 1234  5678 9ABC DEF0 1234 5678\"\n")
	require.Equal(t, "123456789ABCDEF0123456789ABCDEF012345678", inv.SigningKey)
	require.Empty(t, parse(t, "").SigningKey)
	_, err := inventory.Parse(strings.NewReader(header + "[metadata.signing]\nfingerprint = \"abc\"\n"))
	require.ErrorContains(t, err, "[metadata.signing]: fingerprint \"abc\": want 40 or 64 hex digits")
}
