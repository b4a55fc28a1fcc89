package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

// appWith is the sample app with files added or replaced.
func (e *classicEnv) appWith(t *testing.T, files map[string]string) *harness.App {
	t.Helper()
	src := appSource(t, "sample-app")
	for name, content := range files {
		p := filepath.Join(src, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755 // a script the Procfile runs
		}
		require.NoError(t, os.WriteFile(p, []byte(content), mode))
	}
	app, err := harness.NewApp(e.bp, src, t.TempDir())
	require.NoError(t, err)
	require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", e.mirror.URL()))
	require.NoError(t, app.SetConfigs(addonPlaceholder))
	return app
}

// installLog is a first build's log up to its advice.
func (e *classicEnv) installLog(t *testing.T, version string) string {
	art := e.arts[version]
	return `-----> Heroku AppLink Service Mesh app detected
-----> Heroku AppLink Service Mesh buildpack v` + bpVersion(t) + `
-----> Installing Heroku AppLink Service Mesh ` + version + ` (linux-amd64)
       Version ` + version + ` (newest pinned release)
       Downloading from http://MIRROR/heroku-applink-service-mesh-v` + version + `-amd64
       Downloaded ` + size(art.Data) + ` in T
       Verified ` + art.Checksum() + ` (pinned checksum)
       Added vendor/heroku-applink/bin to PATH at runtime (.profile.d/heroku-applink-service-mesh.sh)
`
}

// okProcfile is the advice for a web process that is right.
func okProcfile(web string) string {
	return "-----> Checking Procfile\n       The web process starts the service mesh:\n         web: " + web + "\n"
}

func warning(text string) string {
	var b strings.Builder
	b.WriteString("\n")
	for i, line := range strings.Split(text, "\n") {
		switch {
		case i == 0:
			b.WriteString(" !     Warning: " + line + "\n")
		case line == "":
			b.WriteString(" !\n")
		default:
			b.WriteString(" !     " + line + "\n")
		}
	}
	return b.String() + "\n"
}

const done = "-----> Done (finished in T)\n"

