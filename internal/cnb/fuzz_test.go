package cnb

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
)

// FuzzLayerMetadata: whatever a restored layer's TOML holds, reading it is
// quick and never panics, and a copy it yields is the layer's own binary;
// a layer it will not keep is gone.
func FuzzLayerMetadata(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("[metadata]\nversion = \"0.3.0\"\nos = \"linux\"\narch = \"amd64\"\nurl = \"https://b/x\"\nchecksum = \"sha256:" +
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\nverified = \"pinned checksum\"\n"))
	f.Add([]byte("[metadata]\netag = \"abc\"\n"))
	f.Add([]byte("[types]\nlaunch = true\n[metadata\n"))
	f.Add([]byte("a.a.a.a.a.a.a.a.b = 1\n"))
	f.Add([]byte("a = [[[[[[[[[[1]]]]]]]]]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, Layer, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, Layer+".toml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		layers, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer layers.Close()
		k := restored(layers)
		switch {
		case k == nil:
		case k.Name != Layer+"/bin/"+install.Binary || !k.InPlace:
			t.Fatalf("unexpected copy %+v", k)
		case k.Problem != "":
			if _, err := os.Lstat(filepath.Join(dir, Layer)); err == nil {
				t.Fatalf("a layer not kept (%s) is still there", k.Problem)
			}
		}
	})
}
