package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

// meshScript is a release that is not the stand-in: a tampered or foreign
// file.
func meshScript(version string) []byte {
	return []byte("#!/bin/sh\necho \"heroku-applink-service-mesh version v" + version + " [os: linux, arch: amd64]\"\n")
}

type classicEnv struct {
	mirror *testhelpers.Mirror
	bp     *harness.Buildpack
	arts   map[string]testhelpers.Artifact
}

func newClassicEnv(t *testing.T, versions ...string) *classicEnv {
	t.Helper()
	e := &classicEnv{mirror: testhelpers.NewMirror(), arts: map[string]testhelpers.Artifact{}}
	t.Cleanup(e.mirror.Close)
	var arts []testhelpers.Artifact
	for _, v := range versions {
		a := mesh(v)
		e.mirror.Put(a.Object(), a.Data)
		e.arts[v] = a
		arts = append(arts, a)
	}
	bp, err := harness.NewBuildpack(repoRoot, filepath.Join(t.TempDir(), "buildpack"), binaries, testhelpers.Inventory("", arts...))
	require.NoError(t, err)
	e.bp = bp
	return e
}

func (e *classicEnv) app(t *testing.T, fixtureName string) *harness.App {
	t.Helper()
	app, err := harness.NewApp(e.bp, appSource(t, fixtureName), t.TempDir())
	require.NoError(t, err)
	require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", e.mirror.URL()))
	// An AppLink app has the add-on attached; tests that boot it point
	// these at the fake AppLink API.
	require.NoError(t, app.SetConfigs(addonPlaceholder))
	return app
}

// addonPlaceholder is the add-on's config vars pointing nowhere.
var addonPlaceholder = map[string]string{
	"HEROKU_APPLINK_API_URL": "https://applink.invalid/addons/00000000-0000-0000-0000-000000000000",
	"HEROKU_APPLINK_TOKEN":   "not-a-token",
}

var timings = regexp.MustCompile(`in (< )?\d+(\.\d+)?s`)

// normalize makes a build log comparable: the mirror's port, the build path
// and timings change from run to run.
func normalize(log, mirror, buildDir string) string {
	log = strings.ReplaceAll(log, mirror, "http://MIRROR")
	log = strings.ReplaceAll(log, buildDir, "/BUILD")
	return timings.ReplaceAllString(log, "in T")
}

func size(b []byte) string { return output.Size(int64(len(b))) }

