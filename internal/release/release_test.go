package release_test

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/release"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

const descriptor = `api = "0.10"

[buildpack]
id = "heroku/heroku-applink"
version = "1.2.3"

[[targets]]
os = "linux"
arch = "amd64"

[[targets]]
os = "linux"
arch = "arm64"

[publish.Ignore]
files = [
  "cmd/",
  "go.mod",
]

[metadata]
`

// fingerprint is a release key's fingerprint as inventory.toml pins it.
const fingerprint = "0123456789ABCDEF0123456789ABCDEF01234567"

// tree lays out a minimal release source tree: ready to release once the
// binaries are committed.
func tree(t *testing.T) (root, bins string) {
	t.Helper()
	root = t.TempDir()
	files := map[string]string{
		"buildpack.toml": descriptor, "README.md": "readme", "LICENSE": "license",
		"CHANGELOG.md": "# Changelog\n\n## [Unreleased]\n\n## [1.2.3] - 2026-11-26\n\n- Things.\n",
		"bin/detect":   "#!/bin/sh\n", "bin/compile": "#!/bin/sh\n", "bin/release": "#!/bin/sh\n", "bin/report": "#!/bin/sh\n", "bin/build": "#!/bin/sh\n",
		"lib/shim.sh": "# shim\n", "go.mod": "module x\n", "internal/x/x.go": "package x\n",
	}
	for name, data := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(data), 0o644))
	}
	testhelpers.WriteInventory(t, root, testhelpers.Inventory(fingerprint, testhelpers.FakeMesh("0.2.2", "amd64"), testhelpers.FakeMesh("0.2.2", "arm64")))
	bins = t.TempDir()
	for _, arch := range inventory.Architectures {
		require.NoError(t, os.MkdirAll(filepath.Join(bins, "linux-"+arch), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(bins, "linux-"+arch, release.BuildpackBinary), []byte("ELF "+arch), 0o755))
	}
	return root, bins
}

func listTarball(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	entries := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		require.NoError(t, err)
		entries[h.Name] = os.FileMode(h.Mode).String()
	}
}

func TestPackage(t *testing.T) {
	root, bins := tree(t)
	dist := t.TempDir()
	written, err := release.Package(root, bins, dist)
	require.NoError(t, err)
	require.Len(t, written, 3)

	classic := listTarball(t, filepath.Join(dist, "heroku-applink-service-mesh-buildpack-v1.2.3.tgz"))
	var names []string
	for n := range classic {
		names = append(names, n)
	}
	sort.Strings(names)
	want := []string{"CHANGELOG.md", "LICENSE", "README.md", "bin/", "bin/build", "bin/compile", "bin/detect", "bin/release", "bin/report",
		"buildpack.toml", "inventory.toml", "lib/", "lib/linux-amd64/", "lib/linux-amd64/heroku-applink-buildpack",
		"lib/linux-arm64/", "lib/linux-arm64/heroku-applink-buildpack", "lib/shim.sh"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("classic tarball (-want +got):\n%s", diff)
	}
	require.Equal(t, "-rwxr-xr-x", classic["bin/compile"])
	require.Equal(t, "-rwxr-xr-x", classic["lib/linux-arm64/heroku-applink-buildpack"])
	require.Equal(t, "-rw-r--r--", classic["buildpack.toml"])

	cnb := listDir(t, filepath.Join(dist, "cnb", "linux-arm64"))
	var cnbNames []string
	for n := range cnb {
		cnbNames = append(cnbNames, n)
	}
	sort.Strings(cnbNames)
	want = []string{"LICENSE", "bin/build", "bin/compile", "bin/detect", "bin/release", "bin/report", "buildpack.toml", "inventory.toml",
		"lib/linux-arm64/heroku-applink-buildpack", "lib/shim.sh", "package.toml"}
	if diff := cmp.Diff(want, cnbNames); diff != "" {
		t.Errorf("CNB directory (-want +got):\n%s", diff)
	}
	toml, err := os.ReadFile(filepath.Join(dist, "cnb", "linux-arm64", "buildpack.toml"))
	require.NoError(t, err)
	require.Contains(t, string(toml), "[[targets]]\nos = \"linux\"\narch = \"arm64\"\n")
	require.NotContains(t, string(toml), `arch = "amd64"`)
	require.NotContains(t, string(toml), "[publish", "the classic registry's tables stay out of a CNB package: pack warns about them")
	require.Contains(t, string(toml), "[buildpack]\nid = \"heroku/heroku-applink\"")
	inv, err := inventory.Load(filepath.Join(dist, "cnb", "linux-arm64", inventory.FileName))
	require.NoError(t, err)
	require.Len(t, inv.Artifacts, 1, "a target's package pins only its own architecture")
	require.Equal(t, "arm64", inv.Artifacts[0].Arch)
	info, err := os.Stat(filepath.Join(dist, "cnb", "linux-arm64", "bin", "build"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), info.Mode().Perm())

	// Packaging again into the same dist replaces what it wrote.
	stray := filepath.Join(dist, "cnb", "linux-arm64", "stray")
	require.NoError(t, os.WriteFile(stray, nil, 0o644))
	_, err = release.Package(root, bins, dist)
	require.NoError(t, err)
	require.NoFileExists(t, stray)

	// The same tree packages to the same bytes.
	first, err := os.ReadFile(filepath.Join(dist, "heroku-applink-service-mesh-buildpack-v1.2.3.tgz"))
	require.NoError(t, err)
	dist2 := t.TempDir()
	_, err = release.Package(root, bins, dist2)
	require.NoError(t, err)
	second, err := os.ReadFile(filepath.Join(dist2, "heroku-applink-service-mesh-buildpack-v1.2.3.tgz"))
	require.NoError(t, err)
	require.Equal(t, first, second)
}

