package e2e

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/release"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

// The packaged buildpack, as users install it: no Go sources, no toolchain.

func packaged(t *testing.T) string {
	t.Helper()
	dist := t.TempDir()
	_, err := release.Package(repoRoot, binDir, dist)
	require.NoError(t, err)
	return dist
}

// unpack extracts the classic tarball with tar, as the platform does, into
// a directory the unprivileged user can reach.
func unpack(t *testing.T, dist string) string {
	t.Helper()
	dir, err := harness.ReachableTempDir("classic-bp-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	tgz := filepath.Join(dist, "heroku-applink-service-mesh-buildpack-v"+bpVersion(t)+".tgz")
	out, err := exec.Command("tar", "-xzf", tgz, "-C", dir).CombinedOutput()
	require.NoError(t, err, string(out))
	return dir
}

func TestClassicTarballRunsWithoutGo(t *testing.T) {
	t.Parallel()
	dir := unpack(t, packaged(t))
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		require.NoError(t, err)
		require.False(t, strings.HasSuffix(p, ".go") || info.Name() == "go.mod", "no Go sources ship: %s", p)
		return nil
	}))
	testhelpers.WriteInventory(t, dir, testhelpers.Inventory("", mesh("0.3.0")))
	e := newClassicEnv(t, "0.3.0")
	api := newAppLink(t)
	app, err := harness.NewApp(&harness.Buildpack{Dir: dir}, appSource(t, "sample-app"), t.TempDir())
	require.NoError(t, err)
	require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", e.mirror.URL()))
	require.NoError(t, app.SetConfigs(api.Config()))
	// The harness runs every buildpack program under env -i PATH=/usr/bin:/bin,
	// where there is no go.
	_, err = exec.LookPath("/usr/bin/go")
	require.Error(t, err)
	require.NoError(t, app.Deploy(context.Background()))
	require.NotContains(t, app.Output(), "Building the buildpack binary")
	require.Contains(t, app.Output(), "-----> Heroku AppLink Service Mesh buildpack v"+bpVersion(t)+"\n")
	assertServes(t, startWeb(t, app, nil), api, "0.3.0")

	require.NoError(t, app.Push(context.Background()))
	require.Contains(t, app.Output(), "Using the cached copy")
}

func TestShimRestoresALostExecBit(t *testing.T) {
	t.Parallel()
	dir := unpack(t, packaged(t))
	bin := filepath.Join(dir, release.BinaryPath(runtime.GOARCH))
	require.NoError(t, os.Chmod(bin, 0o644))

	if os.Geteuid() == 0 {
		// A user who cannot chmod the file gets told exactly that.
		cmd := exec.Command(filepath.Join(dir, "bin/report"), dir, t.TempDir(), dir)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		require.Error(t, err)
		require.Contains(t, string(out), bin+" has lost its exec bit, and user 65534 cannot restore it")
	}

	cmd := exec.Command(filepath.Join(dir, "bin/report"), dir, t.TempDir(), dir)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "{}\n", string(out))
	info, err := os.Stat(bin)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), info.Mode().Perm(), "the shim restored the exec bit")
}

