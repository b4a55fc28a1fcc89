package testhelpers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// Artifact is a release file a test publishes and pins.
type Artifact struct {
	Version string
	Arch    string
	Data    []byte
}

// FakeMesh is a small stand-in release file for unit tests: a script that
// prints its version, as the mesh's -v does.
func FakeMesh(version, arch string) Artifact {
	data := "#!/bin/sh\necho 'heroku-applink-service-mesh version v" + version + " [os: linux, arch: " + arch + "]'\n"
	return Artifact{Version: version, Arch: arch, Data: []byte(data)}
}

// Object is the release bucket's name for the artifact.
func (a Artifact) Object() string { return install.Object(a.Version, a.Arch) }

// Hex is the artifact's sha256, as cache entries are named.
func (a Artifact) Hex() string {
	sum := sha256.Sum256(a.Data)
	return hex.EncodeToString(sum[:])
}

// Checksum is the stored form of the sha256, as logs and files show it.
func (a Artifact) Checksum() string { return "sha256:" + a.Hex() }

// Pin is the inventory entry pinning the artifact at its official URL; a
// mirror config var makes builds fetch it from a Mirror instead.
func (a Artifact) Pin() inventory.Artifact {
	return inventory.Artifact{Version: semver.MustParse(a.Version), Arch: a.Arch,
		URL: config.OfficialURL(a.Object()), Checksum: a.Checksum()}
}

// Inventory pins the artifacts, and the signing key when fingerprint is
// not empty.
func Inventory(fingerprint string, arts ...Artifact) inventory.Inventory {
	inv := inventory.Inventory{SigningKey: fingerprint}
	for _, a := range arts {
		inv = inv.With(a.Pin())
	}
	return inv
}

// WriteInventory writes inv as dir's inventory.toml.
func WriteInventory(t testing.TB, dir string, inv inventory.Inventory) {
	t.Helper()
	if err := inv.Save(dir); err != nil {
		t.Fatal(err)
	}
}

// Installer is an installer with no backoff between retries and a clock
// that advances one second per reading, printing plain text to out and
// errOut in style.
func Installer(out, errOut io.Writer, style output.Style) *install.Installer {
	client, err := fetch.New("test", func(string) string { return "" })
	if err != nil {
		panic(err)
	}
	client.Backoff = func(int) time.Duration { return 0 }
	clock := time.Unix(0, 0)
	return &install.Installer{
		Fetch: client,
		Out:   output.New(out, errOut, style, false),
		Now:   func() time.Time { clock = clock.Add(time.Second); return clock },
	}
}

// Equal fails t with a go-cmp diff when got is not want.
func Equal(t testing.TB, want, got any, opts ...cmp.Option) {
	t.Helper()
	if diff := cmp.Diff(want, got, opts...); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// AttachAddon writes the AppLink add-on's config vars into a config var
// directory (ENV_DIR, or a CNB platform's env), as attaching the add-on
// does, with values that reach nothing.
func AttachAddon(t testing.TB, dir string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, value := range map[string]string{
		"HEROKU_APPLINK_API_URL": "https://applink.invalid/addons/00000000-0000-0000-0000-000000000000",
		"HEROKU_APPLINK_TOKEN":   "not-a-token",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(value), 0o600))
	}
}

// CancelOn is a log that cancels a build as soon as it shows Line: a signal
// arriving at exactly that point.
type CancelOn struct {
	bytes.Buffer
	Line   string
	Cancel context.CancelFunc
}

func (w *CancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.Line) {
		w.Cancel()
	}
	return w.Buffer.Write(p)
}
