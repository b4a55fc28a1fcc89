package advice_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/advice"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

const meshName = "heroku-applink-service-mesh"

// input is a build of 0.3.0 on amd64 of the app in dir, with the config
// vars in env ("" for none).
func input(dir, env string) advice.Input {
	return advice.Input{AppDir: dir, Names: []string{meshName, meshName + "-latest-amd64", meshName + "-v0.3.0-amd64"},
		Version: "0.3.0", Arch: "amd64", EnvDir: env}
}

// files writes files into a new folder and returns it.
func files(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// env is a config var folder with these names, each with a value.
func env(t *testing.T, names ...string) string {
	t.Helper()
	vars := map[string]string{}
	for _, n := range names {
		vars[n] = "a value the build never reads"
	}
	return files(t, vars)
}

func check(in advice.Input) (kinds []string, out, errOut string) {
	var o, e bytes.Buffer
	kinds = advice.Check(output.New(&o, &e, output.Classic, false), in)
	return kinds, o.String(), e.String()
}

// TestChecksInOrder: the three checks run in order, each told what the
// others found: the Procfile's APP_PORT reaches the mesh config check, and
// the config var names reach the Procfile and add-on checks.
func TestChecksInOrder(t *testing.T) {
	dir := files(t, map[string]string{
		"Procfile":                         "web: APP_PORT=3000 heroku-applink-service-mesh npm start\n",
		"heroku-applink-service-mesh.yaml": "app:\n  port: 8080\n",
	})
	kinds, out, errOut := check(input(dir, env(t, "HEROKU_APPLINK_API_URL")))
	wantOut := "-----> Checking Procfile\n" +
		"       The web process starts the service mesh:\n" +
		"         web: APP_PORT=3000 heroku-applink-service-mesh npm start\n" +
		"-----> Checking heroku-applink-service-mesh.yaml\n" +
		"       Routes that skip AppLink authentication:\n" +
		"         /healthcheck (the health check)\n" +
		"       Every other route answers 401 unless the request comes from Salesforce\n" +
		"       through AppLink.\n" +
		"-----> Checking the AppLink add-on\n"
	if diff := cmp.Diff(wantOut, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	require.Contains(t, errOut, "app.port is 8080, but the Procfile sets APP_PORT=3000 for the mesh, which wins:")
	require.Contains(t, errOut, "The app has HEROKU_APPLINK_API_URL but not HEROKU_APPLINK_TOKEN.")
	require.Equal(t, []string{"mesh-config-app-port-overridden", "addon-partial"}, kinds)
}

// TestUnknownConfig: a build that cannot see the app's config says nothing
// about the add-on, and does not guess at APP_PORT.
func TestUnknownConfig(t *testing.T) {
	dir := files(t, map[string]string{"Procfile": "web: heroku-applink-service-mesh -- app --port $APP_PORT\n"})
	for name, in := range map[string]advice.Input{
		"no folder":                  input(dir, ""),
		"a folder that is not there": input(dir, filepath.Join(t.TempDir(), "env")),
		"CNB, an empty folder":       func() advice.Input { in := input(dir, t.TempDir()); in.Image = true; return in }(),
	} {
		t.Run(name, func(t *testing.T) {
			kinds, out, errOut := check(in)
			require.Empty(t, kinds)
			require.Empty(t, errOut)
			require.NotContains(t, out, "add-on")
		})
	}
}

// TestConfigWhereTheMeshStarts: "cd server && … mesh …" makes the mesh read
// server/heroku-applink-service-mesh.yaml: that is the file checked, and its
// app.port the one the Procfile advice gives the app.
func TestConfigWhereTheMeshStarts(t *testing.T) {
	dir := files(t, map[string]string{
		"Procfile": "web: cd server && heroku-applink-service-mesh node app.js --port $PORT\n",
		"server/heroku-applink-service-mesh.yaml": "app:\n  port: 8080\n",
	})
	kinds, out, errOut := check(input(dir, ""))
	require.Contains(t, out, "-----> Checking server/heroku-applink-service-mesh.yaml\n")
	require.Contains(t, errOut, "  web: cd server && heroku-applink-service-mesh node app.js --port 8080\n")
	require.NotContains(t, errOut, "Move it there")
	require.Equal(t, []string{"procfile-app-uses-port"}, kinds)
}

// TestConfigWhereTheBuildCannotLook: a cd the build cannot follow, or into
// a folder a later buildpack makes, leaves the config file unchecked, and
// the root's app.port is not taken for the mesh's.
func TestConfigWhereTheBuildCannotLook(t *testing.T) {
	for _, web := range []string{"cd $APP_DIR && heroku-applink-service-mesh node app.js --port $PORT", "cd dist && heroku-applink-service-mesh node app.js --port $PORT"} {
		t.Run(web, func(t *testing.T) {
			dir := files(t, map[string]string{"Procfile": "web: " + web + "\n", "heroku-applink-service-mesh.yaml": "app:\n  port: 8080\n"})
			_, out, errOut := check(input(dir, ""))
			require.Contains(t, errOut, "--port 3000", "the mesh's default, not the root file's app.port")
			require.NotContains(t, errOut, "8080")
			require.Regexp(t, "was not checked|none was checked", errOut)
			require.NotContains(t, out, "Routes that skip")
		})
	}
}

func TestAddon(t *testing.T) {
	tests := []struct {
		name    string
		names   []string
		image   bool
		wantErr string
		kinds   []string
	}{
		{name: "attached: nothing said", names: []string{"DATABASE_URL", "HEROKU_APPLINK_API_URL", "HEROKU_APPLINK_TOKEN"}},
		{
			name: "missing", names: []string{"DATABASE_URL"}, kinds: []string{"addon-missing"},
			wantErr: "\n" +
				" !     Warning: The AppLink add-on is not attached: the app has neither\n" +
				" !     HEROKU_APPLINK_API_URL nor HEROKU_APPLINK_TOKEN, and the service mesh exits at boot\n" +
				" !     without them (\"Heroku AppLink add-on config vars not set\"). Attach it:\n" +
				" !\n" +
				" !       heroku addons:create heroku-applink\n" +
				"\n",
		},
		{
			name: "missing, building an image", names: []string{"DATABASE_URL"}, image: true, kinds: []string{"addon-missing"},
			wantErr: "\n" +
				" !     Warning: The AppLink add-on is not attached: the app has neither\n" +
				" !     HEROKU_APPLINK_API_URL nor HEROKU_APPLINK_TOKEN, and the service mesh exits at boot\n" +
				" !     without them (\"Heroku AppLink add-on config vars not set\"). Attach it:\n" +
				" !\n" +
				" !       heroku addons:create heroku-applink\n" +
				" !\n" +
				" !     When you run the image yourself, set both in its environment instead.\n" +
				"\n",
		},
		{
			name: "another name", names: []string{"SFDC_API_URL", "SFDC_TOKEN", "STRIPE_API_URL"}, kinds: []string{"addon-other-name"},
			wantErr: "\n" +
				" !     Warning: The app has neither HEROKU_APPLINK_API_URL nor HEROKU_APPLINK_TOKEN, which the\n" +
				" !     service mesh reads: it exits at boot without them (\"Heroku AppLink add-on config vars not set\").\n" +
				" !     These may be the AppLink add-on attached under another name, or another\n" +
				" !     add-on's or your own config vars (the build reads names only):\n" +
				" !\n" +
				" !       SFDC_API_URL and SFDC_TOKEN\n" +
				" !\n" +
				" !     If one is the AppLink add-on, attach it as HEROKU_APPLINK too:\n" +
				" !\n" +
				" !       heroku addons:attach <add-on name> --as HEROKU_APPLINK\n" +
				" !\n" +
				" !     If none is, the add-on is not attached. Attach it:\n" +
				" !\n" +
				" !       heroku addons:create heroku-applink\n" +
				"\n",
		},
		{name: "a second attachment only", names: []string{"HEROKU_APPLINK_COBALT_API_URL", "HEROKU_APPLINK_COBALT_TOKEN"}, kinds: []string{"addon-other-name"}},
		{name: "a name alone is no pair", names: []string{"_API_URL", "_TOKEN", "X_API_URL"}, kinds: []string{"addon-missing"}},
		{name: "nothing", kinds: []string{"addon-missing"}},
		{
			name: "partial", names: []string{"HEROKU_APPLINK_API_URL"}, kinds: []string{"addon-partial"},
			wantErr: "\n" +
				" !     Warning: The app has HEROKU_APPLINK_API_URL but not HEROKU_APPLINK_TOKEN. The service mesh\n" +
				" !     needs both: it exits at boot without them (\"Heroku AppLink add-on config vars not set\").\n" +
				" !     Restore the missing config var, or attach the add-on again.\n" +
				"\n",
		},
		{name: "partial, the token", names: []string{"HEROKU_APPLINK_TOKEN"}, kinds: []string{"addon-partial"}},
	}
	app := files(t, map[string]string{"Procfile": "web: APP_PORT=3000 heroku-applink-service-mesh npm start\n"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(app, env(t, tt.names...))
			if tt.image {
				in.Image = true
			}
			kinds, out, errOut := check(in)
			require.Equal(t, tt.kinds, kinds)
			if tt.kinds == nil {
				require.NotContains(t, out, "add-on")
			}
			if tt.wantErr != "" {
				if diff := cmp.Diff(tt.wantErr, errOut); diff != "" {
					t.Errorf("stderr (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestEveryConfigVarName: the add-on's names are found however many others
// come first, and a folder the build cannot list says so, never that the
// add-on is missing.
func TestEveryConfigVarName(t *testing.T) {
	app := files(t, map[string]string{"Procfile": "web: APP_PORT=3000 heroku-applink-service-mesh npm start\n"})
	dir := t.TempDir()
	for i := range 20_000 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("VAR_%05d", i)), nil, 0o600))
	}
	for _, n := range []string{"HEROKU_APPLINK_API_URL", "HEROKU_APPLINK_TOKEN"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o600))
	}
	kinds, out, errOut := check(input(app, dir))
	require.Empty(t, kinds)
	require.Empty(t, errOut)
	require.NotContains(t, out, "add-on")

	notADir := filepath.Join(t.TempDir(), "env")
	require.NoError(t, os.WriteFile(notADir, nil, 0o600))
	kinds, out, errOut = check(input(app, notADir))
	require.Equal(t, []string{"addon-not-checked"}, kinds)
	require.Empty(t, errOut)
	require.Contains(t, out, "-----> Checking the AppLink add-on\n"+
		"       The app's config vars could not be listed (not a directory), so the build\n"+
		"       cannot tell whether the AppLink add-on is attached.\n")
}

// TestAppTextReachesTheLogEscaped: text from the app (the Procfile, routes,
// keys, folder names) reaches the log only through the printer, which
// shows an escape sequence instead of sending it to the terminal: a decoy
// route cannot erase another from the listing.
func TestAppTextReachesTheLogEscaped(t *testing.T) {
	for name, app := range map[string]map[string]string{
		"the Procfile and a route": {
			"Procfile":                         "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp --title \x1b[1A\x1b[2K\n",
			"heroku-applink-service-mesh.yaml": "mesh:\n  authentication:\n    bypassRoutes: [\"/admin/*\", \"\\e[1A\\e[2K/decoy\"]\n",
		},
		"a key": {
			"Procfile":                         "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n",
			"heroku-applink-service-mesh.yaml": "\"\\e[1A\\e[2Kapp\": {}\n",
		},
		"a folder's name": {
			"Procfile": "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n",
			"conf\x1b[1A\x1b[2K/heroku-applink-service-mesh.yaml": "app: {}\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, out, errOut := check(input(files(t, app), ""))
			require.NotContains(t, out+errOut, "\x1b")
			require.Contains(t, out+errOut, `\x1b[1A\x1b[2K`)
		})
	}
}

// TestHostileInputsCostLittle: files near the 64 KiB cap, shaped to make
// the checks' work grow with the square of their size (a decoder comparing
// every key with every other, a command list copied at each command), cost
// work in proportion to their size: allocations are counted, not timed, so
// the bound holds on any machine. The square costs gigabytes.
func TestHostileInputsCostLittle(t *testing.T) {
	const start = "web: APP_PORT=3000 " + meshName + " npm start\n"
	tests := []struct {
		name, procfile, config, want string
	}{
		{"a mesh config of one key repeated", start, strings.Repeat("k: 1\n", 6000), "the file holds over 200 keys or 100000 values once its aliases are expanded"},
		{"a mesh config of one table repeated", start, strings.Repeat("app: {}\n", 8000), "the file holds over 200 keys or 100000 values once its aliases are expanded"},
		{"a mesh config of one table used through an alias over and over", start,
			"x: &a {" + strings.Repeat("k: 1, ", 190) + "}\nmesh:\n  authentication:\n    bypassRoutes: [" + strings.Repeat("*a,", 15000) + "*a]\n",
			"the file holds over 200 keys or 100000 values once its aliases are expanded"},
		{"a mesh config of aliases of aliases", start, "a: &a [x, x]\n" + func() string {
			var b strings.Builder
			for i := 1; i < 40; i++ {
				fmt.Fprintf(&b, "l%d: &l%d [*l%d, *l%d]\n", i, i, i-1, i-1)
			}
			return strings.ReplaceAll(b.String(), "*l0", "*a")
		}(), "the file holds over 200 keys or 100000 values once its aliases are expanded"},
		{"a mesh config of one long route used through an alias over and over", start,
			"mesh:\n  authentication:\n    bypassRoutes: [&a /" + strings.Repeat("r", 32000) + "," + strings.Repeat("*a,", 10900) + "*a]\n",
			"Routes that skip AppLink authentication"},
		{"a Procfile line of many commands", "web: " + strings.Repeat("a;", 31000) + meshName + " x\n", "", "The web process starts the service mesh"},
		{"a Procfile line of many background jobs", "web: " + strings.Repeat("a&", 21000) + meshName + " x\n", "", "The web process starts the service mesh"},
		{"a Procfile line of many assignments", "web: " + strings.Repeat("A=1;", 16000) + meshName + " x\n", "", "The web process starts the service mesh"},
		{"a Procfile line of many subshells", "web: " + strings.Repeat("(a);", 16000) + meshName + " x\n", "", "The web process starts the service mesh"},
		{"a Procfile line of many edits", "web: nohup" + strings.Repeat(" A=", 21000) + " " + meshName + " app\n", "", "Checking Procfile"},
		{"a Procfile line of many ports", "web: " + meshName + " app" + strings.Repeat(" :1", 21000) + "\n", "", "Checking Procfile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := map[string]string{"Procfile": tt.procfile}
			if tt.config != "" {
				app[meshName+".yaml"] = tt.config
			}
			dir := files(t, app)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, out, errOut := check(input(dir, ""))
			runtime.ReadMemStats(&after)
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(256<<20), "bytes allocated")
			require.True(t, strings.Contains(out+errOut, tt.want), "the log says %q", tt.want) // not the whole log: it is long
		})
	}
}
