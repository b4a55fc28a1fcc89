package cnb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/cnb"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

type env struct {
	dirs     cnb.Dirs
	mirror   *testhelpers.Mirror
	arts     map[string]testhelpers.Artifact
	out, err bytes.Buffer
	inst     *install.Installer
	arch     string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{dirs: cnb.Dirs{App: t.TempDir(), Layers: t.TempDir(), Platform: t.TempDir(), Buildpack: t.TempDir()},
		mirror: testhelpers.StartMirror(t), arts: map[string]testhelpers.Artifact{}}
	var arts []testhelpers.Artifact
	for _, v := range []string{"0.2.2", "0.3.0"} {
		for _, arch := range []string{"amd64", "arm64"} {
			a := testhelpers.FakeMesh(v, arch)
			e.mirror.Put(a.Object(), a.Data)
			e.arts[v+"/"+arch] = a
			arts = append(arts, a)
		}
	}
	testhelpers.WriteInventory(t, e.dirs.Buildpack, testhelpers.Inventory("", arts...))
	e.setVar(t, config.VarMirror, e.mirror.URL())
	testhelpers.AttachAddon(t, filepath.Join(e.dirs.Platform, "env"))
	require.NoError(t, os.WriteFile(filepath.Join(e.dirs.App, "Procfile"), []byte("web: heroku-applink-service-mesh npm start\n"), 0o644))
	e.inst, e.arch = testhelpers.Installer(&e.out, &e.err, output.CNB), "amd64"
	return e
}

func (e *env) setVar(t *testing.T, name, value string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(e.dirs.Platform, "env"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Platform, "env", name), []byte(value), 0o644))
}

func (e *env) build(t *testing.T) error {
	t.Helper()
	e.out.Reset()
	e.err.Reset()
	return cnb.Build(context.Background(), e.inst, e.dirs, e.arch, "1.2.3")
}

func (e *env) log() string {
	return strings.ReplaceAll(e.out.String(), e.mirror.URL(), "http://MIRROR")
}

// restore does to the layers dir what the lifecycle's restore does for a
// launch+cache layer: contents and metadata kept, [types] stripped, every
// other file gone.
func (e *env) restore(t *testing.T) {
	t.Helper()
	tomlPath := filepath.Join(e.dirs.Layers, "service-mesh.toml")
	var doc map[string]any
	_, err := toml.DecodeFile(tomlPath, &doc)
	require.NoError(t, err)
	delete(doc, "types")
	var buf bytes.Buffer
	require.NoError(t, toml.NewEncoder(&buf).Encode(doc))
	require.NoError(t, os.WriteFile(tomlPath, buf.Bytes(), 0o644))
	require.NoError(t, os.Remove(filepath.Join(e.dirs.Layers, "service-mesh.sbom.cdx.json")))
}

func (e *env) layerTOML(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.dirs.Layers, "service-mesh.toml"))
	require.NoError(t, err)
	return string(data)
}

func TestBuildFresh(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.build(t))
	require.Equal(t, 1, e.mirror.Requests())
	art := e.arts["0.3.0/amd64"]
	testhelpers.Equal(t, `
## Heroku AppLink Service Mesh (buildpack v1.2.3)

- Installing Heroku AppLink Service Mesh 0.3.0 (linux-amd64)
  - Version 0.3.0 (newest pinned release)
  - Downloading from http://MIRROR/heroku-applink-service-mesh-v0.3.0-amd64
  - Downloaded `+output.Size(int64(len(art.Data)))+` in 1.0s
  - Verified `+art.Checksum()+` (pinned checksum)
  - Added service-mesh/bin to PATH at launch
- Checking Procfile
  - The web process starts the service mesh:
      web: heroku-applink-service-mesh npm start
- Done (finished in 3.0s)
`, e.log())
	require.Empty(t, e.err.String())

	testhelpers.Equal(t, `[types]
  launch = true
  build = false
  cache = true

[metadata]
  version = "0.3.0"
  os = "linux"
  arch = "amd64"
  url = "https://heroku-applink-service-mesh-binaries.s3.dualstack.us-east-1.amazonaws.com/heroku-applink-service-mesh-v0.3.0-amd64"
  checksum = "`+art.Checksum()+`"
  verified = "pinned checksum"
`, e.layerTOML(t))
	bin := filepath.Join(e.dirs.Layers, "service-mesh/bin")
	got, err := os.ReadFile(filepath.Join(bin, install.Binary))
	require.NoError(t, err)
	require.Equal(t, art.Data, got)
	link, err := os.Readlink(filepath.Join(bin, "heroku-applink-service-mesh-latest-amd64"))
	require.NoError(t, err)
	require.Equal(t, install.Binary, link)
}