// TestClassicProcfileForms runs every Procfile form the build advises on
// through the real bin/compile, asserting the whole build log; then writes
// the line it suggests back as the Procfile, which builds with no advice
// and boots through the stand-in mesh, serving AppLink requests.
func TestClassicProcfileForms(t *testing.T) {
	t.Parallel()
	api := newAppLink(t)
	e := newClassicEnv(t, "0.2.2")
	arch := runtime.GOARCH
	tests := []struct {
		name     string
		procfile string
		advice   string
		// fixed is the Procfile the advice leads to.
		fixed string
	}{
		{
			name:     "not wrapped, binding $PORT",
			procfile: "web: bin/webapp --bind 127.0.0.1:$PORT\n",
			advice: "-----> Checking Procfile\n" + warning("Your Procfile's web process does not start the service mesh, so\n"+
				"requests from Salesforce will not reach your app:\n\n  web: bin/webapp --bind 127.0.0.1:$PORT\n\n"+
				"Start it through the mesh instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp --bind 127.0.0.1:3000\n\n"+
				"The mesh listens on $PORT and forwards to your app on APP_PORT: the app must\nlisten on 3000."),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp --bind 127.0.0.1:3000\n",
		},
		{
			name:     "wrapped, the app on ${PORT:-5000}",
			procfile: "web: APP_PORT=4000 heroku-applink-service-mesh bin/webapp --port ${PORT:-5000}\n",
			advice: okProcfile("APP_PORT=4000 heroku-applink-service-mesh bin/webapp --port ${PORT:-5000}") +
				warning("Your app's command refers to $PORT, but the mesh listens on $PORT. The app\n"+
					"must listen on the port the mesh forwards to, APP_PORT (4000 here), or\nthe two collide and requests fail.\n\n"+
					"Use this line instead:\n\n  web: APP_PORT=4000 heroku-applink-service-mesh bin/webapp --port 4000"),
			fixed: "web: APP_PORT=4000 heroku-applink-service-mesh bin/webapp --port 4000\n",
		},
		{
			name:     "the $APP_PORT expansion trap",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port $APP_PORT\n",
			advice: okProcfile("APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port $APP_PORT") +
				warning("Your app's command refers to $APP_PORT, but APP_PORT is set only for the\n"+
					"mesh's command: the shell expands $APP_PORT before that assignment takes\n"+
					"effect, so the app gets no port (or the config var's). Give the app the\nport itself.\n\n"+
					"Use this line instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port 3000"),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port 3000\n",
		},
		{
			name:     "$APP_PORT that nothing sets",
			procfile: "web: heroku-applink-service-mesh --port $PORT -- bin/webapp --port $APP_PORT\n",
			advice: okProcfile("heroku-applink-service-mesh --port $PORT -- bin/webapp --port $APP_PORT") +
				warning("Your app's command refers to $APP_PORT, but no config var or assignment\n"+
					"sets APP_PORT, so it expands to nothing. The mesh forwards to 3000.\n\n"+
					"Use this line instead:\n\n  web: heroku-applink-service-mesh --port $PORT -- bin/webapp --port 3000"),
			fixed: "web: heroku-applink-service-mesh --port $PORT -- bin/webapp --port 3000\n",
		},
		{
			name:     "a quoted command",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh \"bin/webapp --port 3000\"\n",
			advice: okProcfile(`APP_PORT=3000 heroku-applink-service-mesh "bin/webapp --port 3000"`) +
				warning("The command after the mesh is one quoted string. The mesh runs it\n"+
					"without a shell, as a single program name, so it will not start.\n\n"+
					"Use this line instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port 3000"),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port 3000\n",
		},
		{
			name:     "several commands, not wrapped",
			procfile: "web: true && bin/webapp --port $PORT\n",
			advice: "-----> Checking Procfile\n" + warning("Your Procfile's web process does not start the service mesh, so\n"+
				"requests from Salesforce will not reach your app:\n\n  web: true && bin/webapp --port $PORT\n\n"+
				"Start it through the mesh instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'true && bin/webapp --port 3000'\n\n"+
				"The mesh listens on $PORT and forwards to your app on APP_PORT: the app must\nlisten on 3000."),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'true && bin/webapp --port 3000'\n",
		},
		{
			name:     "commands after the app's",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh true && bin/webapp\n",
			advice: okProcfile("APP_PORT=3000 heroku-applink-service-mesh true && bin/webapp") +
				warning("More commands follow your app's on this line (after &&, || or ;). The mesh\n"+
					"starts only the first; the others run after it exits. Run them under one shell.\n\n"+
					"Use this line instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'true && bin/webapp'"),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'true && bin/webapp'\n",
		},
		{
			name:     "PORT given to the mesh",
			procfile: "web: PORT=3000 heroku-applink-service-mesh bin/webapp\n",
			advice: okProcfile("PORT=3000 heroku-applink-service-mesh bin/webapp") +
				warning("The mesh is given a port of its own (PORT=… or --port …), but it must listen\n"+
					"on $PORT, where Heroku's router sends requests. Leave $PORT to the mesh and\n"+
					"give your app another port.\n\n"+
					"Use this line instead:\n\n  web: heroku-applink-service-mesh env PORT=3000 bin/webapp"),
			fixed: "web: heroku-applink-service-mesh env PORT=3000 bin/webapp\n",
		},
		{
			name:     "APP_PORT is $PORT",
			procfile: "web: APP_PORT=$PORT heroku-applink-service-mesh bin/webapp\n",
			advice: okProcfile("APP_PORT=$PORT heroku-applink-service-mesh bin/webapp") +
				warning("APP_PORT is set to $PORT, the port the mesh itself listens on: the mesh\n"+
					"forwards every request to itself, and an app on APP_PORT collides with it.\n"+
					"Give APP_PORT a port of its own.\n\n"+
					"Use this line instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp"),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n",
		},
		{
			name:     "an assignment after exec, and the app on another port",
			procfile: "web: exec APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port 4000 &\n",
			advice: okProcfile("exec APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port 4000 &") +
				warning("An assignment comes after exec, nice or a similar command, which runs it\n"+
					"as a program's name: the web process fails with \"not found\". Only env takes\n"+
					"assignments there; put them first.\n\n"+
					"The line ends in &, which runs it in the background: the web process's\n"+
					"shell exits at once, and Heroku restarts the dyno.\n\n"+
					"Your app's command gives it a port other than the one the mesh forwards\n"+
					"to, APP_PORT (3000 here): every request would fail with a 502.\n\n"+
					"Use this line instead:\n\n  web: APP_PORT=3000 exec heroku-applink-service-mesh bin/webapp --port 3000"),
			fixed: "web: APP_PORT=3000 exec heroku-applink-service-mesh bin/webapp --port 3000\n",
		},
		{
			name:     "commands joined without spaces",
			procfile: "web: cd bin&&./webapp --port $PORT\n",
			advice: "-----> Checking Procfile\n" + warning("Your Procfile's web process does not start the service mesh, so\n"+
				"requests from Salesforce will not reach your app:\n\n  web: cd bin&&./webapp --port $PORT\n\n"+
				"Start it through the mesh instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'cd bin && ./webapp --port 3000'\n\n"+
				"The mesh listens on $PORT and forwards to your app on APP_PORT: the app must\nlisten on 3000."),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'cd bin && ./webapp --port 3000'\n",
		},
		{
			name:     "a quoted variable before the command",
			procfile: "web: WEBAPP_NOTE=\"two words\" bin/webapp --port $PORT\n",
			advice: "-----> Checking Procfile\n" + warning("Your Procfile's web process does not start the service mesh, so\n"+
				"requests from Salesforce will not reach your app:\n\n  web: WEBAPP_NOTE=\"two words\" bin/webapp --port $PORT\n\n"+
				"Start it through the mesh instead:\n\n  web: APP_PORT=3000 WEBAPP_NOTE=\"two words\" heroku-applink-service-mesh bin/webapp --port 3000\n\n"+
				"The mesh listens on $PORT and forwards to your app on APP_PORT: the app must\nlisten on 3000."),
			fixed: "web: APP_PORT=3000 WEBAPP_NOTE=\"two words\" heroku-applink-service-mesh bin/webapp --port 3000\n",
		},
		{
			name:     "a byte-order mark and CRLF line ends",
			procfile: "\uFEFF# the mesh holds $PORT\r\nweb: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\r\nworker: bin/webapp --worker\r\n",
			advice: "-----> Checking Procfile\n" + warning("Your Procfile starts with a byte-order mark (U+FEFF). Heroku reads Procfiles\n"+
				"without one: the first line may be dropped, or the file refused. Save the\nProcfile as UTF-8 without a byte-order mark.") +
				"       The web process starts the service mesh:\n         web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n",
			fixed: "# the mesh holds $PORT\r\nweb: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\r\nworker: bin/webapp --worker\r\n",
		},
		{
			name:     "web defined twice",
			procfile: "web: bin/webapp\nworker: bin/webapp --worker\nweb: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n",
			advice: "-----> Checking Procfile\n" + warning("Your Procfile defines the web process 2 times (lines 1 and 3).\n"+
				"Heroku runs the last one, which is the one checked here:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n\nRemove the others.") +
				"       The web process starts the service mesh:\n         web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n",
			fixed: "worker: bin/webapp --worker\nweb: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n",
		},
		{
			name:     "the installed version's name",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh-v0.2.2-" + arch + " bin/webapp\n",
			advice: "-----> Checking Procfile\n" + warning("Your Procfile's web process starts the mesh as\n\n  heroku-applink-service-mesh-v0.2.2-"+arch+"\n\n"+
				"a name this buildpack links only so that old Procfiles keep working. It\n"+
				"breaks when the architecture or the version changes: use the plain name,\nheroku-applink-service-mesh.\n\n"+
				"Use this line instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp"),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n",
		},
		{
			name:     "another version's name",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh-v0.1.0-" + arch + " bin/webapp\n",
			advice: "-----> Checking Procfile\n" + warning("Your Procfile's web process starts\n\n  heroku-applink-service-mesh-v0.1.0-"+arch+"\n\n"+
				"which this build did not install, so the web process will not start. This\n"+
				"build installed heroku-applink-service-mesh 0.2.2 for "+arch+", also linked as:\n\n"+
				"  heroku-applink-service-mesh-latest-"+arch+"\n  heroku-applink-service-mesh-v0.2.2-"+arch+"\n\n"+
				"Use the plain name.\n\nUse this line instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp"),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			app := e.appWith(t, map[string]string{"Procfile": tt.procfile})
			require.NoError(t, app.Deploy(ctx), "advice never fails a build")
			want := e.installLog(t, "0.2.2") + tt.advice + done
			if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
				t.Errorf("build log (-want +got):\n%s", diff)
			}

			// The advice taken: no advice, and the app serves through the mesh.
			fixed := e.appWith(t, map[string]string{"Procfile": tt.fixed})
			require.NoError(t, fixed.SetConfigs(api.Config()))
			require.NoError(t, fixed.Deploy(ctx))
			web, err := harness.ProcessCommand(fixed.Slug, "web")
			require.NoError(t, err)
			want = e.installLog(t, "0.2.2") + okProcfile(web) + done
			if diff := cmp.Diff(want, normalize(fixed.Output(), e.mirror.URL(), fixed.BuildDir)); diff != "" {
				t.Errorf("build log of the fixed Procfile (-want +got):\n%s", diff)
			}
			assertServes(t, startWeb(t, fixed, nil), api, "0.2.2")
		})
	}
}

