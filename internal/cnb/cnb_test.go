package cnb_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/cnb"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

func meshFor(version, arch string) []byte {
	return []byte(fmt.Sprintf("#!/bin/sh\necho 'heroku-applink-service-mesh version v%s [arch: %s]'\n", version, arch))
}

func digest(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

type env struct {
	dirs     cnb.Dirs
	requests atomic.Int32
	out, err bytes.Buffer
	builder  *cnb.Builder
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{dirs: cnb.Dirs{App: t.TempDir(), Layers: t.TempDir(), Platform: t.TempDir(), Buildpack: t.TempDir()}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		name := filepath.Base(r.URL.Path) // heroku-applink-service-mesh-v0.2.2-amd64
		parts := strings.Split(name, "-")
		w.Write(meshFor(strings.TrimPrefix(parts[len(parts)-2], "v"), parts[len(parts)-1]))
	}))
	t.Cleanup(srv.Close)
	var inv strings.Builder
	for _, v := range []string{"0.2.2", "0.3.0"} {
		for _, arch := range []string{"amd64", "arm64"} {
			fmt.Fprintf(&inv, "[[metadata.artifacts]]\nversion = %q\nos = \"linux\"\narch = %q\n"+
				"url = \"https://heroku-applink-service-mesh-binaries.s3.dualstack.us-east-1.amazonaws.com/heroku-applink-service-mesh-v%s-%s\"\n"+
				"checksum = \"sha256:%s\"\n", v, arch, v, arch, digest(meshFor(v, arch)))
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Buildpack, "buildpack.toml"), []byte(inv.String()), 0o644))
	e.setVar(t, config.VarMirror, srv.URL)
	require.NoError(t, os.WriteFile(filepath.Join(e.dirs.App, "Procfile"), []byte("web: heroku-applink-service-mesh npm start\n"), 0o644))
	p := output.New(&e.out, &e.err, output.CNB, false)
	client := fetch.New("test")
	client.Backoff = func(int) time.Duration { return 0 }
	now := func() time.Time { return time.Unix(0, 0) }
	e.builder = &cnb.Builder{Installer: &install.Installer{Fetcher: client, Out: p, Now: now}, Out: p, Arch: "amd64", Now: now, Version: "1.2.3"}
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
	return e.builder.Build(context.Background(), e.dirs)
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

func readLayerTOML(t *testing.T, dir string) map[string]any {
	t.Helper()
	var doc map[string]any
	_, err := toml.DecodeFile(filepath.Join(dir, "service-mesh.toml"), &doc)
	require.NoError(t, err)
	return doc
}

func TestBuildFresh(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.build(t))
	require.EqualValues(t, 1, e.requests.Load())

	want := map[string]any{
		"types": map[string]any{"launch": true, "build": false, "cache": true},
		"metadata": map[string]any{
			"version": "0.3.0", "os": "linux", "arch": "amd64",
			"url":      "https://heroku-applink-service-mesh-binaries.s3.dualstack.us-east-1.amazonaws.com/heroku-applink-service-mesh-v0.3.0-amd64",
			"checksum": "sha256:" + digest(meshFor("0.3.0", "amd64")),
		},
	}
	if diff := cmp.Diff(want, readLayerTOML(t, e.dirs.Layers)); diff != "" {
		t.Errorf("service-mesh.toml (-want +got):\n%s", diff)
	}
	bin := filepath.Join(e.dirs.Layers, "service-mesh/bin")
	got, err := os.ReadFile(filepath.Join(bin, "heroku-applink-service-mesh"))
	require.NoError(t, err)
	require.Equal(t, meshFor("0.3.0", "amd64"), got)
	link, err := os.Readlink(filepath.Join(bin, "heroku-applink-service-mesh-latest-amd64"))
	require.NoError(t, err)
	require.Equal(t, "heroku-applink-service-mesh", link)

	wantOut := "\n## Heroku AppLink Service Mesh (buildpack v1.2.3)\n\n" +
		"- Installing Heroku AppLink Service Mesh 0.3.0 (linux-amd64)\n" +
		"  - Version 0.3.0 (newest pinned release)\n"
	require.True(t, strings.HasPrefix(e.out.String(), wantOut), e.out.String())
	require.Contains(t, e.out.String(), "  - Added service-mesh/bin to PATH at launch\n- Checking Procfile\n")
	require.Empty(t, e.err.String())
}