// TestSBOM asserts the whole document: CycloneDX names the mesh, its
// sha256, its public download URL and package URL, and the buildpack.
func TestSBOM(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.build(t))
	data, err := os.ReadFile(filepath.Join(e.dirs.Layers, "service-mesh.sbom.cdx.json"))
	require.NoError(t, err)
	art := e.arts["0.3.0/amd64"]
	url := config.OfficialURL(art.Object())
	testhelpers.Equal(t, `{
  "bomFormat": "CycloneDX",
  "components": [
    {
      "externalReferences": [
        {
          "type": "distribution",
          "url": "`+url+`"
        }
      ],
      "hashes": [
        {
          "alg": "SHA-256",
          "content": "`+art.Hex()+`"
        }
      ],
      "name": "heroku-applink-service-mesh",
      "publisher": "Heroku",
      "purl": "pkg:generic/heroku-applink-service-mesh@0.3.0?checksum=sha256%3A`+art.Hex()+`\u0026download_url=`+strings.ReplaceAll(strings.ReplaceAll(url, ":", "%3A"), "/", "%2F")+`",
      "type": "application",
      "version": "0.3.0"
    }
  ],
  "metadata": {
    "tools": {
      "components": [
        {
          "name": "heroku/heroku-applink",
          "publisher": "Heroku",
          "type": "application",
          "version": "1.2.3"
        }
      ]
    }
  },
  "specVersion": "1.5",
  "version": 1
}
`, string(data))
	require.True(t, json.Valid(data))
}

func TestReuse(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.build(t))
	first := e.layerTOML(t)
	e.restore(t)
	require.NoError(t, e.build(t))
	require.Equal(t, 1, e.mirror.Requests(), "a kept layer makes zero requests")
	art := e.arts["0.3.0/amd64"]
	require.Contains(t, e.log(), `- Installing Heroku AppLink Service Mesh 0.3.0 (linux-amd64)
  - Version 0.3.0 (newest pinned release)
  - Using the cached layer (`+output.Size(int64(len(art.Data)))+`)
  - Verified `+art.Checksum()+` (pinned checksum)
`)
	require.Equal(t, first, e.layerTOML(t), "[types] is written again, and the record is the same")
	_, err := os.Stat(filepath.Join(e.dirs.Layers, "service-mesh.sbom.cdx.json"))
	require.NoError(t, err)

	t.Run("a restored bill of materials that is a folder is written again", func(t *testing.T) {
		sbom := filepath.Join(e.dirs.Layers, "service-mesh.sbom.cdx.json")
		require.NoError(t, os.Remove(sbom))
		require.NoError(t, os.MkdirAll(filepath.Join(sbom, "x"), 0o755))
		require.NoError(t, e.build(t))
		require.Contains(t, e.log(), "  - Using the cached layer (")
		info, err := os.Lstat(sbom)
		require.NoError(t, err)
		require.True(t, info.Mode().IsRegular())
	})
}