func sha256Of(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func TestClassicFirstDeployAndRebuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newClassicEnv(t, "0.2.2", "0.3.0")
	app := e.app(t, "sample-app")
	require.NoError(t, app.Deploy(ctx))

	art := e.arts["0.3.0"]
	want := `-----> Heroku AppLink Service Mesh app detected
-----> Heroku AppLink Service Mesh buildpack v` + bpVersion(t) + `
-----> Installing Heroku AppLink Service Mesh 0.3.0 (linux-amd64)
       Version 0.3.0 (newest pinned release)
       Downloading from http://MIRROR/heroku-applink-service-mesh-v0.3.0-amd64
       Downloaded ` + size(art.Data) + ` in T
       Verified ` + art.Checksum() + ` (pinned checksum)
       Added vendor/heroku-applink/bin to PATH at runtime (.profile.d/heroku-applink-service-mesh.sh)
-----> Checking Procfile
       The web process starts the service mesh:
         web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp
-----> Done (finished in T)
`
	if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
		t.Errorf("build log (-want +got):\n%s", diff)
	}
	require.Equal(t, 1, e.mirror.Requests())
	require.Equal(t, "---\naddons: []\ndefault_process_types: {}\n", app.Release)

	bin := filepath.Join(app.Slug, "vendor/heroku-applink/bin")
	info, err := os.Stat(filepath.Join(bin, "heroku-applink-service-mesh"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), info.Mode().Perm())
	require.Equal(t, art.Checksum(), sha256Of(t, filepath.Join(bin, "heroku-applink-service-mesh")))
	link, err := os.Readlink(filepath.Join(bin, "heroku-applink-service-mesh-latest-"+runtime.GOARCH))
	require.NoError(t, err)
	require.Equal(t, "heroku-applink-service-mesh", link)

	// The slug now lives at another path than the one it was built at: the
	// dyno must find the mesh through $HOME, not through the build path.
	out, err := app.Run(ctx, "command -v heroku-applink-service-mesh && heroku-applink-service-mesh -v && heroku-applink-service-mesh-latest-amd64 -v", nil)
	require.NoError(t, err, out)
	require.Equal(t, bin+"/heroku-applink-service-mesh\n"+
		"heroku-applink-service-mesh version v0.3.0 [os: linux, arch: amd64]\n"+
		"heroku-applink-service-mesh version v0.3.0 [os: linux, arch: amd64]\n", out)
	profile, err := os.ReadFile(filepath.Join(app.Slug, ".profile.d/heroku-applink-service-mesh.sh"))
	require.NoError(t, err)
	require.NotContains(t, string(profile), app.BuildDir)

	t.Run("user PATH and config are kept at runtime", func(t *testing.T) {
		out, err := app.Run(ctx, `echo "$PATH"; echo "$HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"`, map[string]string{"PATH": "/this-should-be-preserved:/usr/bin:/bin"})
		require.NoError(t, err)
		require.Equal(t, "/this-should-be-preserved:/usr/bin:/bin:"+bin+"\n"+e.mirror.URL()+"\n", out)
	})

	t.Run("rebuild uses the cache with zero requests", func(t *testing.T) {
		require.NoError(t, app.Push(ctx))
		require.Equal(t, 1, e.mirror.Requests())
		require.Contains(t, app.Output(), "       Using the cached copy ("+size(art.Data)+")\n")
		require.NotContains(t, app.Output(), "Downloading")
		out, err := app.Run(ctx, "heroku-applink-service-mesh -v", nil)
		require.NoError(t, err)
		require.Equal(t, "heroku-applink-service-mesh version v0.3.0 [os: linux, arch: amd64]\n", out)
	})

	t.Run("pinning another version reinstalls it and prunes nothing pinned", func(t *testing.T) {
		require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "~0.2"))
		require.NoError(t, app.Push(ctx))
		require.Equal(t, 2, e.mirror.Requests())
		require.Contains(t, app.Output(), "       Version 0.2.2 (requested ~0.2)\n")
		out, err := app.Run(ctx, "heroku-applink-service-mesh -v", nil)
		require.NoError(t, err)
		require.Equal(t, "heroku-applink-service-mesh version v0.2.2 [os: linux, arch: amd64]\n", out)
		entries, err := os.ReadDir(filepath.Join(app.CacheDir(), "heroku-applink-service-mesh/sha256"))
		require.NoError(t, err)
		require.Len(t, entries, 2)
	})

	t.Run("entries no longer pinned are pruned", func(t *testing.T) {
		require.NoError(t, e.bp.SetInventory(testhelpers.Inventory("", e.arts["0.2.2"])))
		require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", ""))
		require.NoError(t, app.Push(ctx))
		entries, err := os.ReadDir(filepath.Join(app.CacheDir(), "heroku-applink-service-mesh/sha256"))
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.Equal(t, strings.TrimPrefix(e.arts["0.2.2"].Checksum(), "sha256:"), entries[0].Name())
	})
}

func TestClassicFailuresLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		config  map[string]string
		fault   func(e *classicEnv)
		wantLog []string
	}{
		{
			name:   "unknown version",
			config: map[string]string{"HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION": "~9.9"},
			wantLog: []string{
				` !     Error: no pinned release of the service mesh matches "~9.9" for linux-amd64`,
				" !     Pinned versions for linux-amd64: 0.2.2",
			},
		},
		{
			name: "404",
			fault: func(e *classicEnv) {
				e.mirror.Put(e.arts["0.2.2"].Object(), nil)
				e.mirror.Fault(e.arts["0.2.2"].Object(), notFound)
			},
			wantLog: []string{
				" !     Error: failed to download the service mesh 0.2.2 (linux-amd64) from http://MIRROR/heroku-applink-service-mesh-v0.2.2-amd64: server answered 404 Not Found",
				" !     heroku-applink-service-mesh-v0.2.2-amd64 was not found at http://MIRROR",
			},
		},
		{
			name:  "tampered artifact",
			fault: func(e *classicEnv) { e.mirror.Put(e.arts["0.2.2"].Object(), meshScript("6.6.6")) },
			wantLog: []string{
				"checksum mismatch: expected " + "sha256:",
				" !     The downloaded file does not match the checksum pinned in this buildpack.",
			},
		},
		{
			name:    "invalid mirror",
			config:  map[string]string{"HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL": "http://user:secret@mirror.example.com"},
			wantLog: []string{" !     Error: invalid HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL: http://xxxxx@mirror.example.com uses http to a host that is not loopback"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newClassicEnv(t, "0.2.2")
			app := e.app(t, "sample-app")
			for k, v := range tt.config {
				require.NoError(t, app.SetConfig(k, v))
			}
			if tt.fault != nil {
				tt.fault(e)
			}
			err := app.Deploy(context.Background())
			var deployErr *harness.DeployError
			require.ErrorAs(t, err, &deployErr)
			require.Equal(t, "compile", deployErr.Phase)
			log := normalize(app.Output(), e.mirror.URL(), app.BuildDir)
			for _, want := range tt.wantLog {
				require.Contains(t, log, want)
			}
			require.NotContains(t, log, "secret")

			entries, err := os.ReadDir(app.BuildDir)
			require.NoError(t, err)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			// No binary, temporary file, link or folder of the buildpack's is left.
			require.Equal(t, []string{"Procfile", "README", "bin"}, names)
			cached, _ := filepath.Glob(filepath.Join(app.CacheDir(), "heroku-applink-service-mesh/sha256/*"))
			require.Empty(t, cached, "the cache holds no unverified bytes")
		})
	}
}