func TestSBOM(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.build(t))
	data, err := os.ReadFile(filepath.Join(e.dirs.Layers, "service-mesh.sbom.cdx.json"))
	require.NoError(t, err)
	var doc struct {
		BOMFormat, SpecVersion string
		Version                int
		Metadata               struct {
			Tools struct {
				Components []struct{ Name, Version string }
			}
		}
		Components []struct {
			Type, Name, Version, PURL string
			Hashes                    []struct{ Alg, Content string }
			ExternalReferences        []struct{ Type, URL string }
		}
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	require.Equal(t, "CycloneDX", doc.BOMFormat)
	require.Equal(t, "1.5", doc.SpecVersion)
	require.Equal(t, "1.2.3", doc.Metadata.Tools.Components[0].Version)
	require.Len(t, doc.Components, 1)
	c := doc.Components[0]
	require.Equal(t, "heroku-applink-service-mesh", c.Name)
	require.Equal(t, "0.3.0", c.Version)
	require.Equal(t, "SHA-256", c.Hashes[0].Alg)
	require.Equal(t, digest(meshFor("0.3.0", "amd64")), c.Hashes[0].Content)
	require.Equal(t, "distribution", c.ExternalReferences[0].Type)
	require.True(t, strings.HasPrefix(c.PURL, "pkg:generic/heroku-applink-service-mesh@0.3.0?checksum=sha256%3A"), c.PURL)
	require.Contains(t, c.PURL, "download_url=https%3A%2F%2Fheroku-applink-service-mesh-binaries")
}

func TestReuse(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.build(t))
	e.restore(t)
	require.NoError(t, e.build(t))
	require.EqualValues(t, 1, e.requests.Load(), "a kept layer makes zero requests")
	require.Contains(t, e.out.String(), "- Reusing Heroku AppLink Service Mesh 0.3.0 (linux-amd64) from the layer cache\n")
	types := readLayerTOML(t, e.dirs.Layers)["types"]
	require.Equal(t, map[string]any{"launch": true, "build": false, "cache": true}, types, "[types] is written again")
	_, err := os.Stat(filepath.Join(e.dirs.Layers, "service-mesh.sbom.cdx.json"))
	require.NoError(t, err)
}

func TestReinstallReasons(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, e *env)
		want   string
	}{
		{"version", func(t *testing.T, e *env) { e.setVar(t, config.VarVersion, "0.2.2") },
			"- Discarding the cached service mesh layer: the version changed (0.3.0 to 0.2.2)"},
		{"arch", func(t *testing.T, e *env) { e.builder.Arch = "arm64" },
			"- Discarding the cached service mesh layer: the architecture changed (linux-amd64 to linux-arm64)"},
		{"corrupt binary", func(t *testing.T, e *env) {
			require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh/bin/heroku-applink-service-mesh"), []byte("evil"), 0o755))
		}, "- Discarding the cached service mesh layer: the cached binary does not match its checksum"},
		{"missing binary", func(t *testing.T, e *env) {
			require.NoError(t, os.Remove(filepath.Join(e.dirs.Layers, "service-mesh/bin/heroku-applink-service-mesh")))
		}, "- Discarding the cached service mesh layer: the cached binary is missing"},
		{"unreadable metadata", func(t *testing.T, e *env) {
			require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh.toml"), []byte("[metadata\n"), 0o644))
		}, "- Discarding the cached service mesh layer: its metadata is unreadable"},
		{"old metadata layout", func(t *testing.T, e *env) {
			require.NoError(t, os.WriteFile(filepath.Join(e.dirs.Layers, "service-mesh.toml"), []byte("[metadata]\netag = \"abc\"\n"), 0o644))
		}, "- Discarding the cached service mesh layer: its metadata is from another version of this buildpack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			require.NoError(t, e.build(t))
			e.restore(t)
			tt.change(t, e)
			require.NoError(t, e.build(t))
			require.Contains(t, e.out.String(), tt.want+"\n")
			require.Contains(t, e.out.String(), "- Installing Heroku AppLink Service Mesh")
			require.EqualValues(t, 2, e.requests.Load())
			md := readLayerTOML(t, e.dirs.Layers)["metadata"].(map[string]any)
			bin, err := os.ReadFile(filepath.Join(e.dirs.Layers, "service-mesh/bin/heroku-applink-service-mesh"))
			require.NoError(t, err)
			require.Equal(t, md["checksum"], "sha256:"+digest(bin), "the layer holds what its metadata says")
			entries, err := os.ReadDir(filepath.Join(e.dirs.Layers, "service-mesh/bin"))
			require.NoError(t, err)
			require.Len(t, entries, 2, "nothing stale is left in the layer")
		})
	}
}

func TestBuildFailureLeavesNoLayer(t *testing.T) {
	e := newEnv(t)
	e.setVar(t, config.VarMirror, "http://127.0.0.1:1")
	err := e.build(t)
	var derr *install.DownloadError
	require.ErrorAs(t, err, &derr)
	entries, rerr := os.ReadDir(e.dirs.Layers)
	require.NoError(t, rerr)
	require.Empty(t, entries)
}