func TestReinstallReasons(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, e *env)
		want   string
	}{
		{"version", func(t *testing.T, e *env) { e.setVar(t, config.VarVersion, "0.2.2") },
			"it holds " + testhelpers.FakeMesh("0.3.0", "amd64").Checksum() + ", not the pinned " + testhelpers.FakeMesh("0.2.2", "amd64").Checksum()},
		{"arch", func(t *testing.T, e *env) { e.arch = "arm64" },
			"it holds " + testhelpers.FakeMesh("0.3.0", "amd64").Checksum() + ", not the pinned " + testhelpers.FakeMesh("0.3.0", "arm64").Checksum()},
		{"corrupt binary", func(t *testing.T, e *env) {
			require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh/bin", install.Binary), []byte("evil"), 0o755))
		}, "it no longer matches " + testhelpers.FakeMesh("0.3.0", "amd64").Checksum() + " (got sha256:"},
		{"missing binary", func(t *testing.T, e *env) {
			require.NoError(t, os.Remove(filepath.Join(e.dirs.Layers, "service-mesh/bin", install.Binary)))
		}, "the binary is missing"},
		{"unreadable metadata", func(t *testing.T, e *env) {
			require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh.toml"), []byte("[metadata\n"), 0o644))
		}, "its metadata is unreadable ("},
		{"missing metadata", func(t *testing.T, e *env) {
			require.NoError(t, os.Remove(filepath.Join(e.dirs.Layers, "service-mesh.toml")))
		}, "its metadata is missing"},
		{"metadata without its folder", func(t *testing.T, e *env) {
			require.NoError(t, os.RemoveAll(filepath.Join(e.dirs.Layers, "service-mesh")))
		}, "its folder is missing"},
		{"a folder without its bin", func(t *testing.T, e *env) {
			require.NoError(t, os.RemoveAll(filepath.Join(e.dirs.Layers, "service-mesh/bin")))
		}, "its bin folder is missing"},
		{"the upstream buildpack's metadata", func(t *testing.T, e *env) {
			require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh.toml"), []byte("[metadata]\netag = \"abc\"\n"), 0o644))
		}, "it holds no recorded checksum, not the pinned "},
		{"a recorded checksum no build wrote", func(t *testing.T, e *env) {
			forged := strings.Replace(e.layerTOML(t), `checksum = "`, `checksum = "x\n  - Verified `, 1)
			require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh.toml"), []byte(forged), 0o644))
		}, "it holds no recorded checksum, not the pinned "},
		{"metadata that is a folder", func(t *testing.T, e *env) {
			require.NoError(t, os.Remove(filepath.Join(e.dirs.Layers, "service-mesh.toml")))
			require.NoError(t, os.Mkdir(filepath.Join(e.dirs.Layers, "service-mesh.toml"), 0o755))
		}, "its metadata is a directory"},
		{"metadata of keys nested thousands deep", func(t *testing.T, e *env) {
			bomb := strings.Repeat("a.", 12000) + "b = 1\n"
			require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh.toml"), []byte(bomb), 0o644))
		}, "its metadata is unreadable ("},
		{"stale files in the layer", func(t *testing.T, e *env) {
			e.setVar(t, config.VarVersion, "0.2.2")
			bin := filepath.Join(e.dirs.Layers, "service-mesh/bin")
			require.NoError(t, os.WriteFile(filepath.Join(bin, "heroku-applink-service-mesh-v0.1.0-amd64"), []byte("old"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh/leftover"), []byte("old"), 0o644))
		}, "it holds " + testhelpers.FakeMesh("0.3.0", "amd64").Checksum() + ", not the pinned "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			require.NoError(t, e.build(t))
			e.restore(t)
			tt.change(t, e)
			require.NoError(t, e.build(t))
			require.Contains(t, e.log(), "  - Discarding the cached layer: "+tt.want)
			require.Contains(t, e.log(), "  - Downloading from")
			require.Equal(t, 2, e.mirror.Requests())
			rec := e.layerRecord(t)
			bin, err := os.ReadFile(filepath.Join(e.dirs.Layers, "service-mesh/bin", install.Binary))
			require.NoError(t, err)
			require.Equal(t, rec.Checksum, testhelpers.Artifact{Data: bin}.Checksum(), "the layer holds what its metadata says")
			var names []string
			require.NoError(t, filepath.Walk(filepath.Join(e.dirs.Layers, "service-mesh"), func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					names = append(names, filepath.Base(p))
				}
				return err
			}))
			want := install.Names(rec.Version, e.arch)
			require.ElementsMatch(t, want, names, "nothing stale is left in the layer")
		})
	}
}

func TestBuildFailureLeavesNoLayer(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.build(t))
	e.restore(t)
	e.setVar(t, config.VarVersion, "0.2.2")
	e.mirror.Fault(e.arts["0.2.2/amd64"].Object(), testhelpers.Status(404))
	err := e.build(t)
	require.ErrorContains(t, err, "server answered 404 Not Found")
	entries, rerr := os.ReadDir(e.dirs.Layers)
	require.NoError(t, rerr)
	require.Empty(t, entries, "no binary the image could ship, no metadata a later build could trust")
}

func TestDirsFrom(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	d, err := cnb.DirsFrom([]string{"/layers/x", "/platform", "/plan"}, env(map[string]string{"CNB_BUILDPACK_DIR": "/cnb/bp"}), "/workspace", "")
	require.NoError(t, err)
	testhelpers.Equal(t, cnb.Dirs{App: "/workspace", Layers: "/layers/x", Platform: "/platform", Buildpack: "/cnb/bp"}, d)

	d, err = cnb.DirsFrom(nil, env(map[string]string{"CNB_LAYERS_DIR": "/l", "CNB_PLATFORM_DIR": "/p"}), "/w", "/shim/bp")
	require.NoError(t, err)
	// The variables win; the shim's directory is the fallback.
	testhelpers.Equal(t, cnb.Dirs{App: "/w", Layers: "/l", Platform: "/p", Buildpack: "/shim/bp"}, d)

	_, err = cnb.DirsFrom(nil, env(nil), "/w", "/bp")
	require.ErrorIs(t, err, cnb.ErrUsage)
	require.EqualError(t, err, "usage: bin/build LAYERS_DIR PLATFORM_DIR PLAN_PATH (or the CNB_* variables)")
}