func TestShimRejectsUnknownArchitecture(t *testing.T) {
	t.Parallel()
	needRoot(t)
	dir := unpack(t, packaged(t))
	// Another machine, as both places the shim asks report it: the kernel's
	// /proc/sys/kernel/arch (covered by a bind mount in a private mount
	// namespace) and a uname first on PATH.
	fake := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(fake, "uname"), []byte("#!/bin/sh\necho riscv64\n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(fake, "arch"), []byte("riscv64\n"), 0o644))
	script := `if [ -e /proc/sys/kernel/arch ]; then mount --bind "$1/arch" /proc/sys/kernel/arch || exit 99; fi; shift; exec "$@"`
	cmd := exec.Command("unshare", "-m", "sh", "-c", script, "sh", fake, filepath.Join(dir, "bin/compile"), t.TempDir(), t.TempDir(), t.TempDir())
	cmd.Env = []string{"PATH=" + fake + ":/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Equal(t, "\n !     Error: unsupported architecture riscv64: the Heroku AppLink Service Mesh is released for x86_64 (amd64) and aarch64 (arm64) only\n\n", string(out))
}

func TestCNBPackageUnderTheLifecycle(t *testing.T) {
	t.Parallel()
	dist := packaged(t)
	e := newCNBEnv(t, "sample-app", "0.12", stand("0.3.0", "amd64"))
	// Replace the source-layout buildpack with the packaged one.
	bpDir := filepath.Join(e.platform.Buildpacks, "heroku_heroku-applink", bpVersion(t))
	require.NoError(t, os.RemoveAll(bpDir))
	require.NoError(t, harness.CopyTree(filepath.Join(dist, "cnb", "linux-"+runtime.GOARCH), bpDir))
	testhelpers.WriteInventory(t, bpDir, testhelpers.Inventory("", mesh("0.3.0")))
	require.NoError(t, exec.Command("chmod", "-R", "go+rX", bpDir).Run())
	_, err := os.Stat(filepath.Join(bpDir, "package.toml"))
	require.NoError(t, err)

	res := e.build(t)
	require.Equal(t, 0, res.Code, res.Output)
	require.Contains(t, res.Output, "## Heroku AppLink Service Mesh (buildpack v"+bpVersion(t)+")")
	out, err := e.platform.LaunchCommand(context.Background(), "heroku-applink-service-mesh", "-v")
	require.NoError(t, err, out)
	require.Contains(t, out, "version v0.3.0")
	sbom, err := os.ReadFile(filepath.Join(e.platform.Layers, "sbom/launch/heroku_heroku-applink/service-mesh/sbom.cdx.json"))
	require.NoError(t, err)
	require.Contains(t, string(sbom), `"version": "`+bpVersion(t)+`"`, "the SBOM names the buildpack's version")
}

func TestArm64Binary(t *testing.T) {
	t.Parallel()
	dir := unpack(t, packaged(t))
	bin := filepath.Join(dir, release.BinaryPath("arm64"))
	f, err := elf.Open(bin)
	require.NoError(t, err)
	require.Equal(t, elf.EM_AARCH64, f.Machine)
	require.Equal(t, elf.ELFCLASS64, f.Class)
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "the binary is static: no dynamic loader")
	}
	f.Close()

	qemu, err := exec.LookPath("qemu-aarch64")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("qemu-aarch64 is missing: .ci/run installs Debian's qemu-user")
		}
		t.Skip("qemu-aarch64 is not installed (Debian's qemu-user); CI installs it")
	}
	out, err := exec.Command(qemu, bin, "report", t.TempDir(), t.TempDir(), t.TempDir()).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "{}\n", string(out))

	// A whole compile by the arm64 binary installs the arm64 mesh.
	testhelpers.WriteInventory(t, dir, testhelpers.Inventory("", meshes["0.3.0/arm64"]))
	e := newClassicEnv(t)
	e.mirror.Put(meshes["0.3.0/arm64"].Object(), meshes["0.3.0/arm64"].Data)
	build, cache, envDir := t.TempDir(), t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(envDir, "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"), []byte(e.mirror.URL()), 0o644))
	cmd := exec.Command(qemu, bin, "compile", build, cache, envDir)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HEROKU_APPLINK_BUILDPACK_DIR=" + dir, "NO_COLOR=1"}
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "Installing Heroku AppLink Service Mesh 0.3.0 (linux-arm64)")
	out, err = exec.Command(qemu, filepath.Join(build, "vendor/heroku-applink/bin/heroku-applink-service-mesh"), "-v").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "heroku-applink-service-mesh version v0.3.0 [os: linux, arch: arm64]\n", string(out))
}

