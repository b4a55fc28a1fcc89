package classic_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/classic"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

func TestDetectAndRelease(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, classic.Detect(&b))
	require.Equal(t, "Heroku AppLink Service Mesh\n", b.String())
	b.Reset()
	require.NoError(t, classic.Release(&b))
	require.Equal(t, "---\naddons: []\ndefault_process_types: {}\n", b.String())
}

// TestProfileScript sources the script the way a dyno does: bash, HOME at
// the unpacked slug, config vars already set.
func TestProfileScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	require.NoError(t, err)
	home := t.TempDir()
	script := filepath.Join(t.TempDir(), "p.sh")
	require.NoError(t, os.WriteFile(script, []byte(classic.ProfileScript()), 0o644))
	tests := []struct {
		name, path, want string
	}{
		{"appends", "/usr/bin:/bin", "/usr/bin:/bin:" + home + "/vendor/heroku-applink/bin"},
		{"empty PATH", "", home + "/vendor/heroku-applink/bin"},
		{"already present", home + "/vendor/heroku-applink/bin:/bin", home + "/vendor/heroku-applink/bin:/bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bash, "-c", `. "$1"; . "$1"; printf %s "$PATH"`, "bash", script)
			cmd.Env = []string{"HOME=" + home, "PATH=" + tt.path}
			got, err := cmd.Output()
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
	require.NotContains(t, classic.ProfileScript(), "/tmp", "the script never holds a build path")
}

const mesh = "#!/bin/sh\necho 'heroku-applink-service-mesh version v0.2.2'\n"

func setup(t *testing.T) (classic.Dirs, *classic.Compiler, *bytes.Buffer, *bytes.Buffer, *atomic.Int32) {
	t.Helper()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(mesh))
	}))
	t.Cleanup(srv.Close)
	sum := sha256.Sum256([]byte(mesh))
	d := classic.Dirs{Build: t.TempDir(), Cache: t.TempDir(), Env: t.TempDir(), Buildpack: t.TempDir()}
	require.NoError(t, os.WriteFile(filepath.Join(d.Buildpack, "buildpack.toml"), []byte(`api = "0.10"
[[metadata.artifacts]]
version = "0.2.2"
os = "linux"
arch = "amd64"
url = "https://heroku-applink-service-mesh-binaries.s3.dualstack.us-east-1.amazonaws.com/heroku-applink-service-mesh-v0.2.2-amd64"
checksum = "sha256:`+hex.EncodeToString(sum[:])+`"
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(d.Env, config.VarMirror), []byte(srv.URL), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(d.Build, "Procfile"), []byte("web: APP_PORT=3000 heroku-applink-service-mesh npm start\n"), 0o644))
	var out, errOut bytes.Buffer
	p := output.New(&out, &errOut, output.Classic, false)
	client := fetch.New("test")
	client.Backoff = func(int) time.Duration { return 0 }
	now := func() time.Time { return time.Unix(0, 0) }
	c := &classic.Compiler{Installer: &install.Installer{Fetcher: client, Out: p, Now: now}, Out: p, Arch: "amd64", Now: now, Version: "1.2.3"}
	return d, c, &out, &errOut, &requests
}

func TestCompile(t *testing.T) {
	d, c, out, errOut, requests := setup(t)
	require.NoError(t, c.Compile(context.Background(), d))
	require.EqualValues(t, 1, requests.Load())

	profile, err := os.ReadFile(filepath.Join(d.Build, ".profile.d/heroku-applink-service-mesh.sh"))
	require.NoError(t, err)
	require.Equal(t, classic.ProfileScript(), string(profile))

	export, err := os.ReadFile(filepath.Join(d.Buildpack, "export"))
	require.NoError(t, err)
	require.Equal(t, "export PATH='"+d.Build+"/vendor/heroku-applink/bin'\"${PATH:+:${PATH}}\"\n", string(export))

	lines := strings.Split(out.String(), "\n")
	require.Equal(t, "-----> Heroku AppLink Service Mesh buildpack v1.2.3", lines[0])
	require.Equal(t, "       Added vendor/heroku-applink/bin to PATH at runtime (.profile.d/heroku-applink-service-mesh.sh)", lines[6])
	require.Equal(t, "-----> Done (finished in < 0.1s)", lines[len(lines)-2])
	require.Empty(t, errOut.String())

	t.Run("rebuild uses the cache", func(t *testing.T) {
		d2 := d
		d2.Build = t.TempDir()
		out.Reset()
		require.NoError(t, c.Compile(context.Background(), d2))
		require.EqualValues(t, 1, requests.Load())
		require.Contains(t, out.String(), "Using cached copy")
	})
}

func TestCompileFailureRemovesTheBinary(t *testing.T) {
	d, c, _, _, _ := setup(t)
	// .profile.d is a file in the app's source, so the PATH script cannot be
	// written after the binary was installed.
	require.NoError(t, os.WriteFile(filepath.Join(d.Build, ".profile.d"), nil, 0o644))
	err := c.Compile(context.Background(), d)
	require.ErrorContains(t, err, "failed to write the runtime PATH script")
	entries, rerr := os.ReadDir(filepath.Join(d.Build, "vendor/heroku-applink/bin"))
	require.NoError(t, rerr)
	require.Empty(t, entries)
}

func TestCompileBadConfigTouchesNothing(t *testing.T) {
	d, c, _, _, requests := setup(t)
	require.NoError(t, os.WriteFile(filepath.Join(d.Env, config.VarVersion), []byte("~9.9"), 0o644))
	err := c.Compile(context.Background(), d)
	require.ErrorContains(t, err, `no pinned release of the service mesh matches "~9.9"`)
	require.EqualValues(t, 0, requests.Load())
	for _, dir := range []string{d.Build, d.Cache} {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		want := []string{}
		if dir == d.Build {
			want = []string{"Procfile"}
		}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("%s changed (-want +got):\n%s", dir, diff)
		}
	}
}