// TestRestoredLayerHoldsOnlyTheVerifiedBinary: whatever else a restored
// layer carries (another program in bin/, launch environment files) never
// reaches the image, whether the layer is kept or discarded.
func TestRestoredLayerHoldsOnlyTheVerifiedBinary(t *testing.T) {
	for _, discard := range []bool{false, true} {
		t.Run(map[bool]string{false: "kept", true: "discarded"}[discard], func(t *testing.T) {
			e := newEnv(t)
			require.NoError(t, e.build(t))
			e.restore(t)
			layer := filepath.Join(e.dirs.Layers, "service-mesh")
			require.NoError(t, os.WriteFile(filepath.Join(layer, "bin", "node"), []byte("#!/bin/sh\necho planted\n"), 0o755))
			require.NoError(t, os.MkdirAll(filepath.Join(layer, "env.launch"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(layer, "env.launch", "LD_PRELOAD"), []byte("/evil.so"), 0o644))
			require.NoError(t, os.Chmod(layer, 0o777))
			require.NoError(t, os.Chmod(filepath.Join(layer, "bin"), 0o777))
			version := "0.3.0"
			if discard {
				version = "0.2.2"
				e.setVar(t, config.VarVersion, version)
			}
			require.NoError(t, e.build(t))
			var names []string
			require.NoError(t, filepath.Walk(layer, func(p string, info os.FileInfo, err error) error {
				if err == nil && p != layer {
					rel, _ := filepath.Rel(layer, p)
					names = append(names, rel)
				}
				return err
			}))
			require.ElementsMatch(t, []string{"bin", "bin/heroku-applink-service-mesh", "bin/heroku-applink-service-mesh-latest-amd64",
				"bin/heroku-applink-service-mesh-v" + version + "-amd64"}, names)
			for _, dir := range []string{layer, filepath.Join(layer, "bin")} {
				info, err := os.Stat(dir)
				require.NoError(t, err)
				require.Equal(t, os.FileMode(0o755), info.Mode().Perm(), "no folder the image ships is world-writable")
			}
		})
	}
}

// TestRestoredLayerThatIsNotWhatTheBuildpackWrote: links and pipes where
// the layer's bin and binary belong are discarded and the layer rebuilt,
// without following them and without blocking.
func TestRestoredLayerThatIsNotWhatTheBuildpackWrote(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, layer, outside string)
		want  string
	}{
		{"bin is a link", func(t *testing.T, layer, outside string) {
			require.NoError(t, os.RemoveAll(filepath.Join(layer, "bin")))
			require.NoError(t, os.Symlink(outside, filepath.Join(layer, "bin")))
		}, "its bin folder is a symbolic link"},
		{"the binary is a link to the right bytes elsewhere", func(t *testing.T, layer, outside string) {
			bin := filepath.Join(layer, "bin", install.Binary)
			data, err := os.ReadFile(bin)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(outside, "copy"), data, 0o600))
			require.NoError(t, os.Remove(bin))
			require.NoError(t, os.Symlink(filepath.Join(outside, "copy"), bin))
		}, "its binary is a symbolic link"},
		{"the binary is a named pipe", func(t *testing.T, layer, outside string) {
			bin := filepath.Join(layer, "bin", install.Binary)
			require.NoError(t, os.Remove(bin))
			require.NoError(t, syscall.Mkfifo(bin, 0o755))
		}, "its binary is a named pipe"},
		{"the folder is a link", func(t *testing.T, layer, outside string) {
			require.NoError(t, os.Rename(layer, filepath.Join(outside, "moved")))
			require.NoError(t, os.Symlink(filepath.Join(outside, "moved"), layer))
		}, "its folder is a symbolic link"},
		{"the binary is hard-linked to a file elsewhere", func(t *testing.T, layer, outside string) {
			bin := filepath.Join(layer, "bin", install.Binary)
			require.NoError(t, os.Chmod(bin, 0o600))
			require.NoError(t, os.Link(bin, filepath.Join(outside, "theirs")))
		}, "the binary has 2 hard links"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			require.NoError(t, e.build(t))
			e.restore(t)
			outside := t.TempDir()
			tt.plant(t, filepath.Join(e.dirs.Layers, "service-mesh"), outside)
			before := tree(t, outside)
			require.NoError(t, e.build(t))
			require.Contains(t, e.log(), "  - Discarding the cached layer: "+tt.want+"\n")
			info, err := os.Lstat(filepath.Join(e.dirs.Layers, "service-mesh/bin", install.Binary))
			require.NoError(t, err)
			require.True(t, info.Mode().IsRegular())
			require.Equal(t, before, tree(t, outside), "nothing outside the layer changed, no mode either")
		})
	}
}

