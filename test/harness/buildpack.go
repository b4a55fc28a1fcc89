package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/release"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

// RepoRoot finds the repository root above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "buildpack.toml")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("harness: no buildpack repository above the working directory")
		}
		dir = parent
	}
}

// BuildGo builds a main package of this repository for linux/goarch into
// out, with reproducible flags and the extra -X settings given.
func BuildGo(root, pkg, goarch, out string, xflags ...string) error {
	ldflags := "-s -w -buildid="
	for _, x := range xflags {
		ldflags += " -X " + x
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("harness: go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// StandInMesh builds the stand-in mesh as release version for arch.
func StandInMesh(root, dir, version, arch string) (testhelpers.Artifact, error) {
	out := filepath.Join(dir, "mesh-"+version+"-"+arch)
	if err := BuildGo(root, "./test/fixtures/mesh", arch, out, "main.version=v"+strings.TrimPrefix(version, "v")); err != nil {
		return testhelpers.Artifact{}, err
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return testhelpers.Artifact{}, err
	}
	return testhelpers.Artifact{Version: strings.TrimPrefix(version, "v"), Arch: arch, Data: data}, nil
}

// BuildBinary builds the buildpack binary for linux/goarch into dir, with the
// flags the shim uses, and returns its path.
func BuildBinary(root, goarch, dir string) (string, error) {
	version, err := BuildpackVersion(root)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "linux-"+goarch, release.BuildpackBinary)
	return out, BuildGo(root, "./cmd/"+release.BuildpackBinary, goarch, out, "main.version="+version)
}

// BuildpackVersion reads [buildpack] version from buildpack.toml.
func BuildpackVersion(root string) (string, error) {
	d, err := release.Read(root)
	return d.Buildpack.Version, err
}

// Buildpack is a copy of the buildpack as the platform sees it: the bin/
// shims, lib/ and buildpack.toml, with a prebuilt binary and a test
// inventory, and without Go sources.
type Buildpack struct {
	Dir string
}

// NewBuildpack lays the buildpack out in dir, with the test's inventory in
// place of the repository's: tests never touch the checkout's inventory.
// binaries maps an arch to a built binary.
func NewBuildpack(root, dir string, binaries map[string]string, inv inventory.Inventory) (*Buildpack, error) {
	for _, sub := range []string{"bin", "lib"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"bin/detect", "bin/compile", "bin/release", "bin/report", "bin/build", "lib/shim.sh", "buildpack.toml"} {
		if err := copyFile(filepath.Join(root, name), filepath.Join(dir, name)); err != nil {
			return nil, err
		}
	}
	bp := &Buildpack{Dir: dir}
	if err := bp.SetInventory(inv); err != nil {
		return nil, err
	}
	for arch, bin := range binaries {
		dest := filepath.Join(dir, "lib", "linux-"+arch, release.BuildpackBinary)
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return nil, err
		}
		if err := copyFile(bin, dest); err != nil {
			return nil, err
		}
	}
	return bp, nil
}

// SetInventory replaces the buildpack's inventory.
func (bp *Buildpack) SetInventory(inv inventory.Inventory) error {
	return inv.Save(bp.Dir)
}

func copyFile(src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, info.Mode().Perm())
}

// CopyTree copies a fixture directory (files, dirs and symlinks).
func CopyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case info.Mode()&os.ModeNamedPipe != 0:
			// A hostile fixture's pipe is made again, never read.
			return syscall.Mkfifo(target, uint32(info.Mode().Perm()))
		case !info.Mode().IsRegular():
			return fmt.Errorf("harness: cannot copy %s: %s", p, info.Mode().Type())
		default:
			return copyFile(p, target)
		}
	})
}

// PrepareSource lays out an app's source in dst: a fixture directory plus
// extra files (destination path relative to the app, source path), such as
// a web app binary built by the test.
func PrepareSource(dst, fixture string, files map[string]string) error {
	if err := CopyTree(fixture, dst); err != nil {
		return err
	}
	for rel, src := range files {
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := copyFile(src, target); err != nil {
			return err
		}
	}
	return nil
}
