package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

var (
	lifecycleOnce sync.Once
	lifecycleBin  *harness.Lifecycle
	lifecycleErr  error
)

// lifecycle builds the reference lifecycle once per run. It never skips:
// CI runs these tests, and a missing lifecycle is a failure.
func lifecycle(t *testing.T) *harness.Lifecycle {
	t.Helper()
	lifecycleOnce.Do(func() { lifecycleBin, lifecycleErr = harness.EnsureLifecycle(repoRoot) })
	require.NoError(t, lifecycleErr)
	return lifecycleBin
}

type cnbEnv struct {
	mirror   *testhelpers.Mirror
	platform *harness.Platform
	arts     map[string]testhelpers.Artifact
	bpDir    string
}

func bpVersion(t *testing.T) string {
	t.Helper()
	v, err := harness.BuildpackVersion(repoRoot)
	require.NoError(t, err)
	return v
}

// newCNBEnv lays out a platform with this buildpack and a stand-in for
// heroku/procfile, and a mirror serving the artifacts.
func newCNBEnv(t *testing.T, fixtureName, api string, arts ...testhelpers.Artifact) *cnbEnv {
	t.Helper()
	lc := lifecycle(t)
	e := &cnbEnv{mirror: testhelpers.NewMirror(), arts: map[string]testhelpers.Artifact{}}
	t.Cleanup(e.mirror.Close)
	for _, a := range arts {
		e.mirror.Put(a.Object(), a.Data)
		e.arts[a.Version+"/"+a.Arch] = a
	}
	root, err := harness.ReachableTempDir("cnb-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(root) })
	bp, err := harness.NewBuildpack(repoRoot, filepath.Join(root, "src", "applink"), binaries, testhelpers.Inventory("", arts...))
	require.NoError(t, err)
	e.bpDir = bp.Dir
	e.platform, err = harness.NewPlatform(lc, root, appSource(t, fixtureName),
		harness.CNBBuildpack{Dir: bp.Dir, ID: "heroku/heroku-applink", Version: bpVersion(t)},
		harness.CNBBuildpack{Dir: fixture("buildpacks/procfile"), ID: "test/procfile", Version: "0.0.1", Optional: true})
	require.NoError(t, err)
	e.platform.API = api
	require.NoError(t, e.platform.SetEnv("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", e.mirror.URL()))
	for k, v := range addonPlaceholder {
		require.NoError(t, e.platform.SetEnv(k, v))
	}
	return e
}

func (e *cnbEnv) layers() string { return filepath.Join(e.platform.Layers, "heroku_heroku-applink") }

func (e *cnbEnv) detect(t *testing.T) harness.Result {
	t.Helper()
	res, err := e.platform.Detect(context.Background())
	require.NoError(t, err)
	return res
}

func (e *cnbEnv) build(t *testing.T) harness.Result {
	t.Helper()
	return e.buildCtx(t, context.Background())
}

func (e *cnbEnv) buildCtx(t *testing.T, ctx context.Context) harness.Result {
	t.Helper()
	res := e.detect(t)
	require.Equal(t, 0, res.Code, res.Output)
	res, err := e.platform.Build(ctx)
	require.NoError(t, err)
	return res
}

func (e *cnbEnv) layerTOML(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	_, err := toml.DecodeFile(filepath.Join(e.layers(), "service-mesh.toml"), &doc)
	require.NoError(t, err)
	return doc
}

// setTargetArch writes the analyzed.toml a platform's analyzer would have
// written for a run image of that architecture: from Platform API 0.12 the
// builder takes CNB_TARGET_* from it.
func (e *cnbEnv) setTargetArch(t *testing.T, arch string) {
	t.Helper()
	analyzed := "[run-image]\n  reference = \"\"\n  image = \"example/run\"\n  [run-image.target]\n    os = \"linux\"\n    arch = \"" + arch + "\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(e.platform.Layers, "analyzed.toml"), []byte(analyzed), 0o644))
}

func stand(version, arch string) testhelpers.Artifact { return meshes[version+"/"+arch] }

// platformAPIs are the Platform APIs the conformance flow runs under: the
// oldest the lifecycle supports, 0.12 (the first that takes the target from
// the run image), and the newest, which Heroku's builders offer.
var platformAPIs = []string{
	harness.LifecyclePlatformAPIs[0], "0.12", harness.LifecyclePlatformAPIs[len(harness.LifecyclePlatformAPIs)-1],
}

func TestCNBConformance(t *testing.T) {
	t.Parallel()
	for _, api := range platformAPIs {
		t.Run("platform API "+api, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newCNBEnv(t, "sample-app", api, stand("0.2.2", "amd64"), stand("0.3.0", "amd64"), stand("0.3.0", "arm64"))

			res := e.detect(t)
			require.Equal(t, 0, res.Code, res.Output)
			var group struct {
				Group []struct{ ID, Version, API string }
			}
			_, err := toml.DecodeFile(filepath.Join(e.platform.Layers, "group.toml"), &group)
			require.NoError(t, err)
			require.Len(t, group.Group, 2)
			require.Equal(t, "heroku/heroku-applink", group.Group[0].ID)
			require.Equal(t, bpVersion(t), group.Group[0].Version)
			require.Equal(t, "0.10", group.Group[0].API)

			res, err = e.platform.Build(ctx)
			require.NoError(t, err)
			require.Equal(t, 0, res.Code, res.Output)
			art := e.arts["0.3.0/amd64"]
			for _, want := range []string{
				"## Heroku AppLink Service Mesh",
				"- Installing Heroku AppLink Service Mesh 0.3.0 (linux-amd64)",
				"  - Verified " + art.Checksum() + " (pinned checksum)",
				"  - The web process starts the service mesh:\n      web: APP_PORT=3000 heroku-applink-service-mesh bin/webapp",
			} {
				require.Contains(t, res.Output, want)
			}
			require.Equal(t, 1, e.mirror.Requests())

			want := map[string]any{
				"types": map[string]any{"launch": true, "build": false, "cache": true},
				"metadata": map[string]any{"version": "0.3.0", "os": "linux", "arch": "amd64", "checksum": art.Checksum(), "verified": "pinned checksum",
					"url": "https://heroku-applink-service-mesh-binaries.s3.dualstack.us-east-1.amazonaws.com/" + art.Object()},
			}
			if diff := cmp.Diff(want, e.layerTOML(t)); diff != "" {
				t.Errorf("service-mesh.toml (-want +got):\n%s", diff)
			}
			require.Equal(t, art.Checksum(), sha256Of(t, filepath.Join(e.layers(), "service-mesh/bin/heroku-applink-service-mesh")))

			// From Platform API 0.8 the builder validates the SBOM's media type
			// and copies it into the image's SBOM layer; before, it ignores it.
			sbomPath := filepath.Join(e.platform.Layers, "sbom/launch/heroku_heroku-applink/service-mesh/sbom.cdx.json")
			if api == "0.7" {
				sbomPath = filepath.Join(e.layers(), "service-mesh.sbom.cdx.json")
			}
			sbom, err := os.ReadFile(sbomPath)
			require.NoError(t, err)
			var bom struct {
				BOMFormat  string
				Components []struct{ Name, Version, PURL string }
			}
			require.NoError(t, json.Unmarshal(sbom, &bom))
			require.Equal(t, "CycloneDX", bom.BOMFormat)
			require.Equal(t, "heroku-applink-service-mesh", bom.Components[0].Name)
			require.Equal(t, "0.3.0", bom.Components[0].Version)

			var md struct {
				Buildpacks []struct{ ID string }
				Processes  []struct {
					Type string
					// Platform API 0.7 records command as a string, later
					// ones as a list.
					Command any
					Args    []string
				}
			}
			_, err = toml.DecodeFile(filepath.Join(e.platform.Layers, "config/metadata.toml"), &md)
			require.NoError(t, err)
			require.Equal(t, "heroku/heroku-applink", md.Buildpacks[0].ID)
			require.Equal(t, "web", md.Processes[0].Type)
			require.Contains(t, md.Processes[0].Args, "APP_PORT=3000 heroku-applink-service-mesh bin/webapp")

			// The mesh runs from the PATH the launcher builds from the layer.
			out, err := e.platform.LaunchCommand(ctx, "heroku-applink-service-mesh", "-v")
			require.NoError(t, err, out)
			require.Equal(t, "heroku-applink-service-mesh version v0.3.0 [os: linux, arch: amd64]\n", out)
			out2, err := e.platform.LaunchCommand(ctx, "bash", "-c", "command -v heroku-applink-service-mesh-latest-amd64")
			require.NoError(t, err, out2)
			require.Equal(t, filepath.Join(e.layers(), "service-mesh/bin/heroku-applink-service-mesh-latest-amd64")+"\n", out2)

			// Rebuild after a restore: the layer is kept with zero requests.
			require.NoError(t, e.platform.Restore())
			res = e.build(t)
			require.Equal(t, 0, res.Code, res.Output)
			require.Contains(t, res.Output, "  - Using the cached layer ("+size(art.Data)+")\n")
			require.Equal(t, 1, e.mirror.Requests(), "a kept layer costs no request")
			require.Equal(t, map[string]any{"launch": true, "build": false, "cache": true}, e.layerTOML(t)["types"])

			// A version change reinstalls and says why.
			require.NoError(t, e.platform.Restore())
			require.NoError(t, e.platform.SetEnv("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "0.2.2"))
			res = e.build(t)
			require.Equal(t, 0, res.Code, res.Output)
			require.Contains(t, res.Output, "  - Discarding the cached layer: it holds "+art.Checksum()+", not the pinned "+e.arts["0.2.2/amd64"].Checksum()+"\n")
			require.Equal(t, 2, e.mirror.Requests())
			require.Equal(t, e.arts["0.2.2/amd64"].Checksum(), sha256Of(t, filepath.Join(e.layers(), "service-mesh/bin/heroku-applink-service-mesh")))

			// A corrupted restored binary reinstalls.
			require.NoError(t, e.platform.Restore())
			require.NoError(t, os.WriteFile(filepath.Join(e.layers(), "service-mesh/bin/heroku-applink-service-mesh"), []byte("#!/bin/sh\necho evil\n"), 0o755))
			res = e.build(t)
			require.Equal(t, 0, res.Code, res.Output)
			require.Contains(t, res.Output, "  - Discarding the cached layer: it no longer matches "+e.arts["0.2.2/amd64"].Checksum()+" (got sha256:")
			require.Equal(t, 3, e.mirror.Requests())
			require.Equal(t, e.arts["0.2.2/amd64"].Checksum(), sha256Of(t, filepath.Join(e.layers(), "service-mesh/bin/heroku-applink-service-mesh")))
		})
	}
}

func TestCNBArchChange(t *testing.T) {
	t.Parallel()
	e := newCNBEnv(t, "sample-app", "0.12", stand("0.3.0", "amd64"), stand("0.3.0", "arm64"))
	res := e.build(t)
	require.Equal(t, 0, res.Code, res.Output)
	require.NoError(t, e.platform.Restore())
	e.setTargetArch(t, "arm64")
	res = e.build(t)
	require.Equal(t, 0, res.Code, res.Output)
	require.Contains(t, res.Output, "  - Discarding the cached layer: it holds "+e.arts["0.3.0/amd64"].Checksum()+", not the pinned "+e.arts["0.3.0/arm64"].Checksum()+"\n")
	require.Contains(t, res.Output, "- Installing Heroku AppLink Service Mesh 0.3.0 (linux-arm64)")
	require.Equal(t, e.arts["0.3.0/arm64"].Checksum(), sha256Of(t, filepath.Join(e.layers(), "service-mesh/bin/heroku-applink-service-mesh")))
	_, err := os.Lstat(filepath.Join(e.layers(), "service-mesh/bin/heroku-applink-service-mesh-latest-arm64"))
	require.NoError(t, err)
	_, err = os.Lstat(filepath.Join(e.layers(), "service-mesh/bin/heroku-applink-service-mesh-latest-amd64"))
	require.True(t, os.IsNotExist(err), "the old arch's link is gone with the reset layer")
}

func TestCNBFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, e *cnbEnv)
		want  []string
	}{
		{"checksum mismatch", func(t *testing.T, e *cnbEnv) {
			e.mirror.Put(e.arts["0.2.2/amd64"].Object(), meshScript("6.6.6"))
		}, []string{"! Error: failed to download the service mesh 0.2.2 (linux-amd64)", "checksum mismatch: expected " + stand("0.2.2", "amd64").Checksum(),
			"! The downloaded file does not match the checksum pinned in this buildpack."}},
		{"404", func(t *testing.T, e *cnbEnv) {
			e.mirror.Fault(e.arts["0.2.2/amd64"].Object(), notFound)
		}, []string{"server answered 404 Not Found", "! heroku-applink-service-mesh-v0.2.2-amd64 was not found at http://127.0.0.1:"}},
		{"unknown version", func(t *testing.T, e *cnbEnv) {
			require.NoError(t, e.platform.SetEnv("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "^7"))
		}, []string{`! Error: no pinned release of the service mesh matches "^7" for linux-amd64`, "! Pinned versions for linux-amd64: 0.2.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newCNBEnv(t, "sample-app", "0.12", stand("0.2.2", "amd64"))
			tt.setup(t, e)
			res := e.build(t)
			require.Equal(t, 51, res.Code, "the lifecycle reports a failed buildpack:\n%s", res.Output)
			for _, want := range tt.want {
				require.Contains(t, res.Output, want)
			}
			matches, _ := filepath.Glob(filepath.Join(e.layers(), "service-mesh*"))
			require.Empty(t, matches, "no layer, binary or metadata is left")
		})
	}
}

func TestCNBTargets(t *testing.T) {
	t.Parallel()
	var desc struct {
		Targets []struct{ OS, Arch string } `toml:"targets"`
	}
	_, err := toml.DecodeFile(filepath.Join(repoRoot, "buildpack.toml"), &desc)
	require.NoError(t, err)
	require.Equal(t, []struct{ OS, Arch string }{{"linux", "amd64"}, {"linux", "arm64"}}, desc.Targets)

	// A buildpack declaring only a target this machine is not fails
	// detection: the lifecycle really matches targets.
	e := newCNBEnv(t, "sample-app", "0.12", stand("0.2.2", "amd64"))
	bpToml := filepath.Join(e.platform.Buildpacks, "heroku_heroku-applink", bpVersion(t), "buildpack.toml")
	data, err := os.ReadFile(bpToml)
	require.NoError(t, err)
	other := "s390x"
	edited := strings.Replace(strings.Replace(string(data), `arch = "amd64"`, `arch = "`+other+`"`, 1), `arch = "arm64"`, `arch = "`+other+`"`, 1)
	require.NoError(t, os.WriteFile(bpToml, []byte(edited), 0o644))
	res := e.detect(t)
	require.NotEqual(t, 0, res.Code, res.Output)
	require.Contains(t, res.Output, "unable to satisfy target os/arch constraints")
}

func TestCNBReadOnlyBuildpackWithoutBinary(t *testing.T) {
	t.Parallel()
	e := newCNBEnv(t, "sample-app", "0.12", stand("0.2.2", "amd64"))
	// A source checkout without a prebuilt binary, installed read-only.
	bpDir := filepath.Join(e.platform.Buildpacks, "heroku_heroku-applink", bpVersion(t))
	require.NoError(t, os.RemoveAll(filepath.Join(bpDir, "lib", "linux-amd64")))
	require.NoError(t, os.WriteFile(filepath.Join(bpDir, "go.mod"), []byte("module x\n"), 0o644))
	res := e.build(t)
	require.NotEqual(t, 0, res.Code)
	require.Contains(t, res.Output, "is read-only. Run 'make build' before using this checkout, or use a packaged release.")
}