// TestClassicUpstreamNamesBoot: a Procfile that names the mesh by the
// upstream's link names starts it.
func TestClassicUpstreamNamesBoot(t *testing.T) {
	t.Parallel()
	api := newAppLink(t)
	e := newClassicEnv(t, "0.2.2")
	for _, name := range []string{"heroku-applink-service-mesh-latest-" + runtime.GOARCH, "heroku-applink-service-mesh-v0.2.2-" + runtime.GOARCH} {
		t.Run(name, func(t *testing.T) {
			app := e.appWith(t, map[string]string{"Procfile": "web: APP_PORT=3000 " + name + " bin/webapp\n"})
			require.NoError(t, app.SetConfigs(api.Config()))
			require.NoError(t, app.Deploy(context.Background()))
			require.Contains(t, app.Output(), "Use this line instead:")
			assertServes(t, startWeb(t, app, nil), api, "0.2.2")
		})
	}
}

// TestClassicMeshConfig: the mesh's config file is read at build time as
// the mesh reads it at boot, and the build says what the mesh will do.
func TestClassicMeshConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	api := newAppLink(t)
	e := newClassicEnv(t, "0.2.2")
	web := "APP_PORT=3000 heroku-applink-service-mesh bin/webapp"

	t.Run("bypass routes are listed, and are what the mesh lets through", func(t *testing.T) {
		app := e.appWith(t, map[string]string{"heroku-applink-service-mesh.yaml": "mesh:\n  authentication:\n    bypassRoutes:\n      - /public/*\n"})
		require.NoError(t, app.SetConfigs(api.Config()))
		require.NoError(t, app.Deploy(ctx))
		want := e.installLog(t, "0.2.2") + okProcfile(web) +
			"-----> Checking heroku-applink-service-mesh.yaml\n" +
			"       Routes that skip AppLink authentication:\n" +
			"         /healthcheck (the health check)\n" +
			"         /public/*\n" +
			"       Every other route answers 401 unless the request comes from Salesforce\n" +
			"       through AppLink.\n" + done
		if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
			t.Errorf("build log (-want +got):\n%s", diff)
		}
		d := startWeb(t, app, nil)
		assertServes(t, d, api, "0.2.2")
		res, err := d.Get(ctx, "/public/status", nil)
		require.NoError(t, err)
		require.Equal(t, 200, res.Code, "a listed route skips authentication: %s", res.Body)
		res, err = d.Get(ctx, "/health", nil)
		require.NoError(t, err)
		require.Equal(t, 401, res.Code, "an unlisted one does not")
	})

	t.Run("an unknown key: the build warns, and the mesh does refuse to start", func(t *testing.T) {
		app := e.appWith(t, map[string]string{"heroku-applink-service-mesh.yaml": "mesh:\n  healthchecks:\n    route: /health\n"})
		require.NoError(t, app.SetConfigs(api.Config()))
		require.NoError(t, app.Deploy(ctx))
		want := e.installLog(t, "0.2.2") + okProcfile(web) +
			"-----> Checking heroku-applink-service-mesh.yaml\n" +
			warning("The service mesh will not start with heroku-applink-service-mesh.yaml: it reads the\n"+
				"file strictly, and exits at boot with \"Invalid YAML config\":\n\n"+
				"  line 2: field healthchecks not found\n\n"+
				"The mesh knows app.port, app.host, mesh.authentication.bypassRoutes,\nmesh.healthcheck.enable and mesh.healthcheck.route.\n\n"+
				"Fix the file, or remove it to use the mesh's defaults.") + done
		if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
			t.Errorf("build log (-want +got):\n%s", diff)
		}
		out, err := app.Run(ctx, web, map[string]string{"PORT": "0"})
		require.Error(t, err)
		require.Regexp(t, regexp.MustCompile(`Invalid YAML config: yaml: unmarshal errors:\n\s+line 2: field healthchecks not found`), out)
	})

	t.Run("a null document: the build warns, and the mesh does crash", func(t *testing.T) {
		app := e.appWith(t, map[string]string{"heroku-applink-service-mesh.yaml": "---\n# mesh:\n#   authentication:\n"})
		require.NoError(t, app.SetConfigs(api.Config()))
		require.NoError(t, app.Deploy(ctx))
		want := e.installLog(t, "0.2.2") + okProcfile(web) +
			"-----> Checking heroku-applink-service-mesh.yaml\n" +
			warning("The service mesh will not start with heroku-applink-service-mesh.yaml: it reads the\n"+
				"file as no config at all, and crashes at boot (a nil pointer dereference):\n\n"+
				"  the file's first YAML document is empty (null)\n\n"+
				"Fix the file, or remove it to use the mesh's defaults.") + done
		if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
			t.Errorf("build log (-want +got):\n%s", diff)
		}
		out, err := app.Run(ctx, web, map[string]string{"PORT": "0"})
		require.Error(t, err)
		require.Contains(t, out, "nil pointer dereference")
	})

	t.Run("copies the mesh never reads", func(t *testing.T) {
		app := e.appWith(t, map[string]string{
			"heroku-applink-service-mesh.yml":         "app:\n  port: 3000\n",
			"config/heroku-applink-service-mesh.yaml": "app:\n  port: 3000\n",
		})
		require.NoError(t, app.Deploy(ctx))
		want := e.installLog(t, "0.2.2") + okProcfile(web) +
			"-----> Checking heroku-applink-service-mesh.yaml\n" +
			warning("heroku-applink-service-mesh.yml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml, with\n"+
				"that exact name. Rename it.") +
			warning("config/heroku-applink-service-mesh.yaml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml,\n"+
				"under that exact name, from the app's root directory. Move it there.") + done
		if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
			t.Errorf("build log (-want +got):\n%s", diff)
		}
	})

	t.Run("app.port that the Procfile's APP_PORT overrides", func(t *testing.T) {
		app := e.appWith(t, map[string]string{"heroku-applink-service-mesh.yaml": "app:\n  port: 8080\n"})
		require.NoError(t, app.Deploy(ctx))
		want := e.installLog(t, "0.2.2") + okProcfile(web) +
			"-----> Checking heroku-applink-service-mesh.yaml\n" +
			warning("app.port is 8080, but the Procfile sets APP_PORT=3000 for the mesh, which wins:\nthe mesh forwards to port 3000.") +
			"       Routes that skip AppLink authentication:\n" +
			"         /healthcheck (the health check)\n" +
			"       Every other route answers 401 unless the request comes from Salesforce\n" +
			"       through AppLink.\n" + done
		if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
			t.Errorf("build log (-want +got):\n%s", diff)
		}
	})
}

