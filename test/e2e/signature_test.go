package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

// The signature path: releases the inventory does not pin, verified with the
// release key, no gpg anywhere.

func latestObject() string { return "heroku-applink-service-mesh-latest-" + runtime.GOARCH }

func releaseKey(t *testing.T) *harness.SigningKey {
	t.Helper()
	k, err := harness.NewSigningKey("Heroku AppLink Release")
	require.NoError(t, err)
	return k
}

func shipKey(t *testing.T, bpDir string, k *harness.SigningKey) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(bpDir, "keys"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bpDir, "keys/public-key.asc"), k.PublicKey(), 0o644))
}

func pinKey(fingerprint string) string {
	return "\n[metadata.signing]\nfingerprint = \"" + fingerprint + "\"\n"
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
	require.Contains(t, log, "       Verified signature by key "+key.Fingerprint+" (from the key file "+e.bp.Dir+"/keys/public-key.asc)\n")
	require.Contains(t, log, " !     Warning: The signing key "+key.Fingerprint+" is not pinned in this buildpack:\n")
	require.NotContains(t, log, "(pinned checksum)")
	out, err := app.Run(ctx, "heroku-applink-service-mesh -v", nil)
	require.NoError(t, err)
	require.Contains(t, out, "version v0.3.0")

	t.Run("an unchanged latest is reused after one conditional request", func(t *testing.T) {
		before := e.mirror.Requests()
		require.NoError(t, app.Push(ctx))
		require.Equal(t, before+1, e.mirror.Requests())
		require.Contains(t, app.Output(), "Unchanged since it was cached (304 Not Modified)")
	})

	t.Run("a changed latest is downloaded and verified again", func(t *testing.T) {
		e.mirror.PublishSigned(latestObject(), mesh("0.2.2").Data, key, false)
		require.NoError(t, app.Push(ctx))
		require.Contains(t, app.Output(), "Verified signature by key "+key.Fingerprint)
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
	require.NoError(t, e.bp.SetInventory(repoRoot, harness.Inventory(meshes["0.2.2/arm64"])+pinKey(key.Fingerprint)))
	e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, key, true)
	app := e.app(t, "sample-app")
	require.NoError(t, app.Deploy(context.Background()))
	log := app.Output()
	require.Contains(t, log, " !     Warning: This buildpack pins no release for amd64, so it installs latest.\n")
	require.Contains(t, log, "       Verified signature by key "+key.Fingerprint+" (from "+e.mirror.URL()+"/public-key.asc)\n")
	require.NotContains(t, log, "unpinned key")
	require.Equal(t, 1, e.mirror.Hits("public-key.asc"))
}

func TestCNBLatestBySignature(t *testing.T) {
	t.Parallel()
	key := releaseKey(t)
	e := newCNBEnv(t, "sample-app", "0.12", stand("0.2.2", "amd64"))
	bpToml := filepath.Join(e.platform.Buildpacks, "heroku_heroku-applink", bpVersion(t), "buildpack.toml")
	f, err := os.OpenFile(bpToml, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(pinKey(key.Fingerprint))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, key, true)
	require.NoError(t, e.platform.SetEnv("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "latest"))

	res := e.build(t)
	require.Equal(t, 0, res.Code, res.Output)
	require.Contains(t, res.Output, "  - Verified signature by key "+key.Fingerprint)
	md := e.layerTOML(t)["metadata"].(map[string]any)
	require.Equal(t, "latest", md["version"])
	require.Equal(t, mesh("0.3.0").Checksum(), md["checksum"])
	require.Equal(t, key.Fingerprint, md["fingerprint"])
	require.NotEmpty(t, md["etag"])
	out, err := e.platform.LaunchCommand(context.Background(), "heroku-applink-service-mesh", "-v")
	require.NoError(t, err, out)
	require.Contains(t, out, "version v0.3.0")

	require.NoError(t, e.platform.Restore())
	before := e.mirror.Requests()
	res = e.build(t)
	require.Equal(t, 0, res.Code, res.Output)
	require.Contains(t, res.Output, "- Reusing Heroku AppLink Service Mesh latest (linux-amd64) from the layer cache")
	require.Equal(t, before+1, e.mirror.Requests(), "one conditional request")

	e.mirror.PublishSigned(latestObject(), mesh("0.2.2").Data, key, true)
	require.NoError(t, e.platform.Restore())
	res = e.build(t)
	require.Equal(t, 0, res.Code, res.Output)
	require.Contains(t, res.Output, "- Discarding the cached service mesh layer: the release changed at its source")
	require.Equal(t, mesh("0.2.2").Checksum(), e.layerTOML(t)["metadata"].(map[string]any)["checksum"])
}

// TestPinRoundTrip pins a release with the maintainers' command, then builds
// with it: the build uses the new pin's checksum and asks for no signature.
func TestPinRoundTrip(t *testing.T) {
	t.Parallel()
	key := releaseKey(t)
	e := newClassicEnv(t)
	require.NoError(t, e.bp.SetInventory(repoRoot, pinKey(key.Fingerprint)))
	for _, arch := range []string{"amd64", "arm64"} {
		a := meshes["0.3.0/"+arch]
		e.mirror.PublishSigned(a.Object(), a.Data, key, true)
	}
	tool := filepath.Join(t.TempDir(), "heroku-applink-pin")
	require.NoError(t, harness.BuildGo(repoRoot, "./cmd/heroku-applink-pin", runtime.GOARCH, tool))

	toml := filepath.Join(e.bp.Dir, "buildpack.toml")
	out, err := exec.Command(tool, "--buildpack-toml", toml, "--mirror", e.mirror.URL(), "--dry-run", "v0.3.0").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "checksum = \""+meshes["0.3.0/arm64"].Checksum()+"\"")
	require.NotContains(t, string(must(os.ReadFile(toml))), "[[metadata.artifacts]]\nversion", "a dry run writes nothing")

	out, err = exec.Command(tool, "--buildpack-toml", toml, "--mirror", e.mirror.URL(), "v0.3.0").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "-----> Updated "+toml)

	app := e.app(t, "sample-app")
	sigs := e.mirror.Hits(mesh("0.3.0").Object() + ".asc")
	require.NoError(t, app.Deploy(context.Background()))
	require.Contains(t, app.Output(), "       Verified "+mesh("0.3.0").Checksum()+" (pinned checksum)\n")
	require.Equal(t, sigs, e.mirror.Hits(mesh("0.3.0").Object()+".asc"), "a pinned release needs no signature")
}
