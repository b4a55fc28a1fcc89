package release_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/release"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

const changelog = "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-12-05\n\n- First.\n"

var arches = []string{"amd64", "arm64"}

type env struct {
	dir      string
	mirror   *testhelpers.Mirror
	key      *testhelpers.SigningKey
	out, err bytes.Buffer
	stdout   bytes.Buffer
	tool     *release.Pinner
}

// newEnv lays out a buildpack with inv as its inventory (the key's
// fingerprint pinned), and a mirror with the key.
func newEnv(t *testing.T, inv inventory.Inventory) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), mirror: testhelpers.StartMirror(t), key: testhelpers.Key(t, "Release")}
	e.mirror.Put(config.KeyObject, e.key.PublicKey())
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "buildpack.toml"), []byte(descriptor), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "CHANGELOG.md"), []byte(changelog), 0o644))
	inv.SigningKey = e.key.Fingerprint
	testhelpers.WriteInventory(t, e.dir, inv)
	inst := testhelpers.Installer(&e.out, &e.err, 0)
	e.tool = &release.Pinner{Fetch: inst.Fetch, Out: inst.Out, Stdout: &e.stdout, Buildpack: e.dir, Mirror: e.mirror.URL()}
	return e
}

// publish signs a release for every arch, under name (latest or a
// version), with data made by mk.
func (e *env) publish(version string, mk func(arch string) []byte) map[string]testhelpers.Artifact {
	arts := map[string]testhelpers.Artifact{}
	for _, arch := range arches {
		a := testhelpers.Artifact{Version: version, Arch: arch, Data: mk(arch)}
		arts[arch] = a
		e.mirror.PublishSigned(a.Object(), a.Data, e.key, false)
	}
	return arts
}

func (e *env) files(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, name := range []string{inventory.FileName, "CHANGELOG.md"} {
		data, err := os.ReadFile(filepath.Join(e.dir, name))
		require.NoError(t, err)
		b.Write(data)
	}
	return b.String()
}

func (e *env) inventory(t *testing.T) inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(filepath.Join(e.dir, inventory.FileName))
	require.NoError(t, err)
	return inv
}

func pinOf(a testhelpers.Artifact, version string) inventory.Artifact {
	return inventory.Artifact{Version: semver.MustParse(version), Arch: a.Arch,
		URL: config.OfficialURL(install.Object(version, a.Arch)), Checksum: a.Checksum()}
}

func mesh(version string) func(string) []byte {
	return func(arch string) []byte { return testhelpers.FakeMesh(version, arch).Data }
}

func TestPin(t *testing.T) {
	old := testhelpers.FakeMesh("1.0.0", "amd64")
	e := newEnv(t, testhelpers.Inventory("", old))
	arts := e.publish("1.2.3", mesh("1.2.3"))
	require.NoError(t, e.tool.Pin(context.Background(), "v1.2.3"))
	got := e.inventory(t)
	require.ElementsMatch(t, []inventory.Artifact{pinOf(old, "1.0.0"), pinOf(arts["amd64"], "1.2.3"), pinOf(arts["arm64"], "1.2.3")}, got.Artifacts)
	require.Contains(t, e.out.String(), "Signature by key "+e.key.Fingerprint+" verified: "+arts["amd64"].Checksum())
	require.Contains(t, e.out.String(), "-----> Updated "+filepath.Join(e.dir, inventory.FileName))

	t.Run("a dry run writes nothing", func(t *testing.T) {
		e := newEnv(t, inventory.Inventory{})
		e.publish("1.2.3", mesh("1.2.3"))
		before := e.files(t)
		e.tool.DryRun = true
		require.NoError(t, e.tool.Pin(context.Background(), "1.2.3"))
		require.Equal(t, before, e.files(t))
		require.Contains(t, e.stdout.String(), "checksum = \""+testhelpers.FakeMesh("1.2.3", "arm64").Checksum()+"\"")
	})
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
			e.mirror.Put("heroku-applink-service-mesh-v1.2.3-arm64.asc", mallory.Sign(testhelpers.FakeMesh("1.2.3", "arm64").Data))
		}, "heroku-applink-service-mesh-v1.2.3-arm64: signature verification failed: the file was signed by another key", new(*signature.Error)},
		{"arm64 missing", func(e *env) { e.mirror.Fault("heroku-applink-service-mesh-v1.2.3-arm64", testhelpers.Status(404)) },
			"heroku-applink-service-mesh-v1.2.3-arm64: server answered 404", new(*fetch.StatusError)},
		{"signature missing", func(e *env) { e.mirror.Fault("heroku-applink-service-mesh-v1.2.3-amd64.asc", testhelpers.Status(404)) },
			"failed to download the signature", new(*fetch.StatusError)},
		{"the mirror's key is not the pinned one", func(e *env) { e.mirror.Put(config.KeyObject, mallory.PublicKey()) },
			"differs from the pinned", new(*signature.KeyError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, inventory.Inventory{})
			e.publish("1.2.3", mesh("1.2.3"))
			tt.break_(e)
			before := e.files(t)
			err := e.tool.Pin(context.Background(), "1.2.3")
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorAs(t, err, tt.as)
			require.Equal(t, before, e.files(t), "nothing is written")
		})
	}
	e := newEnv(t, inventory.Inventory{})
	require.ErrorContains(t, e.tool.Pin(context.Background(), "1.2"), "want X.Y.Z")
}

