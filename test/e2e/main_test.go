// Package e2e runs the real bin/* scripts as the platforms do, against
// fixture apps and a loopback release mirror.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

var (
	repoRoot string
	// binaries maps an arch to the buildpack binary built for it once per run.
	binaries = map[string]string{}
)

func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	root, err := harness.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := harness.BuildBinary(root, runtime.GOARCH, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binaries[runtime.GOARCH] = bin
	return m.Run()
}

func fixture(name string) string { return filepath.Join(repoRoot, "test", "fixtures", name) }
