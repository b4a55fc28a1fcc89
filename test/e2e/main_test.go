// Package e2e is the buildpack's hatchet suite: it runs the real bin/*
// scripts as the platforms do, against fixture apps, a loopback release
// mirror serving a stand-in mesh, a fake AppLink API, a dyno emulator and
// the real CNB lifecycle.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

var (
	repoRoot string
	// binaries maps this machine's arch to the buildpack binary built for it
	// once per run; allBinaries has both release arches, in binDir.
	binaries    = map[string]string{}
	allBinaries = map[string]string{}
	binDir      string
	// webapp is the fixture apps' web process, built for this machine.
	webapp string
	// meshes are stand-in mesh releases by "version/arch".
	meshes = map[string]testhelpers.Artifact{}
)

// tmpPrefix starts the name of every temporary file the buildpack makes.
const tmpPrefix = ".heroku-applink-tmp-"

// meshVersions are the stand-in releases the tests publish.
var meshVersions = []string{"0.2.2", "0.3.0"}

func TestMain(m *testing.M) {
	code := setup(m)
	harness.RemoveLifecycleCopies()
	os.Exit(code)
}

func setup(m *testing.M) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	root, err := harness.RepoRoot()
	if err != nil {
		return fail(err)
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "e2e-bin-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	for _, arch := range inventory.Architectures {
		bin, err := harness.BuildBinary(root, arch, dir)
		if err != nil {
			return fail(err)
		}
		allBinaries[arch] = bin
	}
	binaries[runtime.GOARCH] = allBinaries[runtime.GOARCH]
	binDir = dir
	webapp = filepath.Join(dir, "webapp")
	if err := harness.BuildGo(root, "./test/fixtures/webapp", runtime.GOARCH, webapp); err != nil {
		return fail(err)
	}
	for _, v := range meshVersions {
		for _, arch := range inventory.Architectures {
			a, err := harness.StandInMesh(root, dir, v, arch)
			if err != nil {
				return fail(err)
			}
			meshes[v+"/"+arch] = a
		}
	}
	return m.Run()
}

func fixture(name string) string { return filepath.Join(repoRoot, "test", "fixtures", name) }

// mesh is a stand-in release for this machine's architecture.
func mesh(version string) testhelpers.Artifact { return meshes[version+"/"+runtime.GOARCH] }

// appSource lays out a fixture app with the built web app in it.
func appSource(t interface {
	TempDir() string
	Fatalf(string, ...any)
}, name string) string {
	dir := filepath.Join(t.TempDir(), name)
	if err := harness.PrepareSource(dir, fixture(name), map[string]string{"bin/webapp": webapp}); err != nil {
		t.Fatalf("%v", err)
	}
	return dir
}
