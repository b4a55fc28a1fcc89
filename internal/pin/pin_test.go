package pin_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/pin"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

const descriptor = `api = "0.10"

[buildpack]
id = "heroku/heroku-applink"
version = "1.0.0"

[[targets]]
os = "linux"
arch = "amd64"

[[targets]]
os = "linux"
arch = "arm64"
`

type env struct {
	dir      string
	mirror   *testhelpers.Mirror
	key      *testhelpers.SigningKey
	out, err bytes.Buffer
	stdout   bytes.Buffer
	tool     *pin.Tool
	arts     map[string]testhelpers.Artifact
}

// newEnv lays out a buildpack with inv as its inventory (the key's
// fingerprint pinned), and a mirror holding release 1.2.3 for both arches,
// signed, with the key.
func newEnv(t *testing.T, inv inventory.Inventory) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), mirror: testhelpers.StartMirror(t), key: testhelpers.Key(t, "Release"), arts: map[string]testhelpers.Artifact{}}
	for _, arch := range source.Architectures {
		a := testhelpers.Artifact{Version: "1.2.3", Arch: arch, Data: []byte("mesh 1.2.3 for " + arch)}
		e.arts[arch] = a
		e.mirror.PublishSigned(a.Object(), a.Data, e.key, true)
	}
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "buildpack.toml"), []byte(descriptor), 0o644))
	inv.SigningKey = e.key.Fingerprint
	testhelpers.WriteInventory(t, e.dir, inv)
	inst := testhelpers.Installer(&e.out, &e.err, output.Classic)
	e.tool = &pin.Tool{Fetcher: inst.Fetcher, Out: inst.Out, Stdout: &e.stdout}
	return e
}

func (e *env) run(t *testing.T, opts pin.Options) error {
	t.Helper()
	opts.Buildpack = e.dir
	if opts.Mirror == "" {
		opts.Mirror = e.mirror.URL()
	}
	return e.tool.Run(context.Background(), opts)
}

func (e *env) inventory(t *testing.T) inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(filepath.Join(e.dir, inventory.FileName))
	require.NoError(t, err)
	return inv
}

func (e *env) file(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.dir, inventory.FileName))
	require.NoError(t, err)
	return string(data)
}

// want is the inventory pin writes: the pinned key and the release for
// every target, at its official bucket URL whatever it was fetched from.
func (e *env) want(others ...inventory.Artifact) inventory.Inventory {
	inv := inventory.Inventory{SigningKey: e.key.Fingerprint, Artifacts: others}
	for _, arch := range source.Architectures {
		inv = inv.With(e.arts[arch].Pin())
	}
	return inv
}

func encode(t *testing.T, inv inventory.Inventory) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, inv.Encode(&b))
	return b.String()
}

func TestPinAddsEntries(t *testing.T) {
	e := newEnv(t, inventory.Inventory{})
	require.NoError(t, e.run(t, pin.Options{Version: "v1.2.3"}))
	testhelpers.Equal(t, encode(t, e.want()), e.file(t))
	require.Contains(t, e.out.String(), "amd64: signature by key "+e.key.Fingerprint+" verified; "+e.arts["amd64"].Checksum())
	require.Contains(t, e.out.String(), "-----> Updated "+filepath.Join(e.dir, inventory.FileName))
}

func TestPinReplacesAndKeepsOthers(t *testing.T) {
	stale := e0(t, "1.2.3", "amd64", "0")
	kept := e0(t, "1.0.0", "amd64", "1")
	e := newEnv(t, inventory.Inventory{Artifacts: []inventory.Artifact{stale, kept}})
	require.NoError(t, e.run(t, pin.Options{Version: "1.2.3"}))
	got := e.inventory(t)
	require.ElementsMatch(t, e.want(kept).Artifacts, got.Artifacts)
	require.Equal(t, e.key.Fingerprint, got.SigningKey)
}

func e0(t *testing.T, v, arch, hex string) inventory.Artifact {
	t.Helper()
	d, err := digest.FromHex(string(bytes.Repeat([]byte(hex), 64)))
	require.NoError(t, err)
	return inventory.Artifact{Version: semver.MustParse(v), OS: "linux", Arch: arch, URL: source.OfficialURL(source.Object(v, arch)), Checksum: d}
}

func TestPinDryRun(t *testing.T) {
	e := newEnv(t, inventory.Inventory{})
	before := e.file(t)
	require.NoError(t, e.run(t, pin.Options{Version: "1.2.3", DryRun: true}))
	require.Equal(t, before, e.file(t), "a dry run writes nothing")
	testhelpers.Equal(t, encode(t, e.want()), e.stdout.String())
}

func TestPinRefusesToWriteOnAnyFailure(t *testing.T) {
	mallory := testhelpers.Key(t, "Mallory")
	tests := []struct {
		name    string
		break_  func(e *env)
		wantErr string
		as      any
	}{
		{"arm64 signed by another key", func(e *env) {
			e.mirror.Put("heroku-applink-service-mesh-v1.2.3-arm64.asc", mallory.Sign(e.arts["arm64"].Data))
		}, "heroku-applink-service-mesh-v1.2.3-arm64: signature verification failed", new(*signature.BadSignatureError)},
		{"arm64 missing", func(e *env) { e.mirror.Fault("heroku-applink-service-mesh-v1.2.3-arm64", testhelpers.Status(404)) },
			"failed to download heroku-applink-service-mesh-v1.2.3-arm64", new(*fetch.StatusError)},
		{"signature missing", func(e *env) { e.mirror.Fault("heroku-applink-service-mesh-v1.2.3-amd64.asc", testhelpers.Status(404)) },
			"failed to download the signature", new(*fetch.StatusError)},
		{"mirror key is not the pinned one", func(e *env) { e.mirror.Put(source.KeyObject, mallory.PublicKey()) },
			"differs from the pinned", new(*signature.FingerprintError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, inventory.Inventory{})
			tt.break_(e)
			before := e.file(t)
			err := e.run(t, pin.Options{Version: "1.2.3"})
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorAs(t, err, tt.as)
			require.Equal(t, before, e.file(t), "nothing is written")
		})
	}
	t.Run("bad version", func(t *testing.T) {
		e := newEnv(t, inventory.Inventory{})
		require.ErrorContains(t, e.run(t, pin.Options{Version: "1.2"}), "want X.Y.Z")
	})
}
