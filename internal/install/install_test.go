package install_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

var mesh = []byte("#!/bin/sh\necho 'heroku-applink-service-mesh version v0.2.2'\n")

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

type fixture struct {
	srv      *httptest.Server
	requests *atomic.Int32
	body     atomic.Pointer[[]byte]
	code     atomic.Int32
	target   install.Target
	out, err bytes.Buffer
	inst     *install.Installer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{requests: new(atomic.Int32)}
	f.body.Store(&mesh)
	f.code.Store(200)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		if c := int(f.code.Load()); c != 200 {
			w.WriteHeader(c)
			return
		}
		w.Write(*f.body.Load())
	}))
	t.Cleanup(f.srv.Close)
	inv, err := inventory.Parse(strings.NewReader(`
[[metadata.artifacts]]
version = "0.2.2"
os = "linux"
arch = "amd64"
url = "https://heroku-applink-service-mesh-binaries.s3.dualstack.us-east-1.amazonaws.com/heroku-applink-service-mesh-v0.2.2-amd64"
checksum = "sha256:` + sum(mesh) + `"
`))
	require.NoError(t, err)
	cfg, err := config.Parse(map[string]string{config.VarMirror: f.srv.URL})
	require.NoError(t, err)
	f.target, err = install.Plan(cfg, inv, "amd64")
	require.NoError(t, err)
	client := fetch.New("test")
	client.Backoff = func(int) time.Duration { return 0 }
	clock := time.Unix(0, 0)
	f.inst = &install.Installer{
		Fetcher: client,
		Out:     output.New(&f.out, &f.err, output.Classic, false),
		Now:     func() time.Time { clock = clock.Add(time.Second); return clock },
	}
	return f
}

func (f *fixture) install(t *testing.T, root string, cache *install.Cache) (install.Result, error) {
	t.Helper()
	f.out.Reset()
	f.err.Reset()
	return f.inst.Install(context.Background(), f.target, root, "vendor/heroku-applink/bin", cache)
}

func TestInstallFresh(t *testing.T) {
	f := newFixture(t)
	root := t.TempDir()
	res, err := f.install(t, root, nil)
	require.NoError(t, err)
	bin := filepath.Join(root, "vendor/heroku-applink/bin")
	require.Equal(t, filepath.Join(bin, "heroku-applink-service-mesh"), res.Path)
	require.False(t, res.FromCache)

	got, err := os.ReadFile(res.Path)
	require.NoError(t, err)
	require.Equal(t, mesh, got)
	info, err := os.Stat(res.Path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), info.Mode().Perm())

	link, err := os.Readlink(filepath.Join(bin, "heroku-applink-service-mesh-latest-amd64"))
	require.NoError(t, err)
	require.Equal(t, "heroku-applink-service-mesh", link, "the legacy link is relative so it survives the slug's move to /app")

	entries, err := os.ReadDir(bin)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temporary files are left")

	want := "-----> Installing Heroku AppLink Service Mesh 0.2.2 (linux-amd64)\n" +
		"       Version 0.2.2 (newest pinned release)\n" +
		"       Downloading from " + f.srv.URL + "/heroku-applink-service-mesh-v0.2.2-amd64\n" +
		"       Downloaded " + output.Size(int64(len(mesh))) + " in 1.0s\n" +
		"       Verified sha256:" + sum(mesh) + " (pinned checksum)\n"
	if diff := cmp.Diff(want, f.out.String()); diff != "" {
		t.Errorf("transcript (-want +got):\n%s", diff)
	}
	require.Empty(t, f.err.String())
}

func TestInstallCache(t *testing.T) {
	f := newFixture(t)
	cache := &install.Cache{Dir: filepath.Join(t.TempDir(), "cache")}

	_, err := f.install(t, t.TempDir(), cache)
	require.NoError(t, err)
	require.EqualValues(t, 1, f.requests.Load())
	cached, err := os.ReadFile(filepath.Join(cache.Dir, "sha256", sum(mesh)))
	require.NoError(t, err)
	require.Equal(t, mesh, cached)

	t.Run("hit makes no request", func(t *testing.T) {
		before := f.requests.Load()
		res, err := f.install(t, t.TempDir(), cache)
		require.NoError(t, err)
		require.True(t, res.FromCache)
		require.Equal(t, before, f.requests.Load())
		require.Contains(t, f.out.String(), "Using cached copy ("+output.Size(int64(len(mesh)))+")")
		require.NotContains(t, f.out.String(), "Downloading")
	})

	t.Run("corrupt entry is discarded and downloaded again", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(cache.Dir, "sha256", sum(mesh)), []byte("tampered"), 0o644))
		before := f.requests.Load()
		res, err := f.install(t, t.TempDir(), cache)
		require.NoError(t, err)
		require.False(t, res.FromCache)
		require.Equal(t, before+1, f.requests.Load())
		require.Contains(t, f.out.String(), "Discarding cached copy: it no longer matches sha256:"+sum(mesh))
		cached, err := os.ReadFile(filepath.Join(cache.Dir, "sha256", sum(mesh)))
		require.NoError(t, err)
		require.Equal(t, mesh, cached, "the cache is repaired")
	})

	t.Run("unwritable cache only warns", func(t *testing.T) {
		// A file where the cache directory should be fails even for root,
		// who can write anywhere else.
		blocked := filepath.Join(t.TempDir(), "cache")
		require.NoError(t, os.WriteFile(blocked, nil, 0o644))
		res, err := f.install(t, t.TempDir(), &install.Cache{Dir: blocked})
		require.NoError(t, err)
		require.False(t, res.FromCache)
		require.Contains(t, f.err.String(), "The build cache could not be updated")
	})
}