// TestPackageShipsTheKeyFile: a tree with the release key file carries it
// in the tarball and every CNB package, where a build looks for it.
func TestPackageShipsTheKeyFile(t *testing.T) {
	root, bins := tree(t)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "keys"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, install.KeyFile), []byte("key"), 0o644))
	dist := t.TempDir()
	_, err := release.Package(root, bins, dist)
	require.NoError(t, err)
	classic := listTarball(t, filepath.Join(dist, "heroku-applink-service-mesh-buildpack-v1.2.3.tgz"))
	require.Equal(t, "-rw-r--r--", classic[install.KeyFile])
	require.Contains(t, classic, "keys/")
	for _, arch := range inventory.Architectures {
		data, err := os.ReadFile(filepath.Join(dist, "cnb", "linux-"+arch, install.KeyFile))
		require.NoError(t, err)
		require.Equal(t, "key", string(data))
	}
}

func TestPackageNeedsBothBinaries(t *testing.T) {
	root, bins := tree(t)
	require.NoError(t, os.Remove(filepath.Join(bins, "linux-arm64", release.BuildpackBinary)))
	_, err := release.Package(root, bins, t.TempDir())
	require.ErrorContains(t, err, "missing the linux/arm64 binary")
}

// ready lays out a release tree with its binaries committed.
func ready(t *testing.T) (string, string) {
	t.Helper()
	root, bins := tree(t)
	for _, arch := range inventory.Architectures {
		dest := filepath.Join(root, release.BinaryPath(arch))
		require.NoError(t, os.MkdirAll(filepath.Dir(dest), 0o755))
		data, err := os.ReadFile(filepath.Join(bins, "linux-"+arch, release.BuildpackBinary))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dest, data, 0o755))
	}
	return root, bins
}

