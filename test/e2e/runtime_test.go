package e2e

import (
	"context"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

// The runtime cases: a deployed app's web process booted through the mesh,
// hit with requests as Salesforce would send them.

const connectedOrg = "00DCONNECTED0001"

func newAppLink(t *testing.T) *harness.AppLink {
	t.Helper()
	api := harness.NewAppLink("applink-token", connectedOrg)
	t.Cleanup(api.Close)
	return api
}

type appReply struct {
	Path          string `json:"path"`
	RequestCtx    bool   `json:"x-request-context-seen"`
	ClientContext struct {
		OrgID       string `json:"orgId"`
		APIVersion  string `json:"apiVersion"`
		UserContext struct {
			Username string `json:"username"`
		} `json:"userContext"`
	} `json:"clientContext"`
}

// assertServes checks the web process the way Salesforce and Heroku's router
// would reach it: through the mesh on $PORT.
func assertServes(t *testing.T, d *harness.Dyno, api *harness.AppLink, version string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, d.WaitHealthy(ctx, "/healthcheck", time.Minute))

	res, err := d.Get(ctx, "/accounts", nil)
	require.NoError(t, err)
	require.Equal(t, 401, res.Code, "a request without AppLink headers is refused: %s", res.Body)

	res, err = d.Get(ctx, "/healthcheck", nil)
	require.NoError(t, err)
	require.Equal(t, 200, res.Code)
	require.Equal(t, "OK", res.Body)

	before := api.Calls()
	res, err = d.Get(ctx, "/accounts?limit=2", harness.InvocationHeaders(connectedOrg, "admin@example.com"))
	require.NoError(t, err)
	require.Equal(t, 200, res.Code, res.Body)
	require.Equal(t, before+1, api.Calls(), "the mesh authenticated the request with the AppLink API")
	var reply appReply
	require.NoError(t, json.Unmarshal([]byte(res.Body), &reply), res.Body)
	require.Equal(t, "/accounts?limit=2", reply.Path)
	require.Equal(t, connectedOrg, reply.ClientContext.OrgID)
	require.Equal(t, "admin@example.com", reply.ClientContext.UserContext.Username)
	require.Equal(t, "62.0", reply.ClientContext.APIVersion)
	require.False(t, reply.RequestCtx, "the mesh strips x-request-context")

	res, err = d.Get(ctx, "/accounts", harness.InvocationHeaders("00DSTRANGER00001", "eve@example.com"))
	require.NoError(t, err)
	require.Equal(t, 403, res.Code, "an org that is not connected is refused")

	malformed := harness.InvocationHeaders(connectedOrg, "admin@example.com")
	delete(malformed, "x-request-context")
	res, err = d.Get(ctx, "/accounts", malformed)
	require.NoError(t, err)
	require.Equal(t, 400, res.Code)

	res, err = d.Get(ctx, "/__herokuAppLinkServiceMeshInfo", nil)
	require.NoError(t, err)
	require.Equal(t, "v"+version+" [os: linux, arch: amd64]", res.Body)

	logs := d.Logs()
	require.Contains(t, logs, `msg="Heroku AppLink Service Mesh is up!"`)
	require.Contains(t, logs, "version=v"+version)
	// The app listens where the mesh forwards.
	m := regexp.MustCompile(`app_port=(\d+)`).FindStringSubmatch(logs)
	require.NotNil(t, m, logs)
	require.Contains(t, logs, "webapp listening on 127.0.0.1:"+m[1])
}

func startWeb(t *testing.T, app *harness.App, env map[string]string) *harness.Dyno {
	t.Helper()
	d, err := app.Start(context.Background(), "web", env)
	require.NoError(t, err)
	t.Cleanup(d.Stop)
	return d
}

