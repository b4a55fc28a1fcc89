package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
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
	require.Contains(t, log, "       Verified "+mesh("0.3.0").Checksum()+" (signature by key "+key.Fingerprint+" from the key file "+e.bp.Dir+"/keys/public-key.asc)\n")
	require.Contains(t, log, " !     Warning: The signing key "+key.Fingerprint+" is not pinned in this buildpack:\n")
	require.NotContains(t, log, "(pinned checksum)")
	out, err := app.Run(ctx, "heroku-applink-service-mesh -v", nil)
	require.NoError(t, err)
	require.Contains(t, out, "version v0.3.0")

	t.Run("an unchanged latest is reused after asking for its signature", func(t *testing.T) {
		before, downloads := e.mirror.Requests(), e.mirror.Hits(latestObject())
		require.NoError(t, app.Push(ctx))
		require.Equal(t, before+1, e.mirror.Requests(), "the signature; the key ships in the buildpack")
		require.Equal(t, downloads, e.mirror.Hits(latestObject()))
		require.Contains(t, app.Output(), "       Unchanged at its source (the same signature): using the cached copy (")
	})

	t.Run("unsigned bytes planted in the cache with a checksum to match are not installed", func(t *testing.T) {
		cache := filepath.Join(app.CacheDir(), "heroku-applink-service-mesh")
		evil := meshScript("6.6.6")
		evilSum := testhelpers.Artifact{Data: evil}.Digest()
		require.NoError(t, os.WriteFile(filepath.Join(cache, "sha256", evilSum.Hex()), evil, 0o600))
		index, err := os.ReadFile(filepath.Join(cache, "index.toml"))
		require.NoError(t, err)
		poisoned := strings.ReplaceAll(string(index), mesh("0.3.0").Digest().Hex(), evilSum.Hex())
		require.NotEqual(t, string(index), poisoned)
		require.NoError(t, os.WriteFile(filepath.Join(cache, "index.toml"), []byte(poisoned), 0o600))

		require.NoError(t, app.Push(ctx))
		require.Contains(t, app.Output(), "       Discarding the cached copy: its recorded signature does not verify over it: ")
		require.NotContains(t, app.Output(), "Unchanged at its source")
		out, err := app.Run(ctx, "heroku-applink-service-mesh -v", nil)
		require.NoError(t, err)
		require.Contains(t, out, "version v0.3.0")
	})

	t.Run("an older release the key signed, planted in the cache with its signature, is not installed", func(t *testing.T) {
		cache := filepath.Join(app.CacheDir(), "heroku-applink-service-mesh")
		older := mesh("0.2.2")
		require.NoError(t, os.WriteFile(filepath.Join(cache, "sha256", older.Digest().Hex()), older.Data, 0o600))
		index, err := os.ReadFile(filepath.Join(cache, "index.toml"))
		require.NoError(t, err)
		var idx struct {
			Releases []map[string]any `toml:"releases"`
		}
		require.NoError(t, toml.Unmarshal(index, &idx))
		idx.Releases[0]["checksum"] = older.Checksum()
		idx.Releases[0]["signature"] = string(key.Sign(older.Data))
		var buf strings.Builder
		require.NoError(t, toml.NewEncoder(&buf).Encode(idx))
		require.NoError(t, os.WriteFile(filepath.Join(cache, "index.toml"), []byte(buf.String()), 0o600))

		require.NoError(t, app.Push(ctx))
		require.Contains(t, app.Output(), "       Discarding the cached copy: the release changed at its source (it publishes another signature)\n")
		out, err := app.Run(ctx, "heroku-applink-service-mesh -v", nil)
		require.NoError(t, err)
		require.Contains(t, out, "version v0.3.0", "what latest is at its source, not what the cache says")
	})

	t.Run("a changed latest is downloaded and verified again", func(t *testing.T) {
		e.mirror.PublishSigned(latestObject(), mesh("0.2.2").Data, key, false)
		require.NoError(t, app.Push(ctx))
		require.Contains(t, app.Output(), "(signature by key "+key.Fingerprint+" from the key file")
		out, err := app.Run(ctx, "heroku-applink-service-mesh -v", nil)
		require.NoError(t, err)
		require.Contains(t, out, "version v0.2.2")
	})

	t.Run("a signature by another key fails the deploy", func(t *testing.T) {
		mallory := releaseKey(t)
		e.mirror.PublishSigned(latestObject(), meshScript("6.6.6"), mallory, false)
		err := app.Push(ctx)
		require.Error(t, err)
		require.Contains(t, app.Output(), " !     Error: signature verification failed: the file was signed by another key")
		if bin, err := os.ReadDir(filepath.Join(app.BuildDir, "vendor/heroku-applink/bin")); err == nil {
			require.Empty(t, bin)
		}
	})

	t.Run("a missing signature fails the deploy", func(t *testing.T) {
		e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, key, false)
		e.mirror.Fault(latestObject()+".asc", notFound)
		require.Error(t, app.Push(ctx))
		require.Contains(t, app.Output(), "failed to download the signature")
		require.Contains(t, app.Output(), "The release has no signature at that address")
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
	require.Contains(t, log, " !     Warning: This buildpack pins no release for amd64, so it installs latest.\n")
	require.Contains(t, log, "       Verified "+mesh("0.3.0").Checksum()+" (signature by key "+key.Fingerprint+" from "+e.mirror.URL()+"/public-key.asc)\n")
	require.NotContains(t, log, "unpinned key")
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
	require.Equal(t, "latest", md["version"])
	require.Equal(t, mesh("0.3.0").Checksum(), md["checksum"])
	require.Equal(t, key.Fingerprint, md["signer"])
	require.Equal(t, e.mirror.URL()+"/public-key.asc", md["key-source"])
	out, err := e.platform.LaunchCommand(context.Background(), "heroku-applink-service-mesh", "-v")
	require.NoError(t, err, out)
	require.Contains(t, out, "version v0.3.0")

	require.Contains(t, md["signature"], "-----BEGIN PGP SIGNATURE-----", "the layer keeps its evidence")

	require.NoError(t, e.platform.Restore())
	before, sigs := e.mirror.Requests(), e.mirror.Hits(latestObject()+".asc")
	res = e.build(t)
	require.Equal(t, 0, res.Code, res.Output)
	require.Contains(t, res.Output, "  - Unchanged at its source (the same signature): using the cached layer (")
	require.Equal(t, before+2, e.mirror.Requests(), "the key and the signature, to judge the kept layer by")
	require.Equal(t, sigs+1, e.mirror.Hits(latestObject()+".asc"))

	e.mirror.PublishSigned(latestObject(), mesh("0.2.2").Data, key, true)
	require.NoError(t, e.platform.Restore())
	res = e.build(t)
	require.Equal(t, 0, res.Code, res.Output)
	require.Contains(t, res.Output, "  - Discarding the cached layer: the release changed at its source")
	require.Equal(t, mesh("0.2.2").Checksum(), e.layerTOML(t)["metadata"].(map[string]any)["checksum"])
}

