// Package pack builds the sample app with the real CNB client: the
// buildpack packaged as users get it (a .cnb made by pack), in a builder
// made by pack from a local stack and the lifecycle, built by pack through
// podman, booted with podman, against a loopback mirror and the stand-in
// mesh. `make test-pack` runs it; nothing is pulled from a registry.
//
// `make test-pack BUILDER=heroku/builder:24` runs the same cases against
// that builder instead, as users build on it: pulled, with the .cnb and
// the builder's own heroku/procfile given to pack build, for this
// machine's architecture (ENGINE=docker builds through a Docker daemon).
package pack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

// world is what every case shares: built once in TestMain, torn down even
// when a case fails.
type world struct {
	root, work string
	pack       string
	// builderImage is the named builder to build with, or empty for the
	// local one; arch is the architecture the images are built for.
	builderImage string
	arch         string
	engine       *harness.Podman
	stack        harness.Stack
	lifecycle    string
	mirror       *testhelpers.Mirror
	api          *harness.AppLink
	key          *testhelpers.SigningKey
	keyFile      string
	meshes       map[string]testhelpers.Artifact
	binDir       string
	tree         string
	app          string
	version      string
}

var w world

// step bounds every command a case runs: a guard against hanging, not a
// measure of speed.
const step = 5 * time.Minute

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	teardown()
	os.Exit(code)
}

func teardown() {
	if w.engine != nil {
		w.engine.Close()
	}
	if w.mirror != nil {
		w.mirror.Close()
	}
	if w.api != nil {
		w.api.Close()
	}
	if w.work != "" {
		os.RemoveAll(w.work)
	}
}

func setup(m *testing.M) (int, error) {
	w.builderImage, w.arch = os.Getenv(harness.BuilderEnv), "amd64"
	switch {
	case w.builderImage != "":
		w.arch = runtime.GOARCH
	case runtime.GOARCH != "amd64":
		return 0, fmt.Errorf("make test-pack builds linux/amd64 images; this machine is %s (BUILDER=<image> builds for it)", runtime.GOARCH)
	}
	var err error
	if w.root, err = harness.RepoRoot(); err != nil {
		return 0, err
	}
	if w.pack = os.Getenv(harness.PackEnv); w.pack == "" {
		return 0, fmt.Errorf("%s is not set: run `make test-pack`, which builds pack %s from test/tools", harness.PackEnv, harness.PackVersion)
	}
	if w.work, err = harness.ReachableTempDir("test-pack-"); err != nil {
		return 0, err
	}
	if w.version, err = harness.BuildpackVersion(w.root); err != nil {
		return 0, err
	}
	ctx := context.Background()
	fmt.Println("-----> Building the buildpack, the stand-in mesh releases and the sample app")
	w.binDir = filepath.Join(w.work, "bin")
	for _, arch := range inventory.Architectures {
		if _, err := harness.BuildBinary(w.root, arch, w.binDir); err != nil {
			return 0, err
		}
	}
	w.mirror = testhelpers.NewMirror()
	if w.key, err = testhelpers.NewSigningKey("Heroku AppLink Release"); err != nil {
		return 0, err
	}
	w.meshes = map[string]testhelpers.Artifact{}
	for _, v := range []string{"0.2.2", "0.3.0"} {
		for _, arch := range inventory.Architectures {
			a, err := harness.StandInMesh(w.root, w.work, v, arch)
			if err != nil {
				return 0, err
			}
			w.meshes[v+"/"+arch] = a
			w.mirror.PublishSigned(a.Object(), a.Data, w.key, true)
		}
	}
	w.keyFile = filepath.Join(w.work, "release-key.asc")
	if err := os.WriteFile(w.keyFile, w.key.PublicKey(), 0o644); err != nil {
		return 0, err
	}
	w.api = harness.NewAppLink("applink-token", connectedOrg)
	webapp := filepath.Join(w.work, "webapp")
	if err := harness.BuildGo(w.root, "./test/fixtures/webapp", w.arch, webapp); err != nil {
		return 0, err
	}
	w.app = filepath.Join(w.work, "app")
	if err := harness.PrepareSource(w.app, filepath.Join(w.root, "test/fixtures/sample-app"), map[string]string{"bin/webapp": webapp}); err != nil {
		return 0, err
	}
	// A release tree of this repository, whose inventory the cases pin.
	w.tree = filepath.Join(w.work, "tree")
	if err := harness.CopyCheckout(w.root, w.tree); err != nil {
		return 0, err
	}

	if w.builderImage != "" {
		if err := setupBuilder(ctx); err != nil {
			return 0, err
		}
		return run(m), nil
	}
	fmt.Println("-----> Starting podman and making the stack, the lifecycle and its image")
	lc, err := harness.EnsureLifecycle(w.root)
	if err != nil {
		return 0, err
	}
	if w.engine, err = harness.StartPodman(); err != nil {
		return 0, err
	}
	if w.stack, err = harness.EnsureStack(ctx, w.engine, os.Stdout); err != nil {
		return 0, err
	}
	w.lifecycle = filepath.Join(w.work, "lifecycle.tgz")
	if err := harness.LifecycleTarball(lc, w.lifecycle); err != nil {
		return 0, err
	}
	if err := harness.EnsureLifecycleImage(ctx, w.engine, lc); err != nil {
		return 0, err
	}
	return run(m), nil
}