func TestCheck(t *testing.T) {
	root, bins := ready(t)
	problems := release.Check(root, bins)
	require.Empty(t, problems)

	tests := []struct {
		name   string
		break_ func(root string)
		want   string
	}{
		{"version without a CHANGELOG entry", func(root string) {
			edit(t, filepath.Join(root, "buildpack.toml"), `version = "1.2.3"`, `version = "1.2.4"`)
		}, `CHANGELOG.md has no "## [1.2.4] - YYYY-MM-DD" entry`},
		{"the version's section undated", func(root string) {
			edit(t, filepath.Join(root, "CHANGELOG.md"), "## [1.2.3] - 2026-11-26", "## [1.2.3]")
		}, `CHANGELOG.md has no "## [1.2.3] - YYYY-MM-DD" entry`},
		{"the version's section empty", func(root string) {
			edit(t, filepath.Join(root, "CHANGELOG.md"), "- Things.\n", "")
		}, "CHANGELOG.md says nothing under 1.2.3: there is nothing to release"},
		{"the version's section as the shared workflow writes an empty one", func(root string) {
			edit(t, filepath.Join(root, "CHANGELOG.md"), "- Things.", "- No changes.")
		}, "CHANGELOG.md says nothing under 1.2.3: there is nothing to release"},
		{"no CHANGELOG", func(root string) {
			require.NoError(t, os.Remove(filepath.Join(root, "CHANGELOG.md")))
		}, `CHANGELOG.md has no "## [1.2.3] - YYYY-MM-DD" entry`},
		{"version that is not semver", func(root string) {
			edit(t, filepath.Join(root, "buildpack.toml"), `version = "1.2.3"`, `version = "1.2"`)
		}, `[buildpack] version "1.2" is not a semantic version`},
		{"missing arch binary", func(root string) {
			require.NoError(t, os.Remove(filepath.Join(root, release.BinaryPath("arm64"))))
		}, "the linux/arm64 binary lib/linux-arm64/heroku-applink-buildpack is missing"},
		{"binary that is not the build of the source", func(root string) {
			require.NoError(t, os.WriteFile(filepath.Join(root, release.BinaryPath("amd64")), []byte("ELF other"), 0o755))
		}, "lib/linux-amd64/heroku-applink-buildpack is not the reproducible build of this source"},
		{"binary without exec bit", func(root string) {
			require.NoError(t, os.Chmod(filepath.Join(root, release.BinaryPath("amd64")), 0o644))
		}, "lib/linux-amd64/heroku-applink-buildpack is not executable"},
		{"broken inventory", func(root string) {
			require.NoError(t, os.WriteFile(filepath.Join(root, inventory.FileName), []byte("[[artifacts]]\nversion = \"1\"\n"), 0o644))
		}, "invalid inventory "},
		{"descriptor without targets", func(root string) {
			edit(t, filepath.Join(root, "buildpack.toml"), "[[targets]]\nos = \"linux\"\narch = \"amd64\"\n\n[[targets]]\nos = \"linux\"\narch = \"arm64\"\n", "")
		}, "buildpack.toml declares no [[targets]]"},
		{"missing inventory", func(root string) {
			require.NoError(t, os.Remove(filepath.Join(root, inventory.FileName)))
		}, "the buildpack has no inventory.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, bins := ready(t)
			tt.break_(root)
			problems := release.Check(root, bins)
			var texts []string
			for _, p := range problems {
				texts = append(texts, string(p))
			}
			require.Contains(t, strings.Join(texts, "\n"), tt.want)
		})
	}
}

// TestCheckWithoutTheRebuiltBinary: the binaries to compare with are a
// problem to report too.
func TestCheckWithoutTheRebuiltBinary(t *testing.T) {
	root, bins := ready(t)
	require.NoError(t, os.Remove(filepath.Join(bins, "linux-arm64", release.BuildpackBinary)))
	problems := release.Check(root, bins)
	require.Len(t, problems, 1)
	require.Contains(t, problems[0], "the rebuilt linux/arm64 binary: open "+filepath.Join(bins, "linux-arm64", release.BuildpackBinary))
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), old)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644))
}

