// Command demo tells the buildpack's story offline, in under half a minute:
// a loopback mirror serves a stand-in mesh release pinned in a demo
// inventory; the real bin/* scripts deploy a sample app with it; the slug
// boots on an emulated dyno; requests go through the mesh with and without
// AppLink headers; a second push shows the cache. Everything it starts, it
// stops.
//
//	go run ./test/demo        # classic Heroku (make demo)
//	go run ./test/demo -cnb   # Cloud Native Buildpacks, real lifecycle (make demo-cnb)
//	go run ./test/demo -pack  # pack build and podman run (make demo-pack)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

const org = "00DDEMO000000001"

func main() {
	cnb := flag.Bool("cnb", false, "build with the CNB lifecycle instead of the classic contract")
	pack := flag.Bool("pack", false, "build with pack and podman, as users of the CNB do")
	flag.Parse()
	mode := "classic"
	switch {
	case *pack:
		mode = "pack"
	case *cnb:
		mode = "cnb"
	}
	if err := run(mode); err != nil {
		fmt.Fprintln(os.Stderr, "\ndemo failed:", err)
		os.Exit(1)
	}
}

func say(format string, a ...any) { fmt.Printf("\n\x1b[1;36m==> "+format+"\x1b[0m\n", a...) }

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") + "\n"
}

// world is what both demos share: the binaries, the mirror and the fake
// AppLink API.
type world struct {
	root, work string
	bp         *harness.Buildpack
	mirror     *testhelpers.Mirror
	api        *harness.AppLink
	app        string
	art        testhelpers.Artifact
}

