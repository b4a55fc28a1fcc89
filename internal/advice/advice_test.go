package advice_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/advice"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// TestChecksInOrder: the three checks run in order, each told what the
// others found: the Procfile's APP_PORT reaches the mesh config check, and
// the config var names reach the Procfile and add-on checks.
func TestChecksInOrder(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Procfile"), []byte("web: APP_PORT=3000 heroku-applink-service-mesh npm start\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "heroku-applink-service-mesh.yaml"), []byte("app:\n  port: 8080\n"), 0o644))
	var out, errOut bytes.Buffer
	kinds := advice.Check(output.New(&out, &errOut, output.Classic, false), advice.Input{
		AppDir:  dir,
		Names:   []string{"heroku-applink-service-mesh", "heroku-applink-service-mesh-latest-amd64"},
		Version: "0.3.0",
		Arch:    "amd64",
		EnvDir:  envWith(t, "HEROKU_APPLINK_API_URL"),
	})
	wantOut := "-----> Checking Procfile\n" +
		"       The web process starts the service mesh:\n" +
		"         web: APP_PORT=3000 heroku-applink-service-mesh npm start\n" +
		"-----> Checking heroku-applink-service-mesh.yaml\n" +
		"       Routes that skip AppLink authentication:\n" +
		"         /healthcheck (the health check)\n" +
		"       Every other route answers 401 unless the request comes from Salesforce\n" +
		"       through AppLink.\n" +
		"-----> Checking the AppLink add-on\n"
	if diff := cmp.Diff(wantOut, out.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	require.Contains(t, errOut.String(), "app.port is 8080, but the Procfile sets APP_PORT=3000 for the mesh, which wins:")
	require.Contains(t, errOut.String(), "The app has HEROKU_APPLINK_API_URL but not HEROKU_APPLINK_TOKEN.")
	require.Equal(t, []string{"mesh-config-app-port-overridden", "addon-partial"}, kinds)
}

// TestUnknownConfig: a build that cannot see the app's config says nothing
// about the add-on, and does not guess at APP_PORT.
func TestUnknownConfig(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Procfile"), []byte("web: heroku-applink-service-mesh -- app --port $APP_PORT\n"), 0o644))
	var out, errOut bytes.Buffer
	kinds := advice.Check(output.New(&out, &errOut, output.Classic, false), advice.Input{AppDir: dir, Names: []string{"heroku-applink-service-mesh"}, Version: "0.3.0", Arch: "amd64"})
	require.Empty(t, kinds)
	require.Empty(t, errOut.String())
	require.NotContains(t, out.String(), "add-on")
}

// TestConfigWhereTheMeshStarts: "cd server && … mesh …" makes the mesh read
// server/heroku-applink-service-mesh.yaml: that is the file checked, and its
// app.port the one the Procfile advice gives the app.
func TestConfigWhereTheMeshStarts(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "server"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Procfile"), []byte("web: cd server && heroku-applink-service-mesh node app.js --port $PORT\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "server/heroku-applink-service-mesh.yaml"), []byte("app:\n  port: 8080\n"), 0o644))
	var out, errOut bytes.Buffer
	kinds := advice.Check(output.New(&out, &errOut, output.Classic, false), advice.Input{
		AppDir: dir,
		Names:  []string{"heroku-applink-service-mesh"}, Version: "0.3.0", Arch: "amd64",
	})
	require.Contains(t, out.String(), "-----> Checking server/heroku-applink-service-mesh.yaml\n")
	require.Contains(t, errOut.String(), "  web: cd server && heroku-applink-service-mesh node app.js --port 8080\n")
	require.NotContains(t, errOut.String(), "Move it there")
	require.Equal(t, []string{"procfile-app-uses-port"}, kinds)
}

// TestConfigWhereTheBuildCannotLook: a cd the build cannot follow, or into
// a folder a later buildpack makes, leaves the config file unchecked, and
// the root's app.port is not taken for the mesh's.
func TestConfigWhereTheBuildCannotLook(t *testing.T) {
	for _, web := range []string{"cd $APP_DIR && heroku-applink-service-mesh node app.js --port $PORT", "cd dist && heroku-applink-service-mesh node app.js --port $PORT"} {
		t.Run(web, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "Procfile"), []byte("web: "+web+"\n"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "heroku-applink-service-mesh.yaml"), []byte("app:\n  port: 8080\n"), 0o644))
			var out, errOut bytes.Buffer
			advice.Check(output.New(&out, &errOut, output.Classic, false), advice.Input{AppDir: dir, Names: []string{"heroku-applink-service-mesh"}, Version: "0.3.0", Arch: "amd64"})
			require.Contains(t, errOut.String(), "--port 3000", "the mesh's default, not the root file's app.port")
			require.NotContains(t, errOut.String(), "8080")
			require.Regexp(t, "was not checked|none was checked", errOut.String())
			require.NotContains(t, out.String(), "Routes that skip")
		})
	}
}

func envWith(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600))
	}
	return dir
}
