package install_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

// FuzzIndex: whatever the cache's index holds, looking a release up in it
// never panics, and a copy it names lies in the cache's own entries.
func FuzzIndex(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("[[releases]]\nversion = \"latest\"\nos = \"linux\"\narch = \"amd64\"\nurl = \"https://m/x\"\n" +
		"checksum = \"sha256:" + strings.Repeat("a", 64) + "\"\nverified = \"signature\"\nsigner = \"AB\"\nkey-source = \"k\"\netag = \"\\\"e\\\"\"\n"))
	f.Add([]byte("[[releases]]\nchecksum = \"sha256:../../etc/passwd\"\n"))
	f.Add([]byte("[[releases]\n"))
	cfg, err := config.Parse(map[string]string{config.VarVersion: "latest"})
	if err != nil {
		f.Fatal(err)
	}
	rel, err := install.Select(cfg, inventory.Inventory{}, "", "amd64")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, index []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "index.toml"), index, 0o600); err != nil {
			t.Fatal(err)
		}
		c := &install.Cache{Dir: dir}
		copy, _ := c.Lookup(rel)
		if copy != nil && filepath.Dir(copy.Path) != filepath.Join(dir, "sha256") {
			t.Fatalf("a copy outside the cache's entries: %s", copy.Path)
		}
		if _, err := c.Prune(nil); err != nil {
			t.Fatalf("prune: %v", err)
		}
	})
}
