package pin_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/pin"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

const descriptor = `# A comment that must survive.
api = "0.10"

[buildpack]
id = "heroku/heroku-applink"
version = "1.0.0"

[[targets]]
os = "linux"
arch = "amd64"

[[targets]]
os = "linux"
arch = "arm64"

[metadata]

[metadata.release.image]
repository = "docker.io/heroku/buildpack-heroku-applink"

# The release inventory.
`

type env struct {
	mirror   *harness.Mirror
	key      *harness.SigningKey
	toml     string
	out, err bytes.Buffer
	stdout   bytes.Buffer
	tool     *pin.Tool
	data     map[string][]byte
}

func newEnv(t *testing.T, extra string) *env {
	t.Helper()
	e := &env{mirror: harness.NewMirror(), data: map[string][]byte{}}
	t.Cleanup(e.mirror.Close)
	var err error
	e.key, err = harness.NewSigningKey("Release")
	require.NoError(t, err)
	for _, arch := range []string{"amd64", "arm64"} {
		e.data[arch] = []byte("mesh 1.2.3 for " + arch)
		e.mirror.PublishSigned("heroku-applink-service-mesh-v1.2.3-"+arch, e.data[arch], e.key, true)
	}
	e.toml = filepath.Join(t.TempDir(), "buildpack.toml")
	require.NoError(t, os.WriteFile(e.toml, []byte(descriptor+extra+"\n[metadata.signing]\nfingerprint = \""+e.key.Fingerprint+"\"\n"), 0o644))
	client := fetch.New("test")
	client.Backoff = func(int) time.Duration { return 0 }
	e.tool = &pin.Tool{Fetcher: client, Out: output.New(&e.out, &e.err, output.Classic, false), Stdout: &e.stdout}
	return e
}

func (e *env) run(t *testing.T, opts pin.Options) error {
	t.Helper()
	opts.BuildpackTOML = e.toml
	if opts.Mirror == "" {
		opts.Mirror = e.mirror.URL()
	}
	return e.tool.Run(context.Background(), opts)
}

func sha(b []byte) string { return harness.Artifact{Data: b}.Checksum() }

func TestPinAddsEntries(t *testing.T) {
	e := newEnv(t, "")
	require.NoError(t, e.run(t, pin.Options{Version: "v1.2.3"}))
	data, err := os.ReadFile(e.toml)
	require.NoError(t, err)
	text := string(data)
	require.True(t, strings.HasPrefix(text, descriptor), "everything before the inventory is kept byte for byte")
	inv, err := inventory.Parse(strings.NewReader(text))
	require.NoError(t, err)
	require.Len(t, inv.Artifacts, 2)
	for _, a := range inv.Artifacts {
		require.Equal(t, "1.2.3", a.Version.String())
		require.Equal(t, sha(e.data[a.Arch]), a.Checksum.String())
		require.Equal(t, "https://heroku-applink-service-mesh-binaries.s3.dualstack.us-east-1.amazonaws.com/heroku-applink-service-mesh-v1.2.3-"+a.Arch, a.URL,
			"pins name the official bucket even when fetched from a mirror")
	}
	require.Contains(t, text, "\"\n\n[[metadata.artifacts]]\nversion = \"1.2.3\"\nos = \"linux\"\narch = \"amd64\"\n")
	require.NotContains(t, text, "{", "no inline tables")
	require.Contains(t, e.out.String(), "amd64: signature by key "+e.key.Fingerprint+" verified; "+sha(e.data["amd64"]))
}

