package meshconfig_test

import (
	"os"
	"testing"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/meshconfig"
)

// FuzzMeshConfig: any file is checked without a panic, and the verdict is
// whole: a file the mesh refuses says why; one it reads has no structural
// finding and names where the mesh forwards only with a port number.
func FuzzMeshConfig(f *testing.F) {
	for _, s := range []string{
		"app:\n  port: 3000\n", "mesh:\n  authentication:\n    bypassRoutes: [/a, b, '/*']\n", "~", "", "---\n---\n",
		"app: {<<: {bogus: 1}}\n", "a: &x [*x]\n", "app: [\n", "\tapp: 1", "app:\n  port: 1\napp:\n  port: 2\n",
		"app: &x {<<: *x}\n", "app: &a {<<: &b {<<: *a}}\n", "mesh: &m {authentication: *m}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := writeFile(dir, meshconfig.FileName, data); err != nil {
			t.Fatal(err)
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		r := meshconfig.Check(root, "", false)
		switch {
		case !r.Found:
			t.Fatal("the file was not found")
		case r.Fatal && len(r.Structure) == 0:
			t.Fatalf("refused without a reason: %q", data)
		case !r.Fatal && len(r.Structure) > 0:
			t.Fatalf("read, yet with structural findings %v: %q", r.Structure, data)
		case r.Fatal && (len(r.Bypass) > 0 || r.AppPort != ""):
			t.Fatalf("refused, yet with routes or a port: %q", data)
		}
	})
}
