package cnb

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
)

// FuzzLayerMetadata: whatever a restored layer's TOML holds, reading it
// never panics, and a copy it yields is the layer's own binary.
func FuzzLayerMetadata(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("[metadata]\nversion = \"0.3.0\"\nos = \"linux\"\narch = \"amd64\"\nurl = \"https://b/x\"\nchecksum = \"sha256:" +
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\nverified = \"pinned checksum\"\n"))
	f.Add([]byte("[metadata]\netag = \"abc\"\n"))
	f.Add([]byte("[types]\nlaunch = true\n[metadata\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		layers := t.TempDir()
		l := &layer{dir: filepath.Join(layers, LayerName)}
		if err := os.MkdirAll(filepath.Join(l.dir, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(l.toml(), data, 0o644); err != nil {
			t.Fatal(err)
		}
		copy, problem := l.Lookup(install.Release{})
		if copy != nil && (problem != nil || copy.Path != filepath.Join(l.dir, "bin", "heroku-applink-service-mesh") || !copy.InPlace) {
			t.Fatalf("unexpected copy %+v (%v)", copy, problem)
		}
		if problem != nil && problem.String() == "" {
			t.Fatal("a discard without a reason")
		}
	})
}