func TestPinReplacesAndKeepsOthers(t *testing.T) {
	old := `
[[metadata.artifacts]]
version = "1.2.3"
os = "linux"
arch = "amd64"
url = "https://heroku-applink-service-mesh-binaries.s3.dualstack.us-east-1.amazonaws.com/heroku-applink-service-mesh-v1.2.3-amd64"
checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

# 1.0.0 stays pinned.
[[metadata.artifacts]]
version = "1.0.0"
os = "linux"
arch = "amd64"
url = "https://heroku-applink-service-mesh-binaries.s3.dualstack.us-east-1.amazonaws.com/heroku-applink-service-mesh-v1.0.0-amd64"
checksum = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
`
	e := newEnv(t, old)
	require.NoError(t, e.run(t, pin.Options{Version: "1.2.3"}))
	data, err := os.ReadFile(e.toml)
	require.NoError(t, err)
	inv, err := inventory.Parse(bytes.NewReader(data))
	require.NoError(t, err)
	var got []string
	for _, a := range inv.Artifacts {
		got = append(got, a.Version.String()+"/"+a.Arch+"="+a.Checksum.String()[:12])
	}
	want := []string{"1.2.3/amd64=" + sha(e.data["amd64"])[:12], "1.0.0/amd64=sha256:11111", "1.2.3/arm64=" + sha(e.data["arm64"])[:12]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inventory (-want +got):\n%s", diff)
	}
	require.Contains(t, string(data), "# 1.0.0 stays pinned.\n[[metadata.artifacts]]\nversion = \"1.0.0\"")
	require.Equal(t, inv.SigningKey, e.key.Fingerprint)
}

func TestPinDryRun(t *testing.T) {
	e := newEnv(t, "")
	before, err := os.ReadFile(e.toml)
	require.NoError(t, err)
	require.NoError(t, e.run(t, pin.Options{Version: "1.2.3", DryRun: true}))
	after, err := os.ReadFile(e.toml)
	require.NoError(t, err)
	require.Equal(t, string(before), string(after))
	require.Contains(t, e.stdout.String(), "[[metadata.artifacts]]\nversion = \"1.2.3\"\nos = \"linux\"\narch = \"arm64\"\n")
	require.Contains(t, e.stdout.String(), "checksum = \""+sha(e.data["arm64"])+"\"\n")
}

func TestPinRefusesToWriteOnAnyFailure(t *testing.T) {
	mallory, err := harness.NewSigningKey("Mallory")
	require.NoError(t, err)
	tests := []struct {
		name    string
		break_  func(e *env)
		wantErr string
		as      any
	}{
		{"arm64 signed by another key", func(e *env) {
			e.mirror.Put("heroku-applink-service-mesh-v1.2.3-arm64.asc", mallory.Sign(e.data["arm64"]))
		}, "heroku-applink-service-mesh-v1.2.3-arm64: signature verification failed", new(*signature.BadSignatureError)},
		{"arm64 missing", func(e *env) {
			e.mirror.Put("heroku-applink-service-mesh-v1.2.3-arm64", nil)
			e.mirror.Fault("heroku-applink-service-mesh-v1.2.3-arm64", http404)
		},
			"failed to download heroku-applink-service-mesh-v1.2.3-arm64", new(*fetch.StatusError)},
		{"signature missing", func(e *env) { e.mirror.Fault("heroku-applink-service-mesh-v1.2.3-amd64.asc", http404) },
			"failed to download the signature", new(*fetch.StatusError)},
		{"mirror key is not the pinned one", func(e *env) { e.mirror.Put("public-key.asc", mallory.PublicKey()) },
			"differs from the pinned", new(*signature.FingerprintError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			tt.break_(e)
			before, err := os.ReadFile(e.toml)
			require.NoError(t, err)
			err = e.run(t, pin.Options{Version: "1.2.3"})
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorAs(t, err, tt.as)
			after, rerr := os.ReadFile(e.toml)
			require.NoError(t, rerr)
			require.Equal(t, string(before), string(after), "nothing is written")
		})
	}
	t.Run("bad version", func(t *testing.T) {
		e := newEnv(t, "")
		require.ErrorContains(t, e.run(t, pin.Options{Version: "1.2"}), "want X.Y.Z")
	})
}

func TestApplyAppendsAtEndWithoutArtifacts(t *testing.T) {
	got, err := pin.Apply("[metadata]\n# tail comment", []pin.Entry{{Version: "1.0.0", Arch: "amd64",
		URL: "https://example.com/x", Checksum: "sha256:" + strings.Repeat("a", 64)}})
	require.NoError(t, err)
	require.Equal(t, "[metadata]\n# tail comment\n\n[[metadata.artifacts]]\nversion = \"1.0.0\"\nos = \"linux\"\narch = \"amd64\"\n"+
		"url = \"https://example.com/x\"\nchecksum = \"sha256:"+strings.Repeat("a", 64)+"\"\n", got)
}

func http404(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }
