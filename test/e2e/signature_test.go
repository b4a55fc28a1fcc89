package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

// The signature path: releases the inventory does not pin, verified with the
// release key, no gpg anywhere.

func latestObject() string { return "heroku-applink-service-mesh-latest-" + runtime.GOARCH }

func releaseKey(t *testing.T) *testhelpers.SigningKey {
	t.Helper()
	k, err := testhelpers.NewSigningKey("Heroku AppLink Release")
	require.NoError(t, err)
	return k
}

func shipKey(t *testing.T, bpDir string, k *testhelpers.SigningKey) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(bpDir, "keys"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bpDir, "keys/public-key.asc"), k.PublicKey(), 0o644))
}

func TestClassicLatestBySignature(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := releaseKey(t)
	e := newClassicEnv(t, "0.2.2")
	shipKey(t, e.bp.Dir, key)
	e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, key, false)
	app := e.app(t, "sample-app")
	require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "latest"))
	require.NoError(t, app.Deploy(ctx))

	log := app.Output()
	require.Contains(t, log, "-----> Installing Heroku AppLink Service Mesh latest (linux-amd64)\n")
	require.Contains(t, log, " !     Warning: You asked for latest, which this buildpack does not pin.\n")
	require.Contains(t, log, " !     to a pinned version: 0.2.2.\n")
	require.Contains(t, log, "       Verified "+mesh("0.3.0").Checksum()+" (signature by key "+key.Fingerprint+" from the key file "+e.bp.Dir+"/keys/public-key.asc)\n")
	require.Contains(t, log, " !     The signing key's fingerprint is not pinned in this buildpack either")
	require.Equal(t, 1, strings.Count(log, "Warning:"), "said once")
	require.NotContains(t, log, "(pinned checksum)")
	out, err := app.Run(ctx, "heroku-applink-service-mesh -v", nil)
	require.NoError(t, err)
	require.Contains(t, out, "version v0.3.0")
	cached, _ := filepath.Glob(filepath.Join(app.CacheDir(), "heroku-applink-service-mesh/sha256/*"))
	require.Empty(t, cached, "an unpinned release is not kept")

	t.Run("a rebuild downloads and verifies it again", func(t *testing.T) {
		downloads, sigs := e.mirror.Hits(latestObject()), e.mirror.Hits(latestObject()+".asc")
		require.NoError(t, app.Push(ctx))
		require.Equal(t, downloads+1, e.mirror.Hits(latestObject()))
		require.Equal(t, sigs+1, e.mirror.Hits(latestObject()+".asc"))
		require.NotContains(t, app.Output(), "cached copy")
	})

	t.Run("a changed latest is what the next build installs", func(t *testing.T) {
		e.mirror.PublishSigned(latestObject(), mesh("0.2.2").Data, key, false)
		require.NoError(t, app.Push(ctx))
		out, err := app.Run(ctx, "heroku-applink-service-mesh -v", nil)
		require.NoError(t, err)
		require.Contains(t, out, "version v0.2.2")
	})

	t.Run("a signature by another key fails the deploy", func(t *testing.T) {
		mallory := releaseKey(t)
		e.mirror.PublishSigned(latestObject(), meshScript("6.6.6"), mallory, false)
		err := app.Push(ctx)
		require.Error(t, err)
		require.Contains(t, app.Output(), " !     Error: failed to download the service mesh latest (linux-amd64) from ")
		require.Contains(t, app.Output(), "signature verification failed: the file was signed by another key")
		bin, _ := os.ReadDir(filepath.Join(app.BuildDir, "vendor/heroku-applink/bin"))
		require.Empty(t, bin)
	})

	t.Run("a missing signature fails the deploy before the release is fetched", func(t *testing.T) {
		e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, key, false)
		e.mirror.Fault(latestObject()+".asc", notFound)
		downloads := e.mirror.Hits(latestObject())
		require.Error(t, app.Push(ctx))
		require.Contains(t, app.Output(), "failed to download the signature")
		require.Contains(t, app.Output(), "heroku-applink-service-mesh-latest-amd64.asc was not found at")
		require.Equal(t, downloads, e.mirror.Hits(latestObject()))
	})
}

func TestClassicDefaultFallsBackToLatestWithoutAPin(t *testing.T) {
	t.Parallel()
	key := releaseKey(t)
	e := newClassicEnv(t)
	// Only an arm64 release is pinned, and the key's fingerprint: the key may
	// then come from the mirror.
	require.NoError(t, e.bp.SetInventory(testhelpers.Inventory(key.Fingerprint, meshes["0.2.2/arm64"])))
	e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, key, true)
	app := e.app(t, "sample-app")
	require.NoError(t, app.Deploy(context.Background()))
	log := app.Output()
	require.Contains(t, log, " !     Warning: This buildpack pins no release of the service mesh for amd64 yet, so it installs latest.\n")
	require.Contains(t, log, "       Verified "+mesh("0.3.0").Checksum()+" (signature by key "+key.Fingerprint+" from "+e.mirror.URL()+"/public-key.asc)\n")
	require.NotContains(t, log, "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "no advice that cannot be followed")
	require.NotContains(t, log, "not pinned in this buildpack either")
	require.Equal(t, 1, e.mirror.Hits("public-key.asc"))
}

func TestCNBLatestBySignature(t *testing.T) {
	t.Parallel()
	key := releaseKey(t)
	e := newCNBEnv(t, "sample-app", "0.12", stand("0.2.2", "amd64"))
	testhelpers.WriteInventory(t, filepath.Join(e.platform.Buildpacks, "heroku_heroku-applink", bpVersion(t)),
		testhelpers.Inventory(key.Fingerprint, stand("0.2.2", "amd64")))
	e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, key, true)
	require.NoError(t, e.platform.SetEnv("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "latest"))

	res := e.build(t)
	require.Equal(t, 0, res.Code, res.Output)
	require.Contains(t, res.Output, "  - Verified "+mesh("0.3.0").Checksum()+" (signature by key "+key.Fingerprint+" from "+e.mirror.URL()+"/public-key.asc)\n")
	md := e.layerTOML(t)["metadata"].(map[string]any)
	require.Equal(t, map[string]any{"version": "latest", "os": "linux", "arch": "amd64", "url": e.mirror.URL() + "/" + latestObject(),
		"checksum": mesh("0.3.0").Checksum(), "verified": "signature", "signer": key.Fingerprint}, md)
	require.Equal(t, false, e.layerTOML(t)["types"].(map[string]any)["cache"], "an unpinned release's layer is not cached")
	out, err := e.platform.LaunchCommand(context.Background(), "heroku-applink-service-mesh", "-v")
	require.NoError(t, err, out)
	require.Contains(t, out, "version v0.3.0")

	require.NoError(t, e.platform.Restore())
	downloads := e.mirror.Hits(latestObject())
	res = e.build(t)
	require.Equal(t, 0, res.Code, res.Output)
	require.NotContains(t, res.Output, "cached layer")
	require.Equal(t, downloads+1, e.mirror.Hits(latestObject()), "downloaded again")
}

// TestPinRoundTrip pins a release with the maintainers' command, then builds
// with it: the build uses the new pin's checksum and asks for no signature.
func TestPinRoundTrip(t *testing.T) {
	t.Parallel()
	key := releaseKey(t)
	e := newClassicEnv(t)
	require.NoError(t, e.bp.SetInventory(testhelpers.Inventory(key.Fingerprint)))
	for _, arch := range inventory.Architectures {
		a := meshes["0.3.0/"+arch]
		e.mirror.PublishSigned(a.Object(), a.Data, key, true)
	}
	tool := filepath.Join(t.TempDir(), "heroku-applink-release")
	require.NoError(t, harness.BuildGo(repoRoot, "./cmd/heroku-applink-release", runtime.GOARCH, tool))

	inv := filepath.Join(e.bp.Dir, "inventory.toml")
	before := must(os.ReadFile(inv))
	out, err := exec.Command(tool, "pin", "--buildpack", e.bp.Dir, "--mirror", e.mirror.URL(), "--dry-run", "v0.3.0").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "checksum = \""+meshes["0.3.0/arm64"].Checksum()+"\"")
	require.Equal(t, string(before), string(must(os.ReadFile(inv))), "a dry run writes nothing")

	out, err = exec.Command(tool, "pin", "--buildpack", e.bp.Dir, "--mirror", e.mirror.URL(), "v0.3.0").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "-----> Updated "+inv)

	app := e.app(t, "sample-app")
	sigs := e.mirror.Hits(mesh("0.3.0").Object() + ".asc")
	require.NoError(t, app.Deploy(context.Background()))
	require.Contains(t, app.Output(), "       Verified "+mesh("0.3.0").Checksum()+" (pinned checksum)\n")
	require.Equal(t, sigs, e.mirror.Hits(mesh("0.3.0").Object()+".asc"), "a pinned release needs no signature")
}