func run(mode string) error {
	defer harness.RemoveLifecycleCopies()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	work, err := harness.ReachableTempDir("applink-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	w := &world{root: root, work: work}

	say("Building the buildpack, a stand-in mesh release and the sample web app for linux/%s", runtime.GOARCH)
	bin, err := harness.BuildBinary(root, runtime.GOARCH, filepath.Join(work, "bin"))
	if err != nil {
		return err
	}
	art, err := harness.StandInMesh(root, filepath.Join(work, "bin"), "0.2.2", runtime.GOARCH)
	if err != nil {
		return err
	}
	w.art = art
	webapp := filepath.Join(work, "bin", "webapp")
	if err := harness.BuildGo(root, "./test/fixtures/webapp", runtime.GOARCH, webapp); err != nil {
		return err
	}

	w.mirror = testhelpers.NewMirror()
	defer w.mirror.Close()
	w.mirror.Put(art.Object(), art.Data)
	w.api = harness.NewAppLink("demo-token", org)
	defer w.api.Close()
	fmt.Printf("    release mirror  %s  serves %s\n", w.mirror.URL(), art.Object())
	fmt.Printf("    pinned          %s\n", art.Checksum())
	fmt.Printf("    AppLink API     %s  (org %s connected)\n", w.api.URL(), org)

	if w.bp, err = harness.NewBuildpack(root, filepath.Join(work, "buildpack"), map[string]string{runtime.GOARCH: bin}, testhelpers.Inventory("", art)); err != nil {
		return err
	}
	w.app = filepath.Join(work, "source")
	if err := harness.PrepareSource(w.app, filepath.Join(root, "test/fixtures/sample-app"), map[string]string{"bin/webapp": webapp}); err != nil {
		return err
	}
	procfile, err := os.ReadFile(filepath.Join(w.app, "Procfile"))
	if err != nil {
		return err
	}
	say("The sample app's Procfile")
	fmt.Print(indent(string(procfile)))

	switch mode {
	case "pack":
		err = w.pack(ctx)
	case "cnb":
		err = w.cnb(ctx)
	default:
		err = w.classic(ctx)
	}
	if err != nil {
		return err
	}
	say("Done in %.1fs; every server and dyno the demo started is stopped.", time.Since(start).Seconds())
	return nil
}

func (w *world) classic(ctx context.Context) error {
	app, err := harness.NewApp(w.bp, w.app, filepath.Join(w.work, "app"))
	if err != nil {
		return err
	}
	config := w.api.Config()
	config["HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"] = w.mirror.URL()
	for k, v := range config {
		if err := app.SetConfig(k, v); err != nil {
			return err
		}
	}
	say("git push heroku main   (bin/detect, bin/compile, bin/release)")
	if err := app.Deploy(ctx); err != nil {
		return err
	}
	fmt.Print(app.RawOutput)

	say("heroku ps:scale web=1   (slug moved to %s; .profile.d sourced; Procfile run by bash)", app.Slug)
	d, err := app.Start(ctx, "web", nil)
	if err != nil {
		return err
	}
	defer d.Stop()
	if err := w.requests(ctx, d); err != nil {
		return err
	}
	d.Stop()

	before := w.mirror.Requests()
	say("git push heroku main   (again)")
	if err := app.Push(ctx); err != nil {
		return err
	}
	fmt.Print(app.RawOutput)
	say("The mirror served %d request(s) for that build: the cache held the verified release.", w.mirror.Requests()-before)
	out, err := app.Run(ctx, "heroku-applink-service-mesh -v", nil)
	if err != nil {
		return fmt.Errorf("heroku run: %v\n%s", err, out)
	}
	say("heroku run heroku-applink-service-mesh -v")
	fmt.Print(indent(out))
	return nil
}

func (w *world) cnb(ctx context.Context) error {
	say("Building the CNB lifecycle %s (first time only; cached in the user cache directory)", harness.LifecycleVersion)
	lc, err := harness.EnsureLifecycle(w.root)
	if err != nil {
		return err
	}
	version, err := harness.BuildpackVersion(w.root)
	if err != nil {
		return err
	}
	p, err := harness.NewPlatform(lc, filepath.Join(w.work, "platform"), w.app,
		harness.CNBBuildpack{Dir: w.bp.Dir, ID: "heroku/heroku-applink", Version: version},
		harness.CNBBuildpack{Dir: filepath.Join(w.root, "test/fixtures/buildpacks/procfile"), ID: "test/procfile", Version: "0.0.1", Optional: true})
	if err != nil {
		return err
	}
	if err := p.SetEnv("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", w.mirror.URL()); err != nil {
		return err
	}
	build := func(title string) error {
		say(title)
		res, err := p.Detect(ctx)
		if err != nil {
			return err
		}
		if res.Code != 0 {
			return fmt.Errorf("detector exited %d:\n%s", res.Code, res.Output)
		}
		res, err = p.Build(ctx)
		if err != nil {
			return err
		}
		if res.Code != 0 {
			return fmt.Errorf("builder exited %d:\n%s", res.Code, res.Output)
		}
		fmt.Print(res.Output)
		return nil
	}
	if err := build("lifecycle detector + builder   (Platform API " + p.API + ", unprivileged user)"); err != nil {
		return err
	}
	port, err := harness.FreePort()
	if err != nil {
		return err
	}
	env := w.api.Config()
	env["PORT"] = strconv.Itoa(port)
	say("launcher web   (the Procfile's web line, by bash, with the layer's bin on PATH)")
	cmd, err := p.Launch(ctx, "web", env)
	if err != nil {
		return err
	}
	d, err := harness.StartDyno(cmd, port, 20*time.Second)
	if err != nil {
		return err
	}
	defer d.Stop()
	if err := w.requests(ctx, d); err != nil {
		return err
	}
	d.Stop()

	if err := p.Restore(); err != nil {
		return err
	}
	before := w.mirror.Requests()
	if err := build("Rebuild after the platform restores the cached layer"); err != nil {
		return err
	}
	say("The mirror served %d request(s) for that build: the layer was kept.", w.mirror.Requests()-before)
	return nil
}

// requests sends what Heroku's router and Salesforce would, and shows the
// answers.
func (w *world) requests(ctx context.Context, d *harness.Dyno) error {
	if err := d.WaitHealthy(ctx, "/healthcheck", 10*time.Second); err != nil {
		return err
	}
	show := func(title, path string, headers map[string]string) error {
		res, err := d.Get(ctx, path, headers)
		if err != nil {
			return err
		}
		say("%s", title)
		var names []string
		for k := range headers {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Printf("    GET %s  %s\n", path, strings.Join(names, ", "))
		fmt.Printf("    -> %d %s", res.Code, indent(res.Body)[4:])
		return nil
	}
	if err := show("A request without AppLink headers is refused by the mesh", "/accounts", nil); err != nil {
		return err
	}
	if err := show("An invocation from the connected org is authenticated and reaches the app", "/accounts",
		harness.InvocationHeaders(org, "admin@example.com")); err != nil {
		return err
	}
	if exited, err := d.Exited(); exited {
		return errors.New("dyno exited: " + fmt.Sprint(err))
	}
	say("Dyno log")
	fmt.Print(indent(d.Logs()))
	return nil
}

// pack tells the story the way a user of pack lives it: the buildpack as a
// .cnb, a builder, pack build, podman run, and a rebuild.
func (w *world) pack(ctx context.Context) error {
	packBin := os.Getenv(harness.PackEnv)
	if packBin == "" {
		return fmt.Errorf("%s is not set: run make demo-pack", harness.PackEnv)
	}
	if runtime.GOARCH != "amd64" {
		return fmt.Errorf("the pack demo builds linux/amd64 images; this machine is %s", runtime.GOARCH)
	}
	say("Packaging the buildpack as users get it: make package, then pack buildpack package --format file")
	binDir := filepath.Join(w.work, "release-bin")
	for _, arch := range []string{"amd64", "arm64"} {
		if _, err := harness.BuildBinary(w.root, arch, binDir); err != nil {
			return err
		}
	}
	tree := filepath.Join(w.work, "tree")
	if err := harness.CopyCheckout(w.root, tree); err != nil {
		return err
	}
	if err := testhelpers.Inventory("", w.art).Save(tree); err != nil {
		return err
	}
	lc, err := harness.EnsureLifecycle(w.root)
	if err != nil {
		return err
	}
	say("Starting podman's Docker API (no daemon), making the stack from a Debian root filesystem (first time only)")
	p, err := harness.StartPodman()
	if err != nil {
		return err
	}
	defer p.Close()
	cnbFile, err := harness.PackageCNB(tree, binDir, filepath.Join(w.work, "dist"), packBin, p.Env(), "amd64")
	if err != nil {
		return err
	}
	fmt.Printf("    %s\n", cnbFile)
	stack, err := harness.EnsureStack(ctx, p, os.Stdout)
	if err != nil {
		return err
	}
	tarball := filepath.Join(w.work, "lifecycle.tgz")
	if err := harness.LifecycleTarball(lc, tarball); err != nil {
		return err
	}
	say("pack builder create applinkdemo/builder   (the .cnb, a stand-in for heroku/procfile, lifecycle %s)", harness.LifecycleVersion)
	if _, err := harness.CreateBuilder(ctx, p, packBin, "applinkdemo/builder", stack, tarball,
		harness.BuilderBuildpack{URI: cnbFile, ID: "heroku/heroku-applink"},
		harness.BuilderBuildpack{URI: filepath.Join(w.root, "test/fixtures/buildpacks/procfile"), ID: "test/procfile"}); err != nil {
		return err
	}
	b := harness.PackBuild{Image: "applinkdemo/app", Builder: "applinkdemo/builder", App: w.app,
		Env: map[string]string{"HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL": w.mirror.URL()}}
	build := func(title string) error {
		say("%s", title)
		res, err := p.Build(ctx, packBin, b)
		if err != nil {
			return err
		}
		fmt.Print(indent(res.Output))
		if res.Code != 0 {
			return fmt.Errorf("pack build exited %d", res.Code)
		}
		return nil
	}
	if err := build("pack build applinkdemo/app --builder applinkdemo/builder --env HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL=" + w.mirror.URL()); err != nil {
		return err
	}
	port, err := harness.FreePort()
	if err != nil {
		return err
	}
	say("podman run --network host -e PORT=%d -e HEROKU_APPLINK_API_URL=... -e HEROKU_APPLINK_TOKEN=... applinkdemo/app", port)
	d, err := p.Run("docker.io/applinkdemo/app", port, w.api.Config())
	if err != nil {
		return err
	}
	defer d.Stop()
	if err := w.requests(ctx, d); err != nil {
		return err
	}
	d.Stop()
	before := w.mirror.Requests()
	if err := build("pack build again"); err != nil {
		return err
	}
	say("The mirror served %d request(s) for that build: the layer came back from the image and pack's cache.", w.mirror.Requests()-before)
	return nil
}