func TestInstallFailureLeavesNothing(t *testing.T) {
	tests := []struct {
		name     string
		code     int32
		body     []byte
		wantErr  string
		wantHelp string
	}{
		{"404", 404, mesh, "server answered 404 Not Found", "Version 0.2.2 for amd64 was not found at mirror"},
		{"403", 403, mesh, "server answered 403 Forbidden", "was not found"},
		{"tampered", 200, []byte("#!/bin/sh\necho 'heroku-applink-service-mesh version v6.6.6'\n"), "checksum mismatch: expected sha256:" + sum(mesh), "does not match the checksum pinned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.code.Store(tt.code)
			f.body.Store(&tt.body)
			root := t.TempDir()
			bin := filepath.Join(root, "vendor/heroku-applink/bin")
			// A previous binary in the app's source must not survive a failed
			// install either: it would be unverified bytes on PATH.
			require.NoError(t, os.MkdirAll(bin, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(bin, "heroku-applink-service-mesh"), []byte("old"), 0o755))
			cache := &install.Cache{Dir: filepath.Join(t.TempDir(), "cache")}

			_, err := f.install(t, root, cache)
			require.ErrorContains(t, err, tt.wantErr)
			var derr *install.DownloadError
			require.ErrorAs(t, err, &derr)
			require.Contains(t, derr.Help(), tt.wantHelp)
			entries, rerr := os.ReadDir(bin)
			require.NoError(t, rerr)
			require.Empty(t, entries)
			_, serr := os.Stat(filepath.Join(cache.Dir, "sha256"))
			require.True(t, os.IsNotExist(serr), "the cache holds no unverified bytes")
		})
	}
}

func TestSafeMkdirAllRefusesSymlinks(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "vendor"), 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "vendor/heroku-applink")))

	f := newFixture(t)
	_, err := f.install(t, root, nil)
	var perr *install.PathError
	require.ErrorAs(t, err, &perr)
	require.ErrorContains(t, err, "it is a symlink")
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing is written through the link")
	require.EqualValues(t, 0, f.requests.Load(), "paths are checked before downloading")

	_, err = install.SafeMkdirAll(root, "../escape")
	require.ErrorContains(t, err, "refusing to write outside")
}

func TestCachePrune(t *testing.T) {
	dir := t.TempDir()
	keep := strings.Repeat("a", 64)
	drop := strings.Repeat("b", 64)
	for _, p := range []string{"sha256/" + keep, "sha256/" + drop, "sha256/.tmp-123", "old-layout/heroku-applink-service-mesh", "stray",
		"signed/heroku-applink-service-mesh-latest-amd64/artifact", "signed/heroku-applink-service-mesh-v0.1.0-amd64/artifact"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644))
	}
	removed, err := (&install.Cache{Dir: dir}).Prune(map[string]bool{keep: true}, map[string]bool{"heroku-applink-service-mesh-latest-amd64": true})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"old-layout", "stray", "sha256/" + drop, "sha256/.tmp-123", "signed/heroku-applink-service-mesh-v0.1.0-amd64"}, removed)
	entries, err := os.ReadDir(filepath.Join(dir, "sha256"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, keep, entries[0].Name())
}

func TestWriteFileAtomic(t *testing.T) {
	root := t.TempDir()
	p, err := install.WriteFile(root, ".profile.d", "x.sh", []byte("echo hi\n"), 0o644)
	require.NoError(t, err)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "echo hi\n", string(b))
	info, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), info.Mode().Perm())

	require.NoError(t, os.Symlink(t.TempDir(), filepath.Join(root, ".evil")))
	_, err = install.WriteFile(root, ".evil", "x.sh", nil, 0o644)
	require.ErrorContains(t, err, "symlink")
}
