package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

// hangGuard bounds every build a test runs: a build that has not ended by
// then hangs. It is no measure of speed, so a loaded machine cannot make a
// passing case fail.
const hangGuard = 2 * time.Minute

// trickle is the end-to-end download fault, once per platform (every
// fault is tested at the fetch layer, internal/fetch TestFaults): a body
// that trickles past the deadline an operator set in the build's
// environment, which must reach the buildpack on both platforms. The build
// fails at the deadline, naming the knob, with nothing unverified left.
func trickle(m *testhelpers.Mirror, a testhelpers.Artifact) map[string]string {
	m.Fault(a.Object(), testhelpers.Trickle(a.Data, 64, 100*time.Millisecond))
	return map[string]string{"HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE": "2", "HEROKU_APPLINK_BUILDPACK_TIMEOUT": "1"}
}

var trickleWant = []string{"too slow: ", " bytes in 2.0s", "HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE"}

// assertNothingUnverified checks that no downloaded byte is anywhere but in
// a verified, named place: no temporary file, no cache entry that does not
// hash to its name, and a binary only if the build succeeded.
func assertNothingUnverified(t *testing.T, dirs []string, binDir string, ok bool, want testhelpers.Artifact) {
	t.Helper()
	for _, dir := range dirs {
		_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return nil
			}
			name := info.Name()
			require.False(t, strings.HasPrefix(name, tmpPrefix), "temporary file left behind: %s", p)
			if info.Mode()&os.ModeSymlink == 0 {
				require.Zero(t, info.Mode().Perm()&0o002, "%s is world-writable", p)
			}
			if filepath.Base(filepath.Dir(p)) == "sha256" && info.Mode().IsRegular() {
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				sum := sha256.Sum256(data)
				require.Equal(t, name, hex.EncodeToString(sum[:]), "cache entry %s holds other bytes", p)
			}
			return nil
		})
	}
	entries, _ := os.ReadDir(binDir)
	if !ok {
		require.Empty(t, entries, "a failed build leaves nothing on PATH")
		return
	}
	data, err := os.ReadFile(filepath.Join(binDir, "heroku-applink-service-mesh"))
	require.NoError(t, err)
	require.Equal(t, want.Data, data)
}

func TestReliabilityClassic(t *testing.T) {
	t.Parallel()
	e := newClassicEnv(t, "0.3.0")
	a := mesh("0.3.0")
	app := e.app(t, "sample-app")
	app.Env = trickle(e.mirror, a)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	require.Error(t, app.Deploy(ctx))
	require.NoError(t, ctx.Err(), "the build ended within its bounds:\n%s", app.Output())
	require.Contains(t, app.Output(), " !     Error: failed to download the service mesh 0.3.0 (linux-amd64)")
	for _, w := range trickleWant {
		require.Contains(t, app.Output(), w)
	}
	assertNothingUnverified(t, []string{app.BuildDir, app.CacheDir()}, filepath.Join(app.BuildDir, "vendor/heroku-applink/bin"), false, a)
}

// TestReliabilityCNB: the same under the lifecycle, with the operator's
// knob set the way a CNB platform sets it: in its build configuration's
// env, which reaches the buildpack whatever its clear-env.
func TestReliabilityCNB(t *testing.T) {
	t.Parallel()
	a := stand("0.3.0", "amd64")
	e := newCNBEnv(t, "sample-app", "0.12", a)
	for k, v := range trickle(e.mirror, a) {
		require.NoError(t, e.platform.SetOperatorEnv(k, v))
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	res := e.buildCtx(t, ctx)
	require.NoError(t, ctx.Err(), "the build ended within its bounds:\n%s", res.Output)
	require.Equal(t, 51, res.Code, res.Output)
	for _, w := range trickleWant {
		require.Contains(t, res.Output, w)
	}
	assertNothingUnverified(t, []string{e.platform.Layers}, filepath.Join(e.layers(), "service-mesh/bin"), false, a)
	_, err := os.Stat(filepath.Join(e.layers(), "service-mesh.toml"))
	require.True(t, os.IsNotExist(err), "no layer metadata after a failure")
}

// TestReliabilityTableNamesRealTests keeps docs/RELIABILITY.md's second
// table honest: every case it lists is a subtest of the test it names.
func TestReliabilityTableNamesRealTests(t *testing.T) {
	rows := testhelpers.DocTable(t, filepath.Join(repoRoot, "docs/RELIABILITY.md"), "Cache, filesystem and configuration faults")
	require.Greater(t, len(rows), 20)
	sources := map[string]string{}
	files, err := filepath.Glob(filepath.Join(repoRoot, "test/e2e/*_test.go"))
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		sources[f] = string(data)
	}
	for _, row := range rows[1:] {
		name, test := row[0], strings.Trim(row[2], "`")
		found := false
		for _, src := range sources {
			if strings.Contains(src, "func "+test+"(") && strings.Contains(src, `"`+name+`"`) {
				found = true
			}
		}
		require.True(t, found, "row %q names no case of %s", name, test)
	}
}