// TestClassicAddonConfigVars: the build sees the add-on's config vars by
// name, from ENV_DIR, and never reads their values.
func TestClassicAddonConfigVars(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newClassicEnv(t, "0.2.2")
	web := okProcfile("APP_PORT=3000 heroku-applink-service-mesh bin/webapp")
	tests := []struct {
		name   string
		config map[string]string
		advice string
	}{
		{name: "attached: nothing to say", config: addonPlaceholder},
		{
			name: "not attached", config: map[string]string{"DATABASE_URL": "postgres://x"},
			advice: "-----> Checking the AppLink add-on\n" + warning("The AppLink add-on is not attached: the app has neither\n"+
				"HEROKU_APPLINK_API_URL nor HEROKU_APPLINK_TOKEN, and the service mesh exits at boot\n"+
				"without them (\"Heroku AppLink add-on config vars not set\"). Attach it:\n\n  heroku addons:create heroku-applink"),
		},
		{
			name: "attached under another name", config: map[string]string{"APPLINK_PROD_API_URL": "https://x", "APPLINK_PROD_TOKEN": "t"},
			advice: "-----> Checking the AppLink add-on\n" + warning("The app has neither HEROKU_APPLINK_API_URL nor HEROKU_APPLINK_TOKEN, which the\n"+
				"service mesh reads: it exits at boot without them (\"Heroku AppLink add-on config vars not set\").\n"+
				"These may be the AppLink add-on attached under another name, or another\n"+
				"add-on's or your own config vars (the build reads names only):\n\n  APPLINK_PROD_API_URL and APPLINK_PROD_TOKEN\n\n"+
				"If one is the AppLink add-on, attach it as HEROKU_APPLINK too:\n\n  heroku addons:attach <add-on name> --as HEROKU_APPLINK\n\n"+
				"If none is, the add-on is not attached. Attach it:\n\n  heroku addons:create heroku-applink"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := e.appWith(t, nil)
			for k := range addonPlaceholder {
				require.NoError(t, app.SetConfig(k, ""))
			}
			for k, v := range tt.config {
				require.NoError(t, app.SetConfig(k, v))
			}
			require.NoError(t, app.Deploy(ctx))
			want := e.installLog(t, "0.2.2") + web + tt.advice + done
			if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
				t.Errorf("build log (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("names only: a token file that is a named pipe is never opened", func(t *testing.T) {
		app := e.appWith(t, nil)
		require.NoError(t, app.SetConfig("HEROKU_APPLINK_TOKEN", ""))
		require.NoError(t, syscall.Mkfifo(filepath.Join(app.EnvDir(), "HEROKU_APPLINK_TOKEN"), 0o600))
		require.NoError(t, deploy(t, app))
		require.NotContains(t, app.Output(), "AppLink add-on")
	})
}

// script runs the fixture app, as a start script of the app's does.
const script = "#!/bin/sh\nexec bin/webapp \"$@\"\n"

// TestClassicProcfileReadAsBash: the Procfile forms bash reads otherwise
// than a word splitter did, on the real bin/compile, with the whole log; the
// line the build suggests is written back, builds with no advice, and boots
// through the stand-in mesh.
func TestClassicProcfileReadAsBash(t *testing.T) {
	t.Parallel()
	api := newAppLink(t)
	e := newClassicEnv(t, "0.2.2")
	tests := []struct {
		name, procfile string
		files          map[string]string
		advice         string
		fixed          string // the Procfile's web line the advice leads to
	}{
		{
			name:     "a quoted program path with a space is no quoted command",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh \"./my app/start.sh\"\n",
			files:    map[string]string{"my app/start.sh": script},
			advice:   okProcfile(`APP_PORT=3000 heroku-applink-service-mesh "./my app/start.sh"`),
			fixed:    `web: APP_PORT=3000 heroku-applink-service-mesh "./my app/start.sh"`,
		},
		{
			name:     "$PORT inside sh -c",
			procfile: "web: sh -c 'APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port $PORT'\n",
			advice: okProcfile("sh -c 'APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port $PORT'") +
				warning("Your app's command refers to $PORT, but the mesh listens on $PORT. The app\n"+
					"must listen on the port the mesh forwards to, APP_PORT (3000 here), or\nthe two collide and requests fail.\n\n"+
					"Use this line instead:\n\n  web: sh -c 'APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port 3000'"),
			fixed: "web: sh -c 'APP_PORT=3000 heroku-applink-service-mesh bin/webapp --port 3000'",
		},
		{
			name:     "ANSI-C quoting",
			procfile: "web: APP_PORT=$'3000' heroku-applink-service-mesh bin/webapp --port 4000\n",
			advice: okProcfile("APP_PORT=$'3000' heroku-applink-service-mesh bin/webapp --port 4000") +
				warning("Your app's command gives it a port other than the one the mesh forwards\n"+
					"to, APP_PORT (3000 here): every request would fail with a 502.\n\n"+
					"Use this line instead:\n\n  web: APP_PORT=$'3000' heroku-applink-service-mesh bin/webapp --port 3000"),
			fixed: "web: APP_PORT=$'3000' heroku-applink-service-mesh bin/webapp --port 3000",
		},
		{
			name:     "the process type twice",
			procfile: "web: web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n",
			advice: okProcfile("web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp") +
				warning("The command starts with \"web:\" again: bash runs web: as a program,\n"+
					"which does not exist, and the process fails at start.\n\n"+
					"Use this line instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp"),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp",
		},
		{
			name:     "a bare startup.sh",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh startup.sh\n",
			files:    map[string]string{"startup.sh": script},
			advice: okProcfile("APP_PORT=3000 heroku-applink-service-mesh startup.sh") +
				warning("Your app's command names a file of your app without a path. The mesh looks\n"+
					"such a name up on PATH, which does not hold your app's folder, so it cannot\n"+
					"start it: put ./ in front.\n\n"+
					"Use this line instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh ./startup.sh"),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh ./startup.sh",
		},
		{
			name:     "a bare startup.sh, not wrapped",
			procfile: "web: startup.sh\n",
			files:    map[string]string{"startup.sh": script},
			advice: "-----> Checking Procfile\n" + warning("Your Procfile's web process does not start the service mesh, so\n"+
				"requests from Salesforce will not reach your app:\n\n  web: startup.sh\n\n"+
				"Start it through the mesh instead:\n\n  web: APP_PORT=3000 heroku-applink-service-mesh ./startup.sh\n\n"+
				"The mesh listens on $PORT and forwards to your app on APP_PORT: the app must\nlisten on 3000."),
			fixed: "web: APP_PORT=3000 heroku-applink-service-mesh ./startup.sh",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			files := map[string]string{"Procfile": tt.procfile}
			for k, v := range tt.files {
				files[k] = v
			}
			app := e.appWith(t, files)
			require.NoError(t, app.Deploy(ctx), "advice never fails a build")
			want := e.installLog(t, "0.2.2") + tt.advice + done
			if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
				t.Errorf("build log (-want +got):\n%s", diff)
			}

			files["Procfile"] = tt.fixed + "\n"
			fixed := e.appWith(t, files)
			require.NoError(t, fixed.SetConfigs(api.Config()))
			require.NoError(t, fixed.Deploy(ctx))
			want = e.installLog(t, "0.2.2") + okProcfile(strings.TrimPrefix(tt.fixed, "web: ")) + done
			if diff := cmp.Diff(want, normalize(fixed.Output(), e.mirror.URL(), fixed.BuildDir)); diff != "" {
				t.Errorf("build log of the fixed Procfile (-want +got):\n%s", diff)
			}
			assertServes(t, startWeb(t, fixed, nil), api, "0.2.2")
		})
	}
}