// TestReleaseWorkflowReadsTheDescriptor: what the release workflow reads
// with make -s print-BUILDPACK_VERSION and print-IMAGE_REPOSITORY, a sed
// over buildpack.toml, is what a TOML parser reads.
func TestReleaseWorkflowReadsTheDescriptor(t *testing.T) {
	t.Parallel()
	var d struct {
		Buildpack struct{ Version string }
		Metadata  struct {
			Release struct{ Image struct{ Repository string } }
		}
	}
	_, err := toml.DecodeFile(filepath.Join(repoRoot, "buildpack.toml"), &d)
	require.NoError(t, err)
	require.NotEmpty(t, d.Buildpack.Version)
	require.NotEmpty(t, d.Metadata.Release.Image.Repository)
	for name, want := range map[string]string{"BUILDPACK_VERSION": d.Buildpack.Version, "IMAGE_REPOSITORY": d.Metadata.Release.Image.Repository} {
		cmd := exec.Command("make", "-s", "print-"+name)
		cmd.Dir = repoRoot
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		require.Equal(t, want+"\n", string(out), name)
	}
}

// TestReleaseCheck runs `make release-check` on a release tree built from
// this repository, then on each kind of broken one.
func TestReleaseCheck(t *testing.T) {
	t.Parallel()
	tree := gitCopy(t)
	make_ := func(target string) (string, error) {
		cmd := exec.Command("make", "-s", target)
		cmd.Dir = tree
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := make_("release-check")
	require.Error(t, err, "a tree without committed binaries is not a release")
	require.Contains(t, out, "the linux/arm64 binary lib/linux-arm64/heroku-applink-buildpack is missing")

	out, err = make_("release-binaries")
	require.NoError(t, err, out)
	if inv, err := inventory.Load(filepath.Join(tree, inventory.FileName)); err == nil && len(inv.Artifacts) == 0 {
		// The checkout pins nothing yet: a release of it is refused, with
		// the command that fixes it.
		out, err = make_("release-check")
		require.Error(t, err, out)
		require.Contains(t, out, "inventory.toml pins no release of the service mesh for linux/amd64: run make update-inventory")
	}
	// A release tree pins a release for each target and the signing key.
	testhelpers.WriteInventory(t, tree, testhelpers.Inventory("0123456789ABCDEF0123456789ABCDEF01234567", meshes["0.3.0/amd64"], meshes["0.3.0/arm64"]))
	out, err = make_("release-check")
	require.NoError(t, err, out)
	require.Contains(t, out, "Ready to release")

	breaks := []struct {
		name  string
		apply func()
		want  string
	}{
		{"binary not built from this source", func() {
			f, err := os.OpenFile(filepath.Join(tree, release.BinaryPath("amd64")), os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			f.Write([]byte{0})
			f.Close()
		}, "lib/linux-amd64/heroku-applink-buildpack is not the reproducible build of this source"},
		{"version bumped without a CHANGELOG entry", func() {
			editFile(t, filepath.Join(tree, "buildpack.toml"), `version = "`+bpVersion(t)+`"`, `version = "99.0.0"`)
		}, `CHANGELOG.md has no "## [99.0.0] - YYYY-MM-DD" entry`},
		{"broken inventory", func() {
			require.NoError(t, os.WriteFile(filepath.Join(tree, "inventory.toml"), []byte("[[artifacts]]\nos = \"linux\"\n"), 0o644))
		}, "invalid inventory"},
		{"missing arm64 binary", func() {
			require.NoError(t, os.Remove(filepath.Join(tree, release.BinaryPath("arm64"))))
		}, "lib/linux-arm64/heroku-applink-buildpack is missing"},
	}
	for _, b := range breaks {
		b.apply()
		out, err := make_("release-check")
		require.Error(t, err, b.name)
		require.Contains(t, out, b.want, b.name)
	}
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), old)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644))
}