// TestUpdate: the release the bucket calls latest is pinned when it is
// new, by version, for every arch, and the CHANGELOG says so.
func TestUpdate(t *testing.T) {
	old := testhelpers.FakeMesh("0.2.2", "amd64")
	e := newEnv(t, testhelpers.Inventory("", old))
	latest := e.publish("latest", mesh("0.3.0"))
	e.publish("0.3.0", mesh("0.3.0"))
	require.NoError(t, e.tool.Update(context.Background()))
	got := e.inventory(t)
	require.ElementsMatch(t, []inventory.Artifact{pinOf(old, "0.2.2"), pinOf(latest["amd64"], "0.3.0"), pinOf(latest["arm64"], "0.3.0")}, got.Artifacts,
		"the versioned official URLs, never latest; the old pin kept")
	data, err := os.ReadFile(filepath.Join(e.dir, "CHANGELOG.md"))
	require.NoError(t, err)
	require.Equal(t, "# Changelog\n\n## [Unreleased]\n\n- The Heroku AppLink Service Mesh 0.3.0 is pinned for linux amd64 and arm64, and is the default release.\n\n## [1.0.0] - 2026-12-05\n\n- First.\n", string(data))
	require.Contains(t, e.out.String(), "       Latest is 0.3.0\n")

	t.Run("a dry run writes nothing", func(t *testing.T) {
		e := newEnv(t, inventory.Inventory{})
		e.publish("latest", mesh("0.3.0"))
		e.publish("0.3.0", mesh("0.3.0"))
		before := e.files(t)
		e.tool.DryRun = true
		require.NoError(t, e.tool.Update(context.Background()))
		require.Equal(t, before, e.files(t))
		require.Contains(t, e.stdout.String(), "checksum = \""+testhelpers.FakeMesh("0.3.0", "arm64").Checksum()+"\"")
	})

	t.Run("again: nothing to do, nothing changed", func(t *testing.T) {
		before := e.files(t)
		require.NoError(t, e.tool.Update(context.Background()))
		require.Equal(t, before, e.files(t))
		require.Contains(t, e.out.String(), "-----> 0.3.0 is pinned already: nothing to do\n")
	})
}

