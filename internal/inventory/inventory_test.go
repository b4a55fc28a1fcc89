package inventory_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

const sumA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func artifact(v, arch string) string {
	return `
[[artifacts]]
version = "` + v + `"
os = "linux"
arch = "` + arch + `"
url = "https://example-bucket.s3.dualstack.us-east-1.amazonaws.com/heroku-applink-service-mesh-v` + v + `-` + arch + `"
checksum = "` + sumA + `"
`
}

func parse(t *testing.T, body string) inventory.Inventory {
	t.Helper()
	inv, err := inventory.Parse(strings.NewReader(body))
	require.NoError(t, err)
	return inv
}

func TestParseValid(t *testing.T) {
	inv := parse(t, artifact("0.2.2", "amd64")+artifact("0.2.2", "arm64")+artifact("v1.0.0", "amd64"))
	require.Len(t, inv.Artifacts, 3)
	a := inv.Artifacts[0]
	testhelpers.Equal(t, []string{"0.2.2", "linux", "amd64", sumA},
		[]string{a.Version.String(), "linux", a.Arch, a.Checksum})
	testhelpers.Equal(t, []string{"1.0.0", "0.2.2"}, inv.Versions("amd64"))
	require.Empty(t, parse(t, "").Artifacts)
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
	}{
		{"checksum without algorithm", strings.Replace(artifact("0.2.2", "amd64"), "sha256:", "", 1), `artifact 1: checksum "aaaa`},
		{"checksum with md5", strings.Replace(artifact("0.2.2", "amd64"), "sha256:", "md5:", 1), `checksum "md5:aaaa`},
		{"checksum too short", strings.Replace(artifact("0.2.2", "amd64"), "aaaa\"", "\"", 1), "a\": want sha256:<64 lowercase hex digits>"},
		{"checksum uppercase", strings.Replace(artifact("0.2.2", "amd64"), "aaaa\"", "AAAA\"", 1), "AAAA\": want sha256:<64 lowercase hex digits>"},
		{"checksum not hex", strings.Replace(artifact("0.2.2", "amd64"), "aaaa\"", "zzzz\"", 1), "zzzz\": want sha256:<64 lowercase hex digits>"},
		{"checksum missing", strings.Replace(artifact("0.2.2", "amd64"), `checksum = "`+sumA+`"`, "", 1), `artifact 1: checksum "": want sha256:<64 lowercase hex digits>`},
		{"duplicate", artifact("0.2.2", "amd64") + artifact("v0.2.2", "amd64"), "artifact 2: duplicate of artifact 1"},
		{"unknown arch", artifact("0.2.2", "386"), `arch "386" is not supported`},
		{"unknown os", strings.Replace(artifact("0.2.2", "amd64"), `"linux"`, `"darwin"`, 1), `os "darwin"`},
		{"bad version", artifact("0.2", "amd64"), `version "0.2" is not a semantic version`},
		{"missing version", strings.Replace(artifact("0.2.2", "amd64"), `version = "0.2.2"`, "", 1), `artifact 1: version "" is not a semantic version`},
		{"relative url", strings.Replace(artifact("0.2.2", "amd64"), "https://example-bucket.s3.dualstack.us-east-1.amazonaws.com", "", 1), "not an absolute http(s) URL"},
		{"ftp url", strings.Replace(artifact("0.2.2", "amd64"), "https://", "ftp://", 1), "not an absolute http(s) URL"},
		{"url with credentials", strings.Replace(artifact("0.2.2", "amd64"), "https://", "https://u:p@", 1), "carries credentials"},
		{"unknown key", artifact("0.2.2", "amd64") + "sha = \"x\"\n", `unknown key "artifacts.sha"`},
		{"the old buildpack.toml form", "[[metadata.artifacts]]\nversion = \"0.2.2\"\n", `unknown key "metadata.artifacts"`},
		{"wrong type", "artifacts = \"x\"\n", "failed to parse TOML"},
		{"not TOML", "[[artifacts]\n", "failed to parse TOML"},
		{"bad fingerprint", "[signing]\nfingerprint = \"abc\"\n", `[signing]: fingerprint "abc": want 40 or 64 hex digits`},
		{"fingerprint not hex", "[signing]\nfingerprint = \"" + strings.Repeat("z", 40) + "\"\n", `: want 40 or 64 hex digits`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inventory.Parse(strings.NewReader(tt.body))
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	_, err := inventory.Load(filepath.Join(dir, inventory.FileName))
	require.EqualError(t, err, "the buildpack has no inventory.toml: reinstall the buildpack")
	require.NoError(t, os.WriteFile(filepath.Join(dir, inventory.FileName), []byte("[[artifacts]\n"), 0o644))
	_, err = inventory.Load(filepath.Join(dir, inventory.FileName))
	require.ErrorContains(t, err, "invalid inventory "+filepath.Join(dir, inventory.FileName)+": failed to parse TOML")
}

// TestEncodeIsTheFileFormat pins the whole file a pin writes: the form
// Heroku's buildpacks use, newest version first.
func TestEncodeIsTheFileFormat(t *testing.T) {
	mk := func(v, arch, hex string) inventory.Artifact {
		return inventory.Artifact{Version: semver.MustParse(v), Arch: arch,
			URL: "https://example.com/heroku-applink-service-mesh-v" + v + "-" + arch, Checksum: "sha256:" + strings.Repeat(hex, 64)}
	}
	inv := inventory.Inventory{SigningKey: strings.Repeat("AB", 20)}.
		With(mk("0.2.2", "arm64", "b")).With(mk("0.3.0", "amd64", "c")).With(mk("0.2.2", "amd64", "a"))
	var buf bytes.Buffer
	require.NoError(t, inv.Encode(&buf))
	want := `# The Heroku AppLink Service Mesh releases this buildpack pins: one
# [[artifacts]] table per version and architecture, with the sha256 of the
# release file. Written by make pin and make update-inventory; see
# CONTRIBUTING.md.

[signing]
  fingerprint = "ABABABABABABABABABABABABABABABABABABABAB"

[[artifacts]]
  version = "0.3.0"
  os = "linux"
  arch = "amd64"
  url = "https://example.com/heroku-applink-service-mesh-v0.3.0-amd64"
  checksum = "sha256:` + strings.Repeat("c", 64) + `"

[[artifacts]]
  version = "0.2.2"
  os = "linux"
  arch = "amd64"
  url = "https://example.com/heroku-applink-service-mesh-v0.2.2-amd64"
  checksum = "sha256:` + strings.Repeat("a", 64) + `"

[[artifacts]]
  version = "0.2.2"
  os = "linux"
  arch = "arm64"
  url = "https://example.com/heroku-applink-service-mesh-v0.2.2-arm64"
  checksum = "sha256:` + strings.Repeat("b", 64) + `"
`
	testhelpers.Equal(t, want, buf.String())

	back, err := inventory.Parse(&buf)
	require.NoError(t, err)
	require.ElementsMatch(t, inv.Artifacts, back.Artifacts)
	require.Equal(t, inv.SigningKey, back.SigningKey)

	replaced := inv.With(mk("0.2.2", "amd64", "d"))
	require.Len(t, replaced.Artifacts, 3, "a pin of the same version and arch replaces the old one")
	require.Contains(t, replaced.Artifacts, mk("0.2.2", "amd64", "d"))
	require.Len(t, inv.Artifacts, 3)
	require.Equal(t, strings.Repeat("a", 64), strings.TrimPrefix(inv.Artifacts[2].Checksum, "sha256:"), "With leaves the original alone")

	only := inv.ForArch("arm64")
	require.Len(t, only.Artifacts, 1)
	require.Equal(t, inv.SigningKey, only.SigningKey)

	dir := t.TempDir()
	require.NoError(t, inventory.Inventory{}.Save(dir))
	empty, err := inventory.Load(filepath.Join(dir, inventory.FileName))
	require.NoError(t, err)
	require.Empty(t, empty.Artifacts)
}

func TestResolve(t *testing.T) {
	inv := parse(t, artifact("0.2.2", "amd64")+artifact("0.2.3", "amd64")+artifact("0.3.0", "amd64")+
		artifact("1.0.0", "amd64")+artifact("1.4.1", "amd64")+artifact("2.0.0-rc.1", "amd64")+artifact("0.9.0", "arm64"))
	tests := []struct {
		request, arch, want string
	}{
		{"", "amd64", "1.4.1"},
		{"0.2.2", "amd64", "0.2.2"},
		{"~0.2", "amd64", "0.2.3"},
		{"^1", "amd64", "1.4.1"},
		{"<1", "amd64", "0.3.0"},
		{"2.0.0-rc.1", "amd64", "2.0.0-rc.1"},
		{"", "arm64", "0.9.0"},
	}
	for _, tt := range tests {
		t.Run(tt.request+"/"+tt.arch, func(t *testing.T) {
			req, err := inventory.ParseRequest(tt.request)
			require.NoError(t, err)
			got, err := inv.Resolve(req, tt.arch)
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
	_, err = inv.Resolve(req, "amd64")
	var unknown *inventory.NoMatchError
	require.ErrorAs(t, err, &unknown)
	require.Equal(t, []string{"1.0.0", "0.2.2"}, unknown.Available)
	require.EqualError(t, err, `no pinned release of the service mesh matches "9.9.9" for linux-amd64`)
	require.Contains(t, unknown.Help(), "Pinned versions for linux-amd64: 1.0.0, 0.2.2")

	latest, err := inventory.ParseRequest("latest")
	require.NoError(t, err)
	_, err = inv.Resolve(latest, "amd64")
	require.ErrorAs(t, err, &unknown, "latest is what Heroku released last: no pin can match it")

	_, err = inv.Resolve(inventory.Request{}, "arm64")
	require.ErrorAs(t, err, &unknown)
	require.EqualError(t, err, "no release of the service mesh is pinned for linux-arm64")
	require.Contains(t, unknown.Help(), "pins no release for this architecture yet")

	_, err = inv.Resolve(inventory.Request{}, "s390x")
	var arch *inventory.UnsupportedArchError
	require.ErrorAs(t, err, &arch)
	require.Contains(t, arch.Help(), "amd64 and arm64")
}

func TestSigningKeyPin(t *testing.T) {
	inv := parse(t, "[signing]\nfingerprint = \"1234 5678 9abc def0 1234  5678 9ABC DEF0 1234 5678\"\n")
	require.Equal(t, "123456789ABCDEF0123456789ABCDEF012345678", inv.SigningKey)
	require.Empty(t, parse(t, "").SigningKey)
}