// appImages are the images the cases build.
var appImages = []string{"docker.io/applinktest/app", "docker.io/applinktest/untrusted", "docker.io/applinktest/tampered"}

// run runs the cases from a clean slate: the storage is kept between runs
// for the stack images, and an app image left by a previous run would make
// the first build reuse its layer.
func run(m *testing.M) int {
	w.engine.RemoveImages(context.Background(), appImages...)
	return m.Run()
}

// setupBuilder starts the engine and pulls the named builder unless it is
// there; pack pulls its run image with the first build.
func setupBuilder(ctx context.Context) error {
	var err error
	if os.Getenv(harness.EngineEnv) == "docker" {
		fmt.Println("-----> Using the Docker daemon")
		w.engine, err = harness.UseDocker(ctx)
	} else {
		fmt.Println("-----> Starting podman")
		w.engine, err = harness.StartPodman()
	}
	if err != nil {
		return err
	}
	if w.engine.ImageExists(harness.Qualified(w.builderImage)) {
		// As pack's if-not-present: a builder pulled before is used as it is.
		fmt.Printf("-----> Using %s as pulled before\n", w.builderImage)
		return nil
	}
	fmt.Printf("-----> Pulling %s (linux/%s)\n", w.builderImage, w.arch)
	pull, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	_, err = w.engine.Pull(pull, w.builderImage)
	return err
}

const connectedOrg = "00DCONNECTED0001"

// packageBuildpack pins inv in the release tree and packages it as users
// get it: `make package`'s directories, then pack's .cnb.
func packageBuildpack(t *testing.T, inv inventory.Inventory) string {
	t.Helper()
	testhelpers.WriteInventory(t, w.tree, inv)
	return packageTree(t)
}

func packageTree(t *testing.T) string {
	t.Helper()
	// Not in t.TempDir(), whose name holds the case's: pack build splits
	// --buildpack at commas.
	dist, err := os.MkdirTemp(w.work, "dist-")
	require.NoError(t, err)
	cnb, err := harness.PackageCNB(w.tree, w.binDir, dist, w.pack, w.engine.Env(), w.arch)
	require.NoError(t, err, "pack buildpack package warns about nothing in our descriptor")
	return cnb
}

// builder is how a build of image gets the buildpack in the .cnb, as
// users would: offline, a builder named name made with pack from the .cnb
// and the stand-in for heroku/procfile; with a named builder, that builder
// with the .cnb and its own heroku/procfile given to pack build.
func builder(t *testing.T, name, cnb, image string, env map[string]string) harness.PackBuild {
	t.Helper()
	if w.builderImage != "" {
		return harness.PackBuild{Image: image, Builder: w.builderImage, Buildpacks: []string{cnb, "heroku/procfile"},
			Env: env, PullPolicy: "if-not-present"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), step)
	defer cancel()
	_, err := harness.CreateBuilder(ctx, w.engine, w.pack, name, w.stack, w.lifecycle,
		harness.BuilderBuildpack{URI: cnb, ID: "heroku/heroku-applink"},
		harness.BuilderBuildpack{URI: filepath.Join(w.root, "test/fixtures/buildpacks/procfile"), ID: "test/procfile"})
	require.NoError(t, err)
	return harness.PackBuild{Image: image, Builder: name, Env: env, LifecycleImage: harness.LifecycleImage}
}