// TestPinnedKeyRefusesAnotherKey: with key B pinned, a build refuses the
// key A the buildpack ships (classic) or the mirror serves (CNB), and
// leaves nothing.
func TestPinnedKeyRefusesAnotherKey(t *testing.T) {
	t.Parallel()
	t.Run("classic", func(t *testing.T) {
		t.Parallel()
		keyA, keyB := releaseKey(t), releaseKey(t)
		e := newClassicEnv(t)
		shipKey(t, e.bp.Dir, keyA)
		require.NoError(t, e.bp.SetInventory(testhelpers.Inventory(keyB.Fingerprint)))
		e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, keyA, false)
		app := e.app(t, "sample-app")
		var deployErr *harness.DeployError
		require.ErrorAs(t, app.Deploy(context.Background()), &deployErr)
		require.Contains(t, app.Output(), " !     Error: failed to get the release signing key from the key file "+e.bp.Dir+"/keys/public-key.asc: unusable signing key: its fingerprint "+keyA.Fingerprint+" differs from the pinned "+keyB.Fingerprint)
		bin, _ := os.ReadDir(filepath.Join(app.BuildDir, "vendor/heroku-applink/bin"))
		require.Empty(t, bin)
	})
	t.Run("CNB", func(t *testing.T) {
		t.Parallel()
		keyA, keyB := releaseKey(t), releaseKey(t)
		e := newCNBEnv(t, "sample-app", "0.12")
		bpDir := filepath.Join(e.platform.Buildpacks, "heroku_heroku-applink", bpVersion(t))
		testhelpers.WriteInventory(t, bpDir, testhelpers.Inventory(keyB.Fingerprint))
		require.NoError(t, exec.Command("chmod", "-R", "go+rX", bpDir).Run())
		e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, keyA, true)
		res := e.build(t)
		require.Equal(t, 51, res.Code, res.Output)
		require.Contains(t, res.Output, "! Error: failed to get the release signing key from "+e.mirror.URL()+"/public-key.asc: unusable signing key: its fingerprint "+keyA.Fingerprint+" differs from the pinned "+keyB.Fingerprint)
		matches, _ := filepath.Glob(filepath.Join(e.layers(), "service-mesh*"))
		require.Empty(t, matches, "no layer is left to export")
	})
}

// TestNoCredentialIsKept: a mirror URL's user name or password is used for
// the requests and found in no file the build writes (build dir, cache,
// layers, SBOM, export) and in none of its output, on either platform.
func TestNoCredentialIsKept(t *testing.T) {
	t.Parallel()
	secrets := []string{"deploy", "S3CRET", "T0KEN"}
	withCredentials := func(mirror string) []string {
		return []string{strings.Replace(mirror, "http://", "http://deploy:S3CRET@", 1), strings.Replace(mirror, "http://", "http://T0KEN@", 1)}
	}
	assertClean := func(t *testing.T, output string, trees ...string) {
		t.Helper()
		for _, secret := range secrets {
			require.NotContains(t, output, secret)
		}
		for _, tree := range trees {
			require.NoError(t, filepath.Walk(tree, func(p string, info os.FileInfo, err error) error {
				if err != nil || !info.Mode().IsRegular() {
					return err
				}
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				for _, secret := range secrets {
					require.NotContains(t, string(data), secret, p)
				}
				return nil
			}))
		}
	}
	t.Run("classic", func(t *testing.T) {
		t.Parallel()
		key := releaseKey(t)
		e := newClassicEnv(t)
		require.NoError(t, e.bp.SetInventory(testhelpers.Inventory(key.Fingerprint)))
		e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, key, true)
		for _, mirror := range withCredentials(e.mirror.URL()) {
			app := e.app(t, "sample-app")
			require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "latest"))
			require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", mirror))
			require.NoError(t, app.Deploy(context.Background()))
			require.NoError(t, app.Push(context.Background()))
			require.Contains(t, app.Output(), "from http://xxxxx@127.0.0.1", "the key's URL, redacted")
			assertClean(t, app.RawOutput, app.Slug, app.CacheDir(), filepath.Join(e.bp.Dir, "export"))
		}
	})
	t.Run("CNB", func(t *testing.T) {
		t.Parallel()
		key := releaseKey(t)
		e := newCNBEnv(t, "sample-app", "0.12")
		testhelpers.WriteInventory(t, filepath.Join(e.platform.Buildpacks, "heroku_heroku-applink", bpVersion(t)), testhelpers.Inventory(key.Fingerprint))
		e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, key, true)
		require.NoError(t, e.platform.SetEnv("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "latest"))
		for _, mirror := range withCredentials(e.mirror.URL()) {
			require.NoError(t, e.platform.SetEnv("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", mirror))
			res := e.build(t)
			require.Equal(t, 0, res.Code, res.Output)
			_, err := os.Stat(filepath.Join(e.platform.Layers, "sbom/launch/heroku_heroku-applink/service-mesh/sbom.cdx.json"))
			require.NoError(t, err, "the SBOM the image ships is among the files checked")
			assertClean(t, res.Output, e.platform.Layers)
			require.NoError(t, e.platform.Restore())
		}
	})
}
