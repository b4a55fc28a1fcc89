// Package shim checks the bin/ shims of a source checkout as a user meets
// them: with no binary anywhere, under env -i PATH=/usr/bin:/bin and no
// HOME, the first call builds the buildpack from source, and later calls
// reuse that build until a source changes. `make test-shim` runs it: it
// compiles everything from scratch, so it is kept out of `make test`.
package shim

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

func TestShimBuildsFromSourceInAScrubbedEnvironment(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	checkout := filepath.Join(t.TempDir(), "checkout")
	require.NoError(t, harness.CopyCheckout(root, checkout))
	mesh := testhelpers.FakeMesh("0.2.2", runtime.GOARCH)
	mirror := testhelpers.StartMirror(t)
	mirror.Put(mesh.Object(), mesh.Data)
	testhelpers.WriteInventory(t, checkout, testhelpers.Inventory("", mesh))

	build, cache, env := t.TempDir(), t.TempDir(), t.TempDir()
	require.NoError(t, harness.PrepareSource(build, filepath.Join(root, "test/fixtures/sample-app"), nil))
	require.NoError(t, os.WriteFile(filepath.Join(env, config.VarMirror), []byte(mirror.URL()), 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run := func(args ...string) (string, string, error) {
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "env", append([]string{"-i", "PATH=/usr/bin:/bin"}, args...)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	stdout, stderr, err := run(filepath.Join(checkout, "bin/compile"), build, cache, env)
	require.NoError(t, err, stdout+stderr)
	require.Contains(t, stderr, "-----> Building the buildpack binary for linux/"+runtime.GOARCH+" from source: a one-time build that takes a few minutes\n")
	require.Contains(t, stderr, "github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install\n", "the Go tool's progress")
	require.NotContains(t, stdout, "github.com/", "the build log on stdout carries none of the Go tool's output")
	require.Contains(t, stdout, "Verified "+mesh.Checksum())

	stdout, stderr, err = run(filepath.Join(checkout, "bin/report"), build, cache, env)
	require.NoError(t, err, stderr)
	require.Contains(t, stdout, `"mesh_version": "0.2.2"`)
	require.Empty(t, stderr, "the second run reuses the binary without rebuilding")

	// A source newer than the last build makes the next call rebuild. The
	// edit is dated just after the stamp the last build left, not
	// time.Now(): the kernel stamps files from a clock that can trail
	// time.Now() by a tick, so a source dated "now" could still be newer
	// than the stamp the rebuild is about to take, and rebuild once more.
	stamp, err := os.Stat(filepath.Join(checkout, ".build/linux-"+runtime.GOARCH+"/heroku-applink-buildpack.stamp"))
	require.NoError(t, err)
	edited := stamp.ModTime().Add(time.Millisecond)
	require.NoError(t, os.Chtimes(filepath.Join(checkout, "internal/output/output.go"), edited, edited))
	_, stderr, err = run(filepath.Join(checkout, "bin/report"), build, cache, env)
	require.NoError(t, err, stderr)
	require.Contains(t, stderr, "-----> Building the buildpack binary for linux/"+runtime.GOARCH+" from source")
	_, stderr, err = run(filepath.Join(checkout, "bin/report"), build, cache, env)
	require.NoError(t, err)
	require.Empty(t, stderr)
}