func notFound(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }

func TestClassicProcfileAdvice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture string
		want    string
	}{
		{"port-flag", "       The web process starts the service mesh:\n         web: heroku-applink-service-mesh --port $PORT -- bin/webapp\n"},
		{"legacy-name", " !     Warning: Your Procfile's web process starts the mesh as\n !\n !       heroku-applink-service-mesh-latest-amd64\n"},
		{"not-wrapped", " !       web: APP_PORT=3000 heroku-applink-service-mesh npm start\n"},
		{"no-web", " !     Warning: Your Procfile has no web process."},
		{"no-procfile", " !     Warning: Your app has no Procfile."},
	}
	e := newClassicEnv(t, "0.2.2")
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			app := e.app(t, tt.fixture)
			require.NoError(t, app.Deploy(context.Background()), "Procfile advice never fails the build")
			require.Contains(t, app.Output(), tt.want)
		})
	}
	t.Run("the legacy name boots", func(t *testing.T) {
		app := e.app(t, "legacy-name")
		require.NoError(t, app.Deploy(context.Background()))
		out, err := app.Run(context.Background(), "heroku-applink-service-mesh-latest-amd64 -v", nil)
		require.NoError(t, err)
		require.Contains(t, out, "version v0.2.2")
	})
}

func TestClassicExportForLaterBuildpacks(t *testing.T) {
	t.Parallel()
	e := newClassicEnv(t, "0.2.2")
	later := filepath.Join(t.TempDir(), "later")
	require.NoError(t, os.MkdirAll(filepath.Join(later, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(later, "bin/compile"), []byte(`#!/bin/sh
echo "-----> Later buildpack"
echo "       found $(command -v heroku-applink-service-mesh)"
heroku-applink-service-mesh -v | sed 's/^/       /'
`), 0o755))
	app := e.app(t, "sample-app")
	app.After = []string{later}
	require.NoError(t, app.Deploy(context.Background()))
	require.Contains(t, app.Output(), "-----> Later buildpack\n       found "+app.BuildDir+"/vendor/heroku-applink/bin/heroku-applink-service-mesh\n       heroku-applink-service-mesh version v0.2.2")
}

func TestClassicNoColorAndColor(t *testing.T) {
	t.Parallel()
	e := newClassicEnv(t, "0.2.2")
	app := e.app(t, "not-wrapped")
	app.Env = map[string]string{"NO_COLOR": "1"}
	require.NoError(t, app.Deploy(context.Background()))
	require.NotContains(t, app.RawOutput, "\x1b[", "NO_COLOR turns every escape code off")
	require.Contains(t, app.RawOutput, " !     Warning: Your Procfile's web process does not start the service mesh")

	app = e.app(t, "sample-app")
	require.NoError(t, app.Deploy(context.Background()))
	require.Contains(t, app.RawOutput, "\x1b[1m-----> Installing", "colour is on by default, as on Heroku")
	for _, line := range strings.Split(strings.TrimSpace(app.RawOutput), "\n") {
		if strings.Contains(line, "\x1b[") {
			require.True(t, strings.HasSuffix(line, "\x1b[0m"), "every coloured line ends with a reset: %q", line)
		}
	}
}

func gitCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "checkout")
	require.NoError(t, harness.CopyCheckout(repoRoot, dir))
	return dir
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestShimWithoutBinaryOrSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bp, err := harness.NewBuildpack(repoRoot, dir, nil, testhelpers.Inventory(""))
	require.NoError(t, err)
	out, err := exec.Command("env", "-i", "PATH=/usr/bin:/bin", filepath.Join(bp.Dir, "bin/compile"), t.TempDir(), t.TempDir(), t.TempDir()).CombinedOutput()
	require.Error(t, err)
	require.Equal(t, "\n !     Error: no prebuilt buildpack binary for linux/"+runtime.GOARCH+" at "+
		must(filepath.EvalSymlinks(dir))+"/lib/linux-"+runtime.GOARCH+"/heroku-applink-buildpack. Install the buildpack from the buildpack registry (heroku/heroku-applink-service-mesh) "+
		"or a release tag (https://github.com/heroku/heroku-buildpack-heroku-applink-service-mesh#vX.Y.Z), which carry binaries for amd64 and arm64.\n\n", string(out))
}
