package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

// BuildpackBinary is the buildpack's own binary under lib/linux-<arch>/.
const BuildpackBinary = "heroku-applink-buildpack"

// BinaryPath is where a release tree keeps the binary for arch.
func BinaryPath(arch string) string { return filepath.Join("lib", "linux-"+arch, BuildpackBinary) }

// Descriptor is what releasing needs of buildpack.toml.
type Descriptor struct {
	Buildpack struct{ Version string }
	Targets   []struct{ OS, Arch string }
	Metadata  struct {
		Release struct{ Image struct{ Repository string } }
	}
}

// Read reads root's buildpack.toml; its version must be X.Y.Z.
func Read(root string) (Descriptor, error) {
	var d Descriptor
	_, err := toml.DecodeFile(filepath.Join(root, "buildpack.toml"), &d)
	if err == nil {
		if _, verr := semver.StrictNewVersion(d.Buildpack.Version); verr != nil {
			err = fmt.Errorf("[buildpack] version %q is not a semantic version X.Y.Z", d.Buildpack.Version)
		}
	}
	return d, err
}

// files a platform runs, besides the binaries, and the classic tarball's
// documents.
var (
	runtimeFiles = []string{"bin/detect", "bin/compile", "bin/release", "bin/report", "bin/build", "lib/shim.sh", "buildpack.toml", inventory.FileName}
	docFiles     = []string{"README.md", "LICENSE", "CHANGELOG.md"}
)

// file is one entry of a package.
type file struct {
	name string
	mode int64
	data []byte
}

// Package writes into dist the classic tarball, with the binaries of
// binDir/linux-<arch>/, and one CNB directory per target, which pack makes
// a buildpackage of. A CNB package holds its target's binary, a
// buildpack.toml declaring only that target (and none of the classic
// registry's [publish] tables, which pack warns about) and an inventory
// pinning only its arch.
func Package(root, binDir, dist string) ([]string, error) {
	d, err := Read(root)
	if err != nil {
		return nil, err
	}
	inv, err := inventory.Load(filepath.Join(root, inventory.FileName))
	if err != nil {
		return nil, err
	}
	var common, classic []file
	for _, name := range append(slices.Clone(runtimeFiles), docFiles...) {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return nil, err
		}
		mode := map[bool]int64{true: 0o755, false: 0o644}[strings.HasPrefix(name, "bin/")]
		common = append(common, file{name, mode, data})
	}
	binaries := map[string]file{}
	for _, arch := range inventory.Architectures {
		data, err := os.ReadFile(filepath.Join(binDir, "linux-"+arch, BuildpackBinary))
		if err != nil {
			return nil, fmt.Errorf("missing the linux/%s binary: %w (run make binaries)", arch, err)
		}
		binaries[arch] = file{BinaryPath(arch), 0o755, data}
		classic = append(classic, binaries[arch])
	}
	tarball := filepath.Join(dist, "heroku-applink-service-mesh-buildpack-v"+d.Buildpack.Version+".tgz")
	written := []string{tarball}
	if err := writeTarball(tarball, append(classic, common...)); err != nil {
		return nil, err
	}
	for _, arch := range inventory.Architectures {
		var only bytes.Buffer
		if err := inv.ForArch(arch).Encode(&only); err != nil {
			return nil, err
		}
		files := []file{binaries[arch], {"package.toml", 0o644, []byte("[buildpack]\nuri = \".\"\n\n[platform]\nos = \"linux\"\n")}}
		for _, f := range common {
			switch f.name {
			case inventory.FileName:
				f.data = only.Bytes()
			case "buildpack.toml":
				f.data = []byte(ForTarget(string(f.data), arch))
			case "README.md", "CHANGELOG.md":
				continue
			}
			files = append(files, f)
		}
		dir := filepath.Join(dist, "cnb", "linux-"+arch)
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		for _, f := range files {
			p := filepath.Join(dir, f.name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(p, f.data, os.FileMode(f.mode)); err != nil {
				return nil, err
			}
		}
		written = append(written, dir)
	}
	return written, nil
}

// ForTarget is buildpack.toml for one target's CNB package: its
// [[targets]] table only, and no [publish] tables.
func ForTarget(descriptor, arch string) string {
	var blocks []string
	for _, line := range strings.SplitAfter(descriptor, "\n") {
		if strings.HasPrefix(line, "[") || blocks == nil {
			blocks = append(blocks, "")
		}
		blocks[len(blocks)-1] += line
	}
	var out strings.Builder
	for _, b := range blocks {
		if !strings.HasPrefix(b, "[publish") && !(strings.HasPrefix(b, "[[targets]]") && !strings.Contains(b, `arch = "`+arch+`"`)) {
			out.WriteString(b)
		}
	}
	return out.String()
}

// CNBFile is where `make package` writes one target's buildpackage.
func CNBFile(dist, version, arch string) string {
	return filepath.Join(dist, "cnb", fmt.Sprintf("heroku-applink-service-mesh-buildpack-v%s-linux-%s.cnb", version, arch))
}

// PackCNB makes each target's CNB directory in dist into the buildpackage
// users get (`pack buildpack package --format file`), with no warning.
func PackCNB(pack, dist, version string, env []string) ([]string, error) {
	var written []string
	for _, arch := range inventory.Architectures {
		out := CNBFile(dist, version, arch)
		cmd := exec.Command(pack, "buildpack", "package", out, "--path", filepath.Join(dist, "cnb", "linux-"+arch), "--format", "file", "--target", "linux/"+arch)
		cmd.Env = env
		log, err := cmd.CombinedOutput()
		if err == nil && strings.Contains(string(log), "Warning") {
			err = fmt.Errorf("it warned")
		}
		if err != nil {
			return nil, fmt.Errorf("pack buildpack package for linux/%s: %w\n%s", arch, err, log)
		}
		written = append(written, out)
	}
	return written, nil
}

// writeTarball writes a gzipped tar with directories, sorted names, fixed
// times and owners: the same files always give the same bytes.
func writeTarball(path string, files []file) error {
	entries := map[string]file{}
	for _, f := range files {
		entries[f.name] = f
		for d := filepath.Dir(f.name); d != "."; d = filepath.Dir(d) {
			entries[d+"/"] = file{d + "/", 0o755, nil}
		}
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(gz)
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		f := entries[name]
		hdr := &tar.Header{Name: name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(0, 0), Uname: "root", Gname: "root",
			Format: tar.FormatPAX, Typeflag: tar.TypeReg}
		if strings.HasSuffix(name, "/") {
			hdr.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