func TestClassicDyno(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	api := newAppLink(t)
	e := newClassicEnv(t, "0.2.2", "0.3.0")
	app := e.app(t, "sample-app")
	require.NoError(t, app.SetConfigs(api.Config()))
	require.NoError(t, app.Deploy(ctx))

	d := startWeb(t, app, nil)
	assertServes(t, d, api, "0.3.0")
	d.Stop()

	t.Run("heroku run -v prints the pinned version", func(t *testing.T) {
		out, err := app.Run(ctx, "heroku-applink-service-mesh -v", nil)
		require.NoError(t, err)
		require.Equal(t, "heroku-applink-service-mesh version v0.3.0 [os: linux, arch: amd64]\n", out)
	})

	t.Run("a cached rebuild boots with zero mirror requests", func(t *testing.T) {
		before := e.mirror.Requests()
		require.NoError(t, app.Push(ctx))
		require.Equal(t, before, e.mirror.Requests())
		d := startWeb(t, app, nil)
		assertServes(t, d, api, "0.3.0")
	})

	t.Run("a pinned version reinstalls and runs", func(t *testing.T) {
		require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "v0.2.2"))
		require.NoError(t, app.Push(ctx))
		require.Contains(t, app.Output(), "Downloading from")
		d := startWeb(t, app, nil)
		assertServes(t, d, api, "0.2.2")
	})

	t.Run("the mesh answers 502 while the app is not up", func(t *testing.T) {
		d := startWeb(t, app, map[string]string{"WEBAPP_START_DELAY": "10s"})
		res, err := d.Get(ctx, "/healthcheck", nil)
		require.NoError(t, err)
		require.Equal(t, 502, res.Code)
	})

	t.Run("the mesh runs the app without a shell and exits with its status", func(t *testing.T) {
		out, err := app.Run(ctx, `heroku-applink-service-mesh --port 0 -- sh -c 'echo "app says $1"; exit 7' app '$HOME'`, nil)
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, out)
		require.Equal(t, 7, exit.ExitCode())
		require.Contains(t, out, "app says $HOME\n", "arguments reach the app as given, unexpanded by a shell of the mesh's")
	})

	t.Run("without the add-on's config vars the mesh refuses to start", func(t *testing.T) {
		_, err := app.Start(ctx, "web", map[string]string{"HEROKU_APPLINK_TOKEN": ""})
		require.ErrorContains(t, err, "Heroku AppLink add-on config vars not set")
	})

	t.Run("no build path anywhere in the slug's scripts", func(t *testing.T) {
		require.NoError(t, filepath.Walk(app.Slug, func(p string, info os.FileInfo, err error) error {
			require.NoError(t, err)
			if info.Mode()&os.ModeSymlink != 0 {
				target, err := os.Readlink(p)
				require.NoError(t, err)
				require.False(t, filepath.IsAbs(target), "%s links to an absolute path %s", p, target)
				return nil
			}
			if info.Mode().IsRegular() && info.Size() < 64<<10 {
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				require.NotContains(t, string(b), app.BuildDir, p)
				require.NotContains(t, string(b), "/build_", p)
			}
			return nil
		}))
	})
}

func TestClassicProcfileShapesBoot(t *testing.T) {
	t.Parallel()
	api := newAppLink(t)
	e := newClassicEnv(t, "0.2.2")
	for _, name := range []string{"legacy-name", "port-flag"} {
		t.Run(name, func(t *testing.T) {
			app := e.app(t, name)
			require.NoError(t, app.SetConfigs(api.Config()))
			require.NoError(t, app.Deploy(context.Background()))
			d := startWeb(t, app, nil)
			assertServes(t, d, api, "0.2.2")
		})
	}
}

func TestClassicFailedDeployBootsNothing(t *testing.T) {
	t.Parallel()
	e := newClassicEnv(t, "0.2.2")
	app := e.app(t, "sample-app")
	e.mirror.Put(mesh("0.2.2").Object(), meshScript("6.6.6"))
	require.Error(t, app.Deploy(context.Background()))
	require.Empty(t, app.Slug, "a failed deploy produces no slug")
	_, err := app.Start(context.Background(), "web", nil)
	require.Error(t, err)
}

func TestClassicCompileAsUnprivilegedUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users; the tests already run unprivileged")
	}
	e := newClassicEnv(t, "0.2.2")
	work, err := harness.ReachableTempDir("classic-uid-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(work) })
	// On Heroku the build user owns the buildpack directory (it writes
	// export there).
	bp, err := harness.NewBuildpack(repoRoot, filepath.Join(work, "buildpack"), binaries, testhelpers.Inventory("", mesh("0.2.2")))
	require.NoError(t, err)
	app, err := harness.NewApp(bp, appSource(t, "sample-app"), filepath.Join(work, "app"))
	require.NoError(t, err)
	require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", e.mirror.URL()))
	app.Credential = &syscall.Credential{Uid: 65534, Gid: 65534}
	app.Chown = []string{bp.Dir}
	require.NoError(t, app.Deploy(context.Background()))
	info, err := os.Stat(filepath.Join(app.Slug, "vendor/heroku-applink/bin/heroku-applink-service-mesh"))
	require.NoError(t, err)
	require.EqualValues(t, 65534, info.Sys().(*syscall.Stat_t).Uid, "the build ran as the unprivileged user")
	out, err := app.Run(context.Background(), "heroku-applink-service-mesh -v", nil)
	require.NoError(t, err)
	require.Contains(t, out, "v0.2.2")
}

func TestStandInMeshIsBuiltForBothArchitectures(t *testing.T) {
	t.Parallel()
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		a := meshes["0.2.2/"+arch]
		f, err := elf.NewFile(strings.NewReader(string(a.Data)))
		require.NoError(t, err)
		require.Equal(t, machine, f.Machine, arch)
		require.Equal(t, elf.ELFOSABI_NONE, f.OSABI)
	}
}

func TestCNBDyno(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	api := newAppLink(t)
	e := newCNBEnv(t, "sample-app", "0.12", stand("0.3.0", "amd64"))
	res := e.build(t)
	require.Equal(t, 0, res.Code, res.Output)

	boot := func() *harness.Dyno {
		port, err := harness.FreePort()
		require.NoError(t, err)
		env := api.Config()
		env["PORT"] = itoa(port)
		cmd, err := e.platform.Launch(ctx, "web", env)
		require.NoError(t, err)
		d, err := harness.StartDyno(cmd, port, time.Minute)
		require.NoError(t, err)
		t.Cleanup(d.Stop)
		return d
	}
	d := boot()
	assertServes(t, d, api, "0.3.0")
	d.Stop()

	require.NoError(t, e.platform.Restore())
	res = e.build(t)
	require.Equal(t, 0, res.Code, res.Output)
	require.Equal(t, 1, e.mirror.Requests(), "the rebuild kept the layer")
	assertServes(t, boot(), api, "0.3.0")
}

func TestCNBProcfileAdvice(t *testing.T) {
	t.Parallel()
	for fixtureName, want := range map[string]string{
		"no-procfile": "! Warning: Your app has no Procfile.",
		"no-web":      "! Warning: Your Procfile has no web process.",
		"legacy-name": "! Warning: Your Procfile's web process starts the mesh as\n!\n!   heroku-applink-service-mesh-latest-amd64\n",
	} {
		t.Run(fixtureName, func(t *testing.T) {
			t.Parallel()
			e := newCNBEnv(t, fixtureName, "0.12", stand("0.2.2", "amd64"))
			res := e.build(t)
			require.Equal(t, 0, res.Code, "Procfile advice never fails the build:\n%s", res.Output)
			// The lifecycle passes stdout and stderr on as it reads them, so a
			// step line may land inside a warning: each line is checked.
			for _, line := range strings.Split(want, "\n") {
				require.Contains(t, res.Output, line)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
