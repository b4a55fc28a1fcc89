package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
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

// runtimeFiles are what a platform runs, besides the binaries.
var runtimeFiles = []string{"bin/detect", "bin/compile", "bin/release", "bin/report", "bin/build", "lib/shim.sh", "buildpack.toml", inventory.FileName}

// docFiles ship with the classic tarball.
var docFiles = []string{"README.md", "LICENSE", "CHANGELOG.md"}

// epoch is every packaged file's modification time, so packages built from
// the same tree are byte-identical.
var epoch = time.Unix(0, 0).UTC()

// file is one entry of a package.
type file struct {
	name string
	mode fs.FileMode
	data []byte
}

// Version reads [buildpack] version from buildpack.toml.
func Version(descriptor []byte) (string, error) {
	var d struct {
		Buildpack struct {
			Version string `toml:"version"`
		} `toml:"buildpack"`
	}
	if _, err := toml.Decode(string(descriptor), &d); err != nil {
		return "", fmt.Errorf("buildpack.toml: %w", err)
	}
	if d.Buildpack.Version == "" {
		return "", errors.New("buildpack.toml has no [buildpack] version")
	}
	if _, err := semver.StrictNewVersion(d.Buildpack.Version); err != nil {
		return "", fmt.Errorf("[buildpack] version %q is not a semantic version X.Y.Z", d.Buildpack.Version)
	}
	return d.Buildpack.Version, nil
}

// ImageRepository reads [metadata.release.image] repository, where the
// release publishes the CNB image.
func ImageRepository(descriptor []byte) (string, error) {
	var d struct {
		Metadata struct {
			Release struct {
				Image struct {
					Repository string `toml:"repository"`
				} `toml:"image"`
			} `toml:"release"`
		} `toml:"metadata"`
	}
	if _, err := toml.Decode(string(descriptor), &d); err != nil {
		return "", fmt.Errorf("buildpack.toml: %w", err)
	}
	if d.Metadata.Release.Image.Repository == "" {
		return "", errors.New("buildpack.toml has no [metadata.release.image] repository")
	}
	return d.Metadata.Release.Image.Repository, nil
}

// Target is one [[targets]] table of buildpack.toml.
type Target struct {
	OS   string `toml:"os"`
	Arch string `toml:"arch"`
}

// Targets reads buildpack.toml's [[targets]].
func Targets(descriptor []byte) ([]Target, error) {
	var d struct {
		Targets []Target `toml:"targets"`
	}
	if _, err := toml.Decode(string(descriptor), &d); err != nil {
		return nil, fmt.Errorf("buildpack.toml: %w", err)
	}
	if len(d.Targets) == 0 {
		return nil, errors.New("buildpack.toml declares no [[targets]]")
	}
	return d.Targets, nil
}

// Package writes the classic tarball and the CNB directories and tarballs
// into dist, taking the binaries from binDir/linux-<arch>/.
func Package(root, binDir, dist string) ([]string, error) {
	descriptor, err := os.ReadFile(filepath.Join(root, "buildpack.toml"))
	if err != nil {
		return nil, err
	}
	version, err := Version(descriptor)
	if err != nil {
		return nil, err
	}
	common, err := readFiles(root, append(append([]string{}, runtimeFiles...), docFiles...))
	if err != nil {
		return nil, err
	}
	inv, err := inventory.Load(filepath.Join(root, inventory.FileName))
	if err != nil {
		return nil, err
	}
	binaries := map[string]file{}
	for _, arch := range inventory.Architectures {
		data, err := os.ReadFile(filepath.Join(binDir, "linux-"+arch, BuildpackBinary))
		if err != nil {
			return nil, fmt.Errorf("missing the linux/%s binary: %w (run make binaries)", arch, err)
		}
		binaries[arch] = file{name: BinaryPath(arch), mode: 0o755, data: data}
	}
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return nil, err
	}
	var written []string

	classic := append([]file{}, common...)
	for _, arch := range inventory.Architectures {
		classic = append(classic, binaries[arch])
	}
	name := filepath.Join(dist, "heroku-applink-service-mesh-buildpack-v"+version+".tgz")
	if err := writeTarball(name, classic); err != nil {
		return nil, err
	}
	written = append(written, name)

	for _, arch := range inventory.Architectures {
		files := []file{binaries[arch], {name: "package.toml", mode: 0o644, data: []byte(packageTOML)}}
		var only bytes.Buffer
		if err := inv.ForArch(arch).Encode(&only); err != nil {
			return nil, err
		}
		for _, f := range common {
			switch {
			case f.name == inventory.FileName:
				f.data = only.Bytes()
			case f.name == "buildpack.toml":
				f.data = []byte(ForTarget(string(f.data), arch))
			case strings.HasSuffix(f.name, ".md") || f.name == "LICENSE":
				if f.name != "LICENSE" {
					continue
				}
			}
			files = append(files, f)
		}
		dir := filepath.Join(dist, "cnb", "linux-"+arch)
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		if err := writeDir(dir, files); err != nil {
			return nil, err
		}
		tgz := filepath.Join(dist, "cnb", fmt.Sprintf("heroku-applink-service-mesh-buildpack-v%s-linux-%s.tgz", version, arch))
		if err := writeTarball(tgz, files); err != nil {
			return nil, err
		}
		written = append(written, dir, tgz)
	}
	return written, nil
}