// TestPinRoundTrip pins a release with the maintainers' command, then builds
// with it: the build uses the new pin's checksum and asks for no signature.
func TestPinRoundTrip(t *testing.T) {
	t.Parallel()
	key := releaseKey(t)
	e := newClassicEnv(t)
	require.NoError(t, e.bp.SetInventory(testhelpers.Inventory(key.Fingerprint)))
	for _, arch := range source.Architectures {
		a := meshes["0.3.0/"+arch]
		e.mirror.PublishSigned(a.Object(), a.Data, key, true)
	}
	tool := filepath.Join(t.TempDir(), "heroku-applink-pin")
	require.NoError(t, harness.BuildGo(repoRoot, "./cmd/heroku-applink-pin", runtime.GOARCH, tool))

	inv := filepath.Join(e.bp.Dir, "inventory.toml")
	before := must(os.ReadFile(inv))
	out, err := exec.Command(tool, "--buildpack", e.bp.Dir, "--mirror", e.mirror.URL(), "--dry-run", "v0.3.0").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "checksum = \""+meshes["0.3.0/arm64"].Checksum()+"\"")
	require.Equal(t, string(before), string(must(os.ReadFile(inv))), "a dry run writes nothing")

	out, err = exec.Command(tool, "--buildpack", e.bp.Dir, "--mirror", e.mirror.URL(), "v0.3.0").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "-----> Updated "+inv)

	app := e.app(t, "sample-app")
	sigs := e.mirror.Hits(mesh("0.3.0").Object() + ".asc")
	require.NoError(t, app.Deploy(context.Background()))
	require.Contains(t, app.Output(), "       Verified "+mesh("0.3.0").Checksum()+" (pinned checksum)\n")
	require.Equal(t, sigs, e.mirror.Hits(mesh("0.3.0").Object()+".asc"), "a pinned release needs no signature")
}