// mesh is a stand-in release for the architecture the images are built for.
func mesh(version string) testhelpers.Artifact { return w.meshes[version+"/"+w.arch] }

func build(t *testing.T, b harness.PackBuild) harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), step)
	defer cancel()
	if b.App == "" {
		b.App = w.app
	}
	res, err := w.engine.Build(ctx, w.pack, b)
	require.NoError(t, err)
	require.NoError(t, ctx.Err(), "the build ended within its bound:\n%s", res.Output)
	return res
}

func mirrorEnv(mirror string) map[string]string {
	return map[string]string{"HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL": mirror}
}

// boot runs the image's web process and checks it the way Salesforce and
// Heroku's router reach it: through the mesh on $PORT.
func boot(t *testing.T, image, version string) {
	t.Helper()
	port, err := harness.FreePort()
	require.NoError(t, err)
	d, err := w.engine.Run(image, port, w.api.Config())
	require.NoError(t, err)
	defer d.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), step)
	defer cancel()
	require.NoError(t, d.WaitHealthy(ctx, "/healthcheck", time.Minute), d.Logs())

	res, err := d.Get(ctx, "/healthcheck", nil)
	require.NoError(t, err)
	require.Equal(t, 200, res.Code)
	res, err = d.Get(ctx, "/", nil)
	require.NoError(t, err)
	require.Equal(t, 401, res.Code, "a request without AppLink headers is refused")
	before := w.api.Calls()
	res, err = d.Get(ctx, "/accounts?limit=2", harness.InvocationHeaders(connectedOrg, "admin@example.com"))
	require.NoError(t, err)
	require.Equal(t, 200, res.Code, res.Body)
	require.Equal(t, before+1, w.api.Calls(), "the mesh authenticated the request with the AppLink API")
	require.Contains(t, res.Body, `"orgId":"`+connectedOrg+`"`, "the request reached the app, with its client context")
	res, err = d.Get(ctx, "/__herokuAppLinkServiceMeshInfo", nil)
	require.NoError(t, err, d.Logs())
	require.True(t, strings.HasPrefix(res.Body, "v"+version+" "), "the mesh is %s: %s", version, res.Body)
	exited, _ := d.Exited()
	require.False(t, exited, "the container still runs after the requests:\n%s", d.Logs())
}