// packageTOML is what `pack buildpack package` reads in a CNB directory.
const packageTOML = `[buildpack]
uri = "."

[platform]
os = "linux"
`

func readFiles(root string, names []string) ([]file, error) {
	var files []file
	for _, n := range names {
		info, err := os.Stat(filepath.Join(root, n))
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(filepath.Join(root, n))
		if err != nil {
			return nil, err
		}
		mode := fs.FileMode(0o644)
		if info.Mode().Perm()&0o100 != 0 || strings.HasPrefix(n, "bin/") {
			mode = 0o755
		}
		files = append(files, file{name: n, mode: mode, data: data})
	}
	return files, nil
}

// ForTarget is buildpack.toml for one target's CNB package: only that
// architecture's [[targets]] table (a package must not claim a target it
// has no binary for), and none of the classic registry's [publish]
// tables, which pack does not know and warns about.
func ForTarget(descriptor, arch string) string {
	lines := strings.SplitAfter(descriptor, "\n")
	archLine := regexp.MustCompile(`(?m)^\s*arch\s*=\s*"` + regexp.QuoteMeta(arch) + `"`)
	var out strings.Builder
	for i := 0; i < len(lines); i++ {
		header := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(header, "[") {
			out.WriteString(lines[i])
			continue
		}
		j := i + 1
		for j < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[j]), "[") {
			j++
		}
		block := strings.Join(lines[i:j], "")
		switch {
		case header == "[[targets]]" && !archLine.MatchString(block):
		case header == "[publish]" || strings.HasPrefix(header, "[publish."):
		default:
			out.WriteString(block)
		}
		i = j - 1
	}
	return out.String()
}

// CNBFile is where `make package` writes one target's buildpackage.
func CNBFile(dist, version, arch string) string {
	return filepath.Join(dist, "cnb", fmt.Sprintf("heroku-applink-service-mesh-buildpack-v%s-linux-%s.cnb", version, arch))
}

// PackCNB makes each target's CNB directory in dist into the buildpackage
// users get (`pack buildpack package --format file`), with the pack
// binary at packBin, and returns the files it wrote.
func PackCNB(packBin, dist, version string, env []string) ([]string, error) {
	var written []string
	for _, arch := range inventory.Architectures {
		out := CNBFile(dist, version, arch)
		cmd := exec.Command(packBin, "buildpack", "package", out, "--path", filepath.Join(dist, "cnb", "linux-"+arch),
			"--format", "file", "--target", "linux/"+arch)
		cmd.Env = env
		log, err := cmd.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("pack buildpack package for linux/%s: %w\n%s", arch, err, log)
		}
		if strings.Contains(string(log), "Warning") {
			return nil, fmt.Errorf("pack buildpack package for linux/%s warned:\n%s", arch, log)
		}
		written = append(written, out)
	}
	return written, nil
}

func writeDir(dir string, files []file) error {
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// writeTarball writes a gzipped tar with directories, sorted names, fixed
// times and owners: the same files always give the same bytes.
func writeTarball(path string, files []file) error {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	dirs := map[string]bool{}
	for _, f := range files {
		for d := filepath.Dir(f.name); d != "."; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	var names []string
	for d := range dirs {
		names = append(names, d+"/")
	}
	byName := map[string]file{}
	for _, f := range files {
		names = append(names, f.name)
		byName[f.name] = f
	}
	sort.Strings(names)
	for _, n := range names {
		hdr := &tar.Header{Name: n, ModTime: epoch, Uname: "root", Gname: "root", Format: tar.FormatPAX}
		if strings.HasSuffix(n, "/") {
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		}
		f := byName[n]
		hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, int64(f.mode), int64(len(f.data))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, bytes.NewReader(f.data)); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