// TestClassicEveryProcessThatStartsTheMesh: a process other than web that
// starts the mesh gets the same checks; one that does not, none.
func TestClassicEveryProcessThatStartsTheMesh(t *testing.T) {
	t.Parallel()
	e := newClassicEnv(t, "0.2.2")
	app := e.appWith(t, map[string]string{"Procfile": "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp\n" +
		"worker: bin/webapp --worker --port $PORT\nweb-mesh: heroku-applink-service-mesh\n"})
	require.NoError(t, app.Deploy(context.Background()))
	want := e.installLog(t, "0.2.2") + okProcfile("APP_PORT=3000 heroku-applink-service-mesh bin/webapp") +
		warning("Your Procfile's web-mesh process runs heroku-applink-service-mesh with no app command:\n\n"+
			"  web-mesh: heroku-applink-service-mesh\n\n"+
			"The mesh starts your app: put the app's start command after it, e.g.\n\n"+
			"  web-mesh: APP_PORT=3000 heroku-applink-service-mesh npm start") + done
	if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
		t.Errorf("build log (-want +got):\n%s", diff)
	}
}

// TestClassicMeshConfigAsTheMeshReadsIt: what the mesh does with routes,
// hosts and pre-AppLink files, said at build time, and checked on a dyno.
func TestClassicMeshConfigAsTheMeshReadsIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	api := newAppLink(t)
	e := newClassicEnv(t, "0.2.2")
	web := okProcfile("APP_PORT=3000 heroku-applink-service-mesh bin/webapp")
	routes := func(extra ...string) string {
		return "       Routes that skip AppLink authentication:\n         /healthcheck (the health check)\n" +
			strings.Join(append(extra, ""), "") + "       Every other route answers 401 unless the request comes from Salesforce\n       through AppLink.\n"
	}
	deploy := func(t *testing.T, files map[string]string, want string) *harness.App {
		app := e.appWith(t, files)
		require.NoError(t, app.SetConfigs(api.Config()))
		require.NoError(t, app.Deploy(ctx))
		if diff := cmp.Diff(e.installLog(t, "0.2.2")+web+want+done, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
			t.Errorf("build log (-want +got):\n%s", diff)
		}
		return app
	}

	t.Run("placeholder routes, which the mesh compares literally", func(t *testing.T) {
		app := deploy(t, map[string]string{"heroku-applink-service-mesh.yaml": "mesh:\n  authentication:\n    bypassRoutes:\n      - /api/summary/:systemId\n      - /public/*\n"},
			"-----> Checking heroku-applink-service-mesh.yaml\n"+
				warning("mesh.authentication.bypassRoutes has \"/api/summary/:systemId\", but the mesh compares routes\n"+
					"literally (only a final * matches more): a request to a real path there still\n"+
					"needs authentication. To skip it for every path under /api/summary/, write /api/summary/*.")+
				routes("         /public/*\n"))
		d := startWeb(t, app, nil)
		require.NoError(t, d.WaitHealthy(ctx, "/healthcheck", time.Minute))
		res, err := d.Get(ctx, "/api/summary/123", nil)
		require.NoError(t, err)
		require.Equal(t, 401, res.Code, "the mesh matched the placeholder literally")
		res, err = d.Get(ctx, "/public/status", nil)
		require.NoError(t, err)
		require.Equal(t, 200, res.Code, res.Body)
	})

	t.Run("a host off the dyno", func(t *testing.T) {
		deploy(t, map[string]string{"heroku-applink-service-mesh.yaml": "app:\n  host: https://mesh\n"},
			"-----> Checking heroku-applink-service-mesh.yaml\n"+
				warning("app.host is \"https://mesh\", which is not this dyno: the mesh forwards every request\n"+
					"there, while your app runs beside the mesh, so requests fail (502) or reach\n"+
					"another server. Use http://127.0.0.1, or remove app.host.")+routes())
	})

	t.Run("localhost is the dyno", func(t *testing.T) {
		app := deploy(t, map[string]string{"heroku-applink-service-mesh.yaml": "app:\n  host: http://localhost\n"},
			"-----> Checking heroku-applink-service-mesh.yaml\n"+routes())
		assertServes(t, startWeb(t, app, nil), api, "0.2.2")
	})

	t.Run("a pre-AppLink file the AppLink mesh would refuse", func(t *testing.T) {
		deploy(t, map[string]string{"heroku-integration-service-mesh.yaml": "integration:\n  apiUrl: https://example.com\n"},
			"-----> Checking heroku-applink-service-mesh.yaml\n"+
				warning("heroku-integration-service-mesh.yaml is the name from before AppLink: the AppLink mesh reads\n"+
					"heroku-applink-service-mesh.yaml, but would not load this file once renamed, and would exit at\n"+
					"boot: line 1: field integration not found.\nFix it before you rename it, or remove it."))
	})

	t.Run("a pre-AppLink file the AppLink mesh would load", func(t *testing.T) {
		files := map[string]string{"heroku-integration-service-mesh.yaml": "mesh:\n  authentication:\n    bypassRoutes: [/public/*]\n"}
		deploy(t, files, "-----> Checking heroku-applink-service-mesh.yaml\n"+
			warning("heroku-integration-service-mesh.yaml is the name from before AppLink: the AppLink mesh reads\n"+
				"heroku-applink-service-mesh.yaml. Rename it."))
		// Renamed as advised, it loads.
		app := deploy(t, map[string]string{"heroku-applink-service-mesh.yaml": files["heroku-integration-service-mesh.yaml"]},
			"-----> Checking heroku-applink-service-mesh.yaml\n"+routes("         /public/*\n"))
		assertServes(t, startWeb(t, app, nil), api, "0.2.2")
	})
}