// tree maps every path under dir to its mode and size.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil {
			out[p] = info.Mode().String() + " " + strconv.FormatInt(info.Size(), 10)
		}
		return err
	}))
	return out
}

// TestUnpinnedLayer: an unpinned release is never reused, so its layer
// is not cached; one an earlier version of the buildpack cached is
// reinstalled quietly.
func TestUnpinnedLayer(t *testing.T) {
	e := newEnv(t)
	key := testhelpers.Key(t, "Release")
	mesh := testhelpers.FakeMesh("0.4.0", "amd64")
	e.mirror.PublishSigned(install.Object("latest", "amd64"), mesh.Data, key, true)
	testhelpers.WriteInventory(t, e.dirs.Buildpack, testhelpers.Inventory(key.Fingerprint, e.arts["0.3.0/amd64"]))
	e.setVar(t, config.VarVersion, "latest")
	require.NoError(t, e.build(t))
	require.Contains(t, e.layerTOML(t), "cache = false")
	rec := e.layerRecord(t)
	require.Equal(t, cnb.Record{Version: "latest", OS: "linux", Arch: "amd64", URL: e.mirror.URL() + "/" + install.Object("latest", "amd64"),
		Checksum: mesh.Checksum(), Verified: "signature", Signer: key.Fingerprint}, rec)

	// What the 0.1.0 buildpack left: a cached layer of latest, with its
	// signature and an etag-era record.
	e.restore(t)
	old := strings.Replace(e.layerTOML(t), "[metadata]", "[metadata]\n  signature = \"-----BEGIN PGP SIGNATURE-----\"\n  key-source = \"buildpack keys/public-key.asc\"", 1)
	require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh.toml"), []byte(old), 0o644))
	before := e.mirror.Hits(install.Object("latest", "amd64"))
	require.NoError(t, e.build(t))
	require.NotContains(t, e.log(), "Discarding")
	require.NotContains(t, e.log(), "Using the cached layer")
	require.Equal(t, before+1, e.mirror.Hits(install.Object("latest", "amd64")), "downloaded again")

	// Asked for a pinned release instead, the build keeps nothing of it
	// either, even when its bytes are the pin's, and says nothing of it.
	e.restore(t)
	pinned := e.arts["0.3.0/amd64"]
	require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh/bin", install.Binary), pinned.Data, 0o755))
	old = strings.Replace(old, mesh.Checksum(), pinned.Checksum(), 1)
	require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh.toml"), []byte(old), 0o644))
	e.setVar(t, config.VarVersion, "0.3.0")
	before = e.mirror.Hits(pinned.Object())
	require.NoError(t, e.build(t))
	require.NotContains(t, e.log(), "Discarding")
	require.Equal(t, before+1, e.mirror.Hits(pinned.Object()), "downloaded again")
	require.Equal(t, pinned.Checksum(), e.layerRecord(t).Checksum)
}

func (e *env) layerRecord(t *testing.T) cnb.Record {
	t.Helper()
	var doc struct {
		Metadata cnb.Record `toml:"metadata"`
	}
	_, err := toml.Decode(e.layerTOML(t), &doc)
	require.NoError(t, err)
	return doc.Metadata
}

// TestCancelledAfterTheInstall: a build cancelled once the binary is in the
// layer, or once its metadata is written, stops there and leaves no layer.
func TestCancelledAfterTheInstall(t *testing.T) {
	for _, line := range []string{"(pinned checksum)", "to PATH at launch"} {
		t.Run(line, func(t *testing.T) {
			e := newEnv(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			log := &testhelpers.CancelOn{Line: line, Cancel: cancel}
			err := cnb.Build(ctx, testhelpers.Installer(log, &e.err, output.CNB), e.dirs, e.arch, "1.2.3")
			require.ErrorIs(t, err, context.Canceled)
			require.NotContains(t, log.String(), "Done")
			if line == "(pinned checksum)" {
				require.NotContains(t, log.String(), "to PATH at launch", "it stops at once")
			}
			entries, rerr := os.ReadDir(e.dirs.Layers)
			require.NoError(t, rerr)
			require.Empty(t, entries, "the layer this build made is taken back")
		})
	}
}