// TestCheckInventory: a release pins a mesh release for every target of
// buildpack.toml and the signing key's fingerprint, and the check says
// which command fixes what is missing.
func TestCheckInventory(t *testing.T) {
	noPin := func(arch string) string {
		return "inventory.toml pins no release of the service mesh for linux/" + arch +
			": run make update-inventory (or make pin VERSION=vX.Y.Z) and commit it"
	}
	const noKey = `inventory.toml pins no signing key: add [signing] fingerprint = "<40 hex digits>" to it, the fingerprint of the key that signs mesh releases`
	amd64, arm64 := testhelpers.FakeMesh("0.2.2", "amd64"), testhelpers.FakeMesh("0.2.2", "arm64")
	tests := []struct {
		name      string
		inventory string
		inv       inventory.Inventory
		want      []string
	}{
		{name: "both targets and the key pinned", inv: testhelpers.Inventory(fingerprint, amd64, arm64)},
		{name: "an inventory with comments only", inventory: "# Written by make pin.\n",
			want: []string{noPin("amd64"), noPin("arm64"), noKey}},
		{name: "the key without a release", inv: testhelpers.Inventory(fingerprint),
			want: []string{noPin("amd64"), noPin("arm64")}},
		{name: "one target unpinned", inv: testhelpers.Inventory(fingerprint, amd64, testhelpers.FakeMesh("0.3.0", "amd64")),
			want: []string{noPin("arm64")}},
		{name: "no signing key", inv: testhelpers.Inventory("", amd64, arm64),
			want: []string{noKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, bins := ready(t)
			if tt.inventory != "" {
				require.NoError(t, os.WriteFile(filepath.Join(root, inventory.FileName), []byte(tt.inventory), 0o644))
			} else {
				testhelpers.WriteInventory(t, root, tt.inv)
			}
			problems := release.Check(root, bins)
			var got []string
			for _, p := range problems {
				got = append(got, string(p))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckTargets(t *testing.T) {
	root, bins := ready(t)
	edit(t, filepath.Join(root, "buildpack.toml"), "[[targets]]\nos = \"linux\"\narch = \"arm64\"\n", "[[targets]]\nos = \"linux\"\narch = \"arm64\"\n\n[[targets]]\nos = \"linux\"\narch = \"riscv64\"\n")
	problems := release.Check(root, bins)
	require.Equal(t, []string{"inventory.toml pins no release of the service mesh for linux/riscv64: run make update-inventory (or make pin VERSION=vX.Y.Z) and commit it"}, problems,
		"every target buildpack.toml declares needs a pin")
}

func listDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			entries[rel] = info.Mode().String()
		}
		return err
	}))
	return entries
}

func TestNotes(t *testing.T) {
	const repo = "https://github.com/heroku/heroku-buildpack-heroku-applink-service-mesh"
	const changelog = "# Changelog\n\n## [Unreleased]\n\n### Changed\n\n- Pinned 0.3.0.\n\n## [1.2.3] - 2026-12-05\n\n- The rewrite.\n\n" +
		"[unreleased]: " + repo + "/compare/v1.2.3...HEAD\n[1.2.3]: " + repo + "/compare/v1.1.1...v1.2.3\n"
	tests := []struct {
		name, changelog, version, want, err string
	}{
		{name: "Unreleased", version: "Unreleased", want: "### Changed\n\n- Pinned 0.3.0.\n"},
		{name: "a version", version: "1.2.3", want: "- The rewrite.\n"},
		{name: "a version without a section", version: "1.9.0", err: "CHANGELOG.md has no section for 1.9.0"},
		{name: "the last section, without links", changelog: "## [Unreleased]\n\n## [1.0.0] - 2026-01-01\n\n- Last.\n", version: "1.0.0", want: "- Last.\n"},
		{name: "an empty section", changelog: "## [Unreleased]\n\n## [1.0.0] - 2026-01-01\n\n- Last.\n", version: "Unreleased", want: "\n"},
		{name: "a heading without its newline", changelog: "## [1.0.0] - 2026-01-01", version: "1.0.0", err: "CHANGELOG.md has no section for 1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.changelog == "" {
				tt.changelog = changelog
			}
			got, err := release.Notes([]byte(tt.changelog), tt.version)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