// TestClassicManyConfigVars: every config var name is read, however many:
// the add-on's come after 20,000 others, and the build finds them.
func TestClassicManyConfigVars(t *testing.T) {
	t.Parallel()
	e := newClassicEnv(t, "0.2.2")
	app := e.appWith(t, nil)
	for k := range addonPlaceholder {
		require.NoError(t, app.SetConfig(k, ""))
	}
	for i := range 20_000 {
		require.NoError(t, app.SetConfig(fmt.Sprintf("SOME_VAR_%05d", i), "x"))
	}
	require.NoError(t, app.SetConfigs(addonPlaceholder))
	require.NoError(t, app.Deploy(context.Background()))
	want := e.installLog(t, "0.2.2") + okProcfile("APP_PORT=3000 heroku-applink-service-mesh bin/webapp") + done
	if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
		t.Errorf("build log (-want +got):\n%s", diff)
	}
}

// TestClassicAdviceEscapesAppText: escape sequences in the Procfile, a
// route, a key and a folder's name reach the log as text, so a decoy route
// cannot erase /admin/* from the listing of routes that skip
// authentication.
func TestClassicAdviceEscapesAppText(t *testing.T) {
	t.Parallel()
	e := newClassicEnv(t, "0.2.2")
	const esc = "\x1b[1A\x1b[2K"
	shown := `\x1b[1A\x1b[2K`
	web := okProcfile("APP_PORT=3000 heroku-applink-service-mesh bin/webapp")
	tests := []struct {
		name   string
		files  map[string]string
		advice string
	}{
		{
			name:   "the Procfile",
			files:  map[string]string{"Procfile": "web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp " + esc + "\n"},
			advice: okProcfile("APP_PORT=3000 heroku-applink-service-mesh bin/webapp " + shown),
		},
		{
			name:  "a route",
			files: map[string]string{"heroku-applink-service-mesh.yaml": "mesh:\n  authentication:\n    bypassRoutes: [\"/admin/*\", \"\\e[1A\\e[2K\"]\n"},
			advice: web + "-----> Checking heroku-applink-service-mesh.yaml\n" +
				warning("mesh.authentication.bypassRoutes has \"\\x1b[1A\\x1b[2K\", which does not start with /: it\n"+
					"never matches a request path, so that route still needs authentication.") +
				"       Routes that skip AppLink authentication:\n         /healthcheck (the health check)\n         /admin/*\n" +
				"       Every other route answers 401 unless the request comes from Salesforce\n       through AppLink.\n",
		},
		{
			name:  "a key",
			files: map[string]string{"heroku-applink-service-mesh.yaml": "\"\\e[1A\\e[2Kapp\": {}\n"},
			advice: web + "-----> Checking heroku-applink-service-mesh.yaml\n" +
				warning("The service mesh will not start with heroku-applink-service-mesh.yaml: it reads the\n"+
					"file strictly, and exits at boot with \"Invalid YAML config\":\n\n"+
					"  line 1: field "+shown+"app not found\n\n"+
					"The mesh knows app.port, app.host, mesh.authentication.bypassRoutes,\nmesh.healthcheck.enable and mesh.healthcheck.route.\n\n"+
					"Fix the file, or remove it to use the mesh's defaults."),
		},
		{
			name:  "a folder's name",
			files: map[string]string{"conf" + esc + "/heroku-applink-service-mesh.yaml": "app: {}\n"},
			advice: web + "-----> Checking heroku-applink-service-mesh.yaml\n" +
				warning("conf"+shown+"/heroku-applink-service-mesh.yaml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml,\n"+
					"under that exact name, from the app's root directory. Move it there."),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := e.appWith(t, tt.files)
			require.NoError(t, app.Deploy(context.Background()))
			require.NotContains(t, app.RawOutput, "\x1b[1A", "no escape sequence from the app reaches the terminal")
			want := e.installLog(t, "0.2.2") + tt.advice + done
			if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
				t.Errorf("build log (-want +got):\n%s", diff)
			}
		})
	}
}