func TestPackBuild(t *testing.T) {
	first, second := mesh("0.2.2"), mesh("0.3.0")
	credentialed := strings.Replace(w.mirror.URL(), "http://", "http://deploy:S3CRET@", 1)
	image := builder(t, "applinktest/builder", packageBuildpack(t, testhelpers.Inventory(w.key.Fingerprint, w.meshes["0.2.2/amd64"], w.meshes["0.2.2/arm64"])),
		"applinktest/app", mirrorEnv(credentialed))
	var firstLayer string

	t.Run("pack build installs the pinned release", func(t *testing.T) {
		res := build(t, image)
		require.Equal(t, 0, res.Code, res.Output)
		for _, want := range []string{
			"- Installing Heroku AppLink Service Mesh 0.2.2 (linux-" + w.arch + ")\n",
			"  - Downloading from http://xxxxx@127.0.0.1",
			"  - Verified " + first.Checksum() + " (pinned checksum)\n",
			"Adding layer 'heroku/heroku-applink:service-mesh'",
			"Successfully built image 'applinktest/app'",
		} {
			require.Contains(t, res.Output, want)
		}
		require.NotContains(t, res.Output, "S3CRET")
		require.Equal(t, 1, w.mirror.Hits(first.Object()))
		var err error
		firstLayer, err = w.engine.LayerDiffID(context.Background(), "docker.io/applinktest/app", "heroku/heroku-applink", "service-mesh")
		require.NoError(t, err)
	})

	t.Run("the image boots and serves through the mesh", func(t *testing.T) {
		boot(t, "docker.io/applinktest/app", "0.2.2")
	})

	t.Run("pack sbom download yields the layer's SBOM, without credentials", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(w.pack, "sbom", "download", "applinktest/app", "--output-dir", dir)
		cmd.Env = w.engine.Env()
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		data, err := os.ReadFile(filepath.Join(dir, "layers/sbom/launch/heroku_heroku-applink/service-mesh/sbom.cdx.json"))
		require.NoError(t, err)
		var bom struct {
			BOMFormat  string
			Components []struct {
				Name, Version string
				Hashes        []struct{ Alg, Content string }
			}
		}
		require.NoError(t, json.Unmarshal(data, &bom))
		require.Equal(t, "CycloneDX", bom.BOMFormat)
		require.Equal(t, "heroku-applink-service-mesh", bom.Components[0].Name)
		require.Equal(t, "0.2.2", bom.Components[0].Version)
		require.Equal(t, "SHA-256", bom.Components[0].Hashes[0].Alg)
		require.Equal(t, first.Hex(), bom.Components[0].Hashes[0].Content)
		labels, err := w.engine.Labels(context.Background(), "docker.io/applinktest/app")
		require.NoError(t, err)
		for _, secret := range []string{"S3CRET", "deploy:"} {
			require.NotContains(t, string(data), secret)
			require.NotContains(t, labels, secret)
		}
	})

	t.Run("a rebuild reuses the layer with zero requests", func(t *testing.T) {
		before := w.mirror.Requests()
		res := build(t, image)
		require.Equal(t, 0, res.Code, res.Output)
		require.Contains(t, res.Output, "  - Using the cached layer (")
		require.Contains(t, res.Output, "  - Verified "+first.Checksum()+" (pinned checksum)\n")
		require.Equal(t, before, w.mirror.Requests(), "no request to the mirror")
		layer, err := w.engine.LayerDiffID(context.Background(), "docker.io/applinktest/app", "heroku/heroku-applink", "service-mesh")
		require.NoError(t, err)
		require.Equal(t, firstLayer, layer, "the app image's mesh layer is unchanged")
	})

	t.Run("pinning a new version reinstalls it, and it boots", func(t *testing.T) {
		tool := filepath.Join(t.TempDir(), "heroku-applink-release")
		require.NoError(t, harness.BuildGo(w.root, "./cmd/heroku-applink-release", runtime.GOARCH, tool))
		out, err := exec.Command(tool, "pin", "--buildpack", w.tree, "--mirror", w.mirror.URL(), "--key", w.keyFile, "v0.3.0").CombinedOutput()
		require.NoError(t, err, string(out))
		res := build(t, builder(t, "applinktest/builder", packageTree(t), "applinktest/app", mirrorEnv(w.mirror.URL())))
		require.Equal(t, 0, res.Code, res.Output)
		require.Contains(t, res.Output, "  - Discarding the cached layer: it holds "+first.Checksum()+", not the pinned "+second.Checksum()+"\n")
		require.Contains(t, res.Output, "  - Verified "+second.Checksum()+" (pinned checksum)\n")
		boot(t, "docker.io/applinktest/app", "0.3.0")
	})

	t.Run("a tampered pin fails the build and makes no image", func(t *testing.T) {
		tampered := testhelpers.Inventory(w.key.Fingerprint, second)
		tampered.Artifacts[0].Checksum = first.Checksum()
		res := build(t, builder(t, "applinktest/tampered-builder", packageBuildpack(t, tampered), "applinktest/tampered", mirrorEnv(w.mirror.URL())))
		require.NotEqual(t, 0, res.Code, res.Output)
		require.Contains(t, res.Output, "checksum mismatch: expected "+first.Checksum()+", got "+second.Checksum())
		require.Contains(t, res.Output, "! The downloaded file does not match the checksum pinned in this buildpack.")
		require.False(t, w.engine.ImageExists("docker.io/applinktest/tampered"), "no image is produced")
	})

	t.Run("the untrusted five-container flow builds too", func(t *testing.T) {
		b := builder(t, "applinktest/builder", packageBuildpack(t, testhelpers.Inventory(w.key.Fingerprint, first)), "applinktest/untrusted", mirrorEnv(w.mirror.URL()))
		b.Untrusted = true
		res := build(t, b)
		require.Equal(t, 0, res.Code, res.Output)
		for _, phase := range []string{"===> ANALYZING", "===> DETECTING", "===> RESTORING", "===> BUILDING", "===> EXPORTING"} {
			require.Contains(t, res.Output, phase)
		}
		require.Contains(t, res.Output, "  - Verified "+first.Checksum()+" (pinned checksum)\n")
		boot(t, "docker.io/applinktest/untrusted", "0.2.2")
	})
}