func TestUpdateRefusesToWriteOnAnyFailure(t *testing.T) {
	mallory := testhelpers.Key(t, "Mallory")
	tests := []struct {
		name   string
		setup  func(t *testing.T, e *env)
		fp     bool
		wantEr string
	}{
		{"no pinned key fingerprint", func(t *testing.T, e *env) {
			testhelpers.WriteInventory(t, e.dir, inventory.Inventory{})
		}, false, "inventory.toml pins no signing key fingerprint: pin the release key first"},
		{"latest signed by another key", func(t *testing.T, e *env) {
			e.mirror.Put("heroku-applink-service-mesh-latest-arm64.asc", mallory.Sign(testhelpers.FakeMesh("0.3.0", "arm64").Data))
		}, true, "heroku-applink-service-mesh-latest-arm64: signature verification failed: the file was signed by another key"},
		{"a versioned object that differs from its latest", func(t *testing.T, e *env) {
			e.mirror.PublishSigned(install.Object("0.3.0", "arm64"), []byte("other bytes"), e.key, false)
		}, true, "heroku-applink-service-mesh-v0.3.0-arm64 is sha256:"},
		{"no versioned object", func(t *testing.T, e *env) {
			e.mirror.Fault(install.Object("0.3.0", "amd64"), testhelpers.Status(404))
		}, true, "heroku-applink-service-mesh-v0.3.0-amd64: server answered 404"},
		{"a pin of that version with other bytes", func(t *testing.T, e *env) {
			a := testhelpers.FakeMesh("0.3.0", "amd64")
			a.Data = []byte("what was pinned before")
			testhelpers.WriteInventory(t, e.dir, testhelpers.Inventory(e.key.Fingerprint, a))
		}, true, "inventory.toml pins 0.3.0 for amd64 with sha256:"},
		{"a latest that names no version", func(t *testing.T, e *env) {
			e.mirror.PublishSigned(install.Object("latest", "amd64"), []byte("#!/bin/sh\necho hello\n"), e.key, false)
		}, true, "heroku-applink-service-mesh-latest-amd64: its -v output names no version"},
		{"arches that disagree on the version", func(t *testing.T, e *env) {
			e.mirror.PublishSigned(install.Object("latest", "amd64"), tagged(t, "v0.3.0", "amd64"), e.key, false)
			e.mirror.PublishSigned(install.Object("latest", "arm64"), tagged(t, "v0.4.0", "arm64"), e.key, false)
		}, true, "the latest releases disagree on the version: 0.3.0 and 0.4.0; nothing was changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, inventory.Inventory{})
			e.publish("latest", mesh("0.3.0"))
			e.publish("0.3.0", mesh("0.3.0"))
			tt.setup(t, e)
			before := e.files(t)
			err := e.tool.Update(context.Background())
			require.ErrorContains(t, err, tt.wantEr)
			require.Equal(t, before, e.files(t), "nothing is written")
		})
	}
}

// tagged builds a Go program whose build information carries version, as
// a release built from a tagged checkout does.
func tagged(t *testing.T, version, arch string) []byte {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/mesh\n\ngo 1.26\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644))
	for _, args := range [][]string{{"git", "init", "-q"}, {"git", "add", "."},
		{"git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x"}, {"git", "tag", version},
		{"go", "build", "-o", "mesh", "."}} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=true")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	data, err := os.ReadFile(filepath.Join(dir, "mesh"))
	require.NoError(t, err)
	return data
}

// TestUpdateChangelog: the line goes first under Unreleased, in its list
// when the section starts with one; without the section nothing is
// written.
func TestUpdateChangelog(t *testing.T) {
	const line = "- The Heroku AppLink Service Mesh 0.3.0 is pinned for linux amd64 and arm64, and is the default release.\n"
	tests := []struct {
		name, changelog, want, err string
	}{
		{name: "a list", changelog: "# Changelog\n\n## [Unreleased]\n\n- Other.\n\n## [1.0.0] - 2026-12-05\n",
			want: "# Changelog\n\n## [Unreleased]\n\n" + line + "- Other.\n\n## [1.0.0] - 2026-12-05\n"},
		{name: "prose", changelog: "# Changelog\n\n## [Unreleased]\n\n### Changed\n\n- Other.\n",
			want: "# Changelog\n\n## [Unreleased]\n\n" + line + "\n### Changed\n\n- Other.\n"},
		{name: "the last section", changelog: "# Changelog\n\n## [Unreleased]\n",
			want: "# Changelog\n\n## [Unreleased]\n\n" + line + "\n"},
		{name: "no Unreleased section", changelog: "# Changelog\n\n## [1.0.0] - 2026-12-05\n",
			err: `CHANGELOG.md has no "## [Unreleased]" section: add one, then run this again`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, inventory.Inventory{})
			e.publish("latest", mesh("0.3.0"))
			e.publish("0.3.0", mesh("0.3.0"))
			require.NoError(t, os.WriteFile(filepath.Join(e.dir, "CHANGELOG.md"), []byte(tt.changelog), 0o644))
			before := e.files(t)
			err := e.tool.Update(context.Background())
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				require.Equal(t, before, e.files(t), "nothing is written")
				return
			}
			require.NoError(t, err)
			data, err := os.ReadFile(filepath.Join(e.dir, "CHANGELOG.md"))
			require.NoError(t, err)
			require.Equal(t, tt.want, string(data))
			require.Len(t, e.inventory(t).Artifacts, 2)
		})
	}
}