// TestPinnedKeyRefusesWhatAnotherKeySigned is the attack on the cache: a
// release cached (classic) or restored (CNB) after a signature by key A,
// verified against a key that was not pinned, must be refused once the
// buildpack pins key B, exactly as it is with an empty cache.
func TestPinnedKeyRefusesWhatAnotherKeySigned(t *testing.T) {
	t.Parallel()
	t.Run("classic cache", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		keyA, keyB := releaseKey(t), releaseKey(t)
		e := newClassicEnv(t)
		shipKey(t, e.bp.Dir, keyA)
		e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, keyA, false)
		app := e.app(t, "sample-app")
		require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "latest"))
		require.NoError(t, app.Deploy(ctx))
		require.Contains(t, app.Output(), "verified against an unpinned key")

		require.NoError(t, e.bp.SetInventory(testhelpers.Inventory(keyB.Fingerprint)))
		err := app.Push(ctx)
		var deployErr *harness.DeployError
		require.ErrorAs(t, err, &deployErr)
		require.Contains(t, app.Output(), "       Discarding the cached copy: it was signed by key "+keyA.Fingerprint+"; this build accepts only key "+keyB.Fingerprint+"\n")
		require.Contains(t, app.Output(), " !     Error: signing key fingerprint "+keyA.Fingerprint+" differs from the pinned "+keyB.Fingerprint)
		require.NotContains(t, app.Output(), "Unchanged at its source", "the copy was refused before its source was asked")
		bin, _ := os.ReadDir(filepath.Join(app.BuildDir, "vendor/heroku-applink/bin"))
		require.Empty(t, bin)
	})
	t.Run("CNB restored layer", func(t *testing.T) {
		t.Parallel()
		keyA, keyB := releaseKey(t), releaseKey(t)
		e := newCNBEnv(t, "sample-app", "0.12")
		bpDir := filepath.Join(e.platform.Buildpacks, "heroku_heroku-applink", bpVersion(t))
		shipKey(t, bpDir, keyA)
		require.NoError(t, exec.Command("chmod", "-R", "go+rX", bpDir).Run())
		e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, keyA, false)
		require.NoError(t, e.platform.SetEnv("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "latest"))
		res := e.build(t)
		require.Equal(t, 0, res.Code, res.Output)

		testhelpers.WriteInventory(t, bpDir, testhelpers.Inventory(keyB.Fingerprint))
		require.NoError(t, e.platform.Restore())
		res = e.build(t)
		require.Equal(t, 51, res.Code, res.Output)
		require.Contains(t, res.Output, "  - Discarding the cached layer: it was signed by key "+keyA.Fingerprint+"; this build accepts only key "+keyB.Fingerprint+"\n")
		require.Contains(t, res.Output, "! Error: signing key fingerprint "+keyA.Fingerprint+" differs from the pinned "+keyB.Fingerprint)
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
			require.Contains(t, app.Output(), "Unchanged at its source (the same signature)")
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
