package release

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing/fstest"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// BuildpackBinary is the buildpack's own binary under lib/linux-<arch>/.
const BuildpackBinary = "heroku-applink-buildpack"

// BinaryPath is where a release tree keeps the binary for arch.
func BinaryPath(arch string) string { return filepath.Join("lib", "linux-"+arch, BuildpackBinary) }

// Descriptor is what releasing needs of buildpack.toml.
type Descriptor struct {
	Buildpack struct{ Version string }
	Targets   []struct{ OS, Arch string }
}

// Read reads root's buildpack.toml; its version must be X.Y.Z.
func Read(root string) (Descriptor, error) {
	var d Descriptor
	_, err := toml.DecodeFile(filepath.Join(root, "buildpack.toml"), &d)
	if _, verr := semver.StrictNewVersion(d.Buildpack.Version); err == nil && verr != nil {
		err = fmt.Errorf("[buildpack] version %q is not a semantic version X.Y.Z", d.Buildpack.Version)
	}
	return d, err
}

// runtimeFiles are what a platform runs, besides the binaries; the key file
// only when the tree has one.
var runtimeFiles = []string{"bin/detect", "bin/compile", "bin/release", "bin/report", "bin/build", "lib/shim.sh", "LICENSE", install.KeyFile}

// Package writes into dist the classic tarball, with the binaries of
// binDir/linux-<arch>/, and one CNB directory per target for pack: its
// target's binary, an inventory pinning only its arch, and a
// buildpack.toml declaring only its target and none of the classic
// registry's [publish] tables, which pack warns about.
func Package(root, binDir, dist string) ([]string, error) {
	d, err := Read(root)
	inv, ierr := inventory.Load(filepath.Join(root, inventory.FileName))
	if err != nil || ierr != nil {
		return nil, errors.Join(err, ierr)
	}
	// Fixed times, modes and owners, and the directories: the same files
	// always give the same tarball.
	epoch, owner := time.Unix(0, 0), &tar.Header{Uname: "root", Gname: "root"}
	dir := &fstest.MapFile{Mode: fs.ModeDir | 0o755, ModTime: epoch, Sys: owner}
	classic := fstest.MapFS{}
	for _, name := range slices.Concat(runtimeFiles, []string{"buildpack.toml", inventory.FileName, "README.md", "CHANGELOG.md"}) {
		data, err := os.ReadFile(filepath.Join(root, name))
		if name == install.KeyFile && errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		if d := path.Dir(name); d != "." {
			classic[d] = dir
		}
		classic[name] = &fstest.MapFile{Data: data, Mode: map[bool]fs.FileMode{true: 0o755, false: 0o644}[strings.HasPrefix(name, "bin/")], ModTime: epoch, Sys: owner}
	}
	for _, arch := range inventory.Architectures {
		data, err := os.ReadFile(filepath.Join(binDir, "linux-"+arch, BuildpackBinary))
		if err != nil {
			return nil, fmt.Errorf("missing the linux/%s binary: %w (run make binaries)", arch, err)
		}
		classic[BinaryPath(arch)] = &fstest.MapFile{Data: data, Mode: 0o755, ModTime: epoch, Sys: owner}
		classic[filepath.Dir(BinaryPath(arch))] = dir
	}
	var tgz bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&tgz, gzip.BestCompression)
	tw := tar.NewWriter(gz)
	if err := errors.Join(tw.AddFS(classic), tw.Close(), gz.Close()); err != nil {
		return nil, err
	}
	// What Package writes, by its path in dist.
	tarball := "heroku-applink-service-mesh-buildpack-v" + d.Buildpack.Version + ".tgz"
	out := fstest.MapFS{tarball: {Data: tgz.Bytes(), Mode: 0o644}}
	written := []string{filepath.Join(dist, tarball)}
	for _, arch := range inventory.Architectures {
		var only bytes.Buffer
		cnb := path.Join("cnb", "linux-"+arch)
		if err := errors.Join(inv.ForArch(arch).Encode(&only), os.RemoveAll(filepath.Join(dist, cnb))); err != nil {
			return nil, err
		}
		// A table runs from a line that starts with "[" to the next one.
		tables := regexp.MustCompile(`(?m)^\[.*(?:\n(?:[^\[\n].*)?)*`)
		descriptor := tables.ReplaceAllFunc(classic["buildpack.toml"].Data, func(table []byte) []byte {
			if bytes.HasPrefix(table, []byte("[publish")) || bytes.HasPrefix(table, []byte("[[targets]]")) && !bytes.Contains(table, []byte(`arch = "`+arch+`"`)) {
				return nil
			}
			return table
		})
		out[cnb+"/package.toml"] = &fstest.MapFile{Data: []byte("[buildpack]\nuri = \".\"\n\n[platform]\nos = \"linux\"\n"), Mode: 0o644}
		out[cnb+"/buildpack.toml"] = &fstest.MapFile{Data: descriptor, Mode: 0o644}
		out[cnb+"/"+inventory.FileName] = &fstest.MapFile{Data: only.Bytes(), Mode: 0o644}
		for _, name := range slices.Concat(runtimeFiles, []string{BinaryPath(arch)}) {
			if f, ok := classic[name]; ok {
				out[path.Join(cnb, name)] = f
			}
		}
		written = append(written, filepath.Join(dist, cnb))
	}
	for name, f := range out {
		name = filepath.Join(dist, name)
		// Chmod: the modes are the release's, whatever the maintainer's umask.
		if err := errors.Join(os.MkdirAll(filepath.Dir(name), 0o755), os.WriteFile(name, f.Data, f.Mode), os.Chmod(name, f.Mode)); err != nil {
			return nil, err
		}
	}
	return written, nil
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
			err = errors.New("it warned")
		}
		if err != nil {
			return nil, fmt.Errorf("pack buildpack package for linux/%s: %w\n%s", arch, err, log)
		}
		written = append(written, out)
	}
	return written, nil
}

// Check lists why root is not ready to release: a version without its
// dated CHANGELOG section; an inventory that pins no mesh release for a
// target (its users' builds would all fall back to an unpinned latest) or
// no signing key (those would be checked against a key from the same
// bucket); and a binary missing, here or in rebuilt/linux-<arch>/, or not
// byte for byte that build of this source.
func Check(root, rebuilt string) []string {
	var problems []string
	d, err := Read(root)
	if err == nil && len(d.Targets) == 0 {
		err = errors.New("buildpack.toml declares no [[targets]]")
	}
	if err != nil {
		problems = append(problems, err.Error())
	}
	dated := regexp.MustCompile(`(?m)^## \[` + regexp.QuoteMeta(d.Buildpack.Version) + `\] - \d{4}-\d{2}-\d{2}[ \t]*$`)
	changelog, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	// The shared prepare-release workflow releases an empty Unreleased section as "- No changes.".
	if notes, _ := Notes(changelog, d.Buildpack.Version); err != nil || !dated.Match(changelog) {
		problems = append(problems, fmt.Sprintf("CHANGELOG.md has no \"## [%s] - YYYY-MM-DD\" entry for the version in buildpack.toml", d.Buildpack.Version))
	} else if notes == "\n" || notes == "- No changes.\n" {
		problems = append(problems, fmt.Sprintf("CHANGELOG.md says nothing under %s: there is nothing to release", d.Buildpack.Version))
	}
	inv, err := inventory.Load(filepath.Join(root, inventory.FileName))
	if err != nil {
		problems = append(problems, err.Error())
	}
	for _, t := range d.Targets {
		if err == nil && len(inv.Versions(t.Arch)) == 0 {
			problems = append(problems, fmt.Sprintf("%s pins no release of the service mesh for %s/%s: run make update-inventory (or make pin VERSION=vX.Y.Z) and commit it", inventory.FileName, t.OS, t.Arch))
		}
	}
	if err == nil && inv.SigningKey == "" {
		problems = append(problems, inventory.FileName+" pins no signing key: add [signing] fingerprint = \"<40 hex digits>\" to it, the fingerprint of the key that signs mesh releases")
	}
	for _, arch := range inventory.Architectures {
		bin := BinaryPath(arch)
		committed, err := os.ReadFile(filepath.Join(root, bin))
		if err != nil {
			problems = append(problems, fmt.Sprintf("the linux/%s binary %s is missing (make release-binaries)", arch, bin))
			continue
		}
		if info, err := os.Stat(filepath.Join(root, bin)); err == nil && info.Mode().Perm()&0o111 == 0 {
			problems = append(problems, bin+" is not executable")
		}
		if fresh, err := os.ReadFile(filepath.Join(rebuilt, "linux-"+arch, BuildpackBinary)); err != nil {
			problems = append(problems, fmt.Sprintf("the rebuilt linux/%s binary: %v", arch, err))
		} else if !bytes.Equal(committed, fresh) {
			problems = append(problems, bin+" is not the reproducible build of this source")
		}
	}
	return problems
}

// Notes is the body of a CHANGELOG section ("Unreleased", or a version's),
// as release notes: up to the next section, the link definitions or the end.
func Notes(changelog []byte, version string) (string, error) {
	section := regexp.MustCompile(`(?ms)^## \[` + regexp.QuoteMeta(version) + `\][^\n]*\n(.*?)(?:^## \[|^\[[^\]]+\]: |\z)`).FindSubmatch(changelog)
	if section == nil {
		return "", fmt.Errorf("CHANGELOG.md has no section for %s", version)
	}
	return strings.TrimSpace(string(section[1])) + "\n", nil
}

// Pinner pins releases for every architecture in the inventory.toml of the
// buildpack in Buildpack, downloaded from the official bucket or Mirror (the
// pins name the official bucket either way) and verified with KeyFile's key
// or the one a build would trust. With DryRun it prints the new inventory
// to Stdout and writes nothing.
type Pinner struct {
	Fetch                      *fetch.Client
	Out                        *output.Printer
	Stdout                     io.Writer
	Buildpack, Mirror, KeyFile string
	DryRun                     bool
}

// Pin pins version.
func (t *Pinner) Pin(ctx context.Context, version string) error {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(version, "v"))
	if err != nil {
		return fmt.Errorf("invalid version %q: want X.Y.Z: %w", version, err)
	}
	return t.run(ctx, v)
}

// Update pins the release the bucket calls latest when it is new, with a
// line in the CHANGELOG's Unreleased section; it changes nothing when that
// release is pinned already or anything does not verify.
func (t *Pinner) Update(ctx context.Context) error { return t.run(ctx, nil) }

// run pins v, or without one updates to latest.
func (t *Pinner) run(ctx context.Context, v *semver.Version) error {
	update := v == nil
	inv, err := inventory.Load(filepath.Join(t.Buildpack, inventory.FileName))
	if err != nil {
		return err
	}
	if update && inv.SigningKey == "" {
		return errors.New("inventory.toml pins no signing key fingerprint: pin the release key first, as [signing] fingerprint = \"<40 hex digits>\"")
	}
	cfg, err := config.Parse(map[string]string{config.VarMirror: t.Mirror})
	if err != nil {
		return err
	}
	ks := install.Keys(cfg.Source, inv.SigningKey, t.Buildpack)
	ks.File = cmp.Or(t.KeyFile, ks.File)
	key, err := install.LoadKey(ctx, t.Fetch, ks)
	if err != nil {
		return err
	}
	if ks.Fingerprint == "" {
		t.Out.Warning("No signing key fingerprint is pinned in inventory.toml: the key " + key.Fingerprint +
			"\nis trusted as found. Pin it under [signing].")
	}
	dir, err := os.MkdirTemp("", "heroku-applink-pin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	download := func(object string) (path, sum string, err error) {
		url := cfg.Source.URL(object)
		t.Out.Detail("Downloading %s", config.Redact(url))
		f, err := os.Create(filepath.Join(dir, object))
		if err != nil {
			return "", "", err
		}
		defer f.Close()
		if sum, _, err = install.FetchSigned(ctx, t.Fetch, key, url, f); err != nil {
			return "", "", fmt.Errorf("%s: %w", object, err)
		}
		t.Out.Detail("Signature by key %s verified: %s", key.Fingerprint, sum)
		return f.Name(), sum, nil
	}

	latest := map[string]string{}
	if update {
		t.Out.Step("Looking for a new Heroku AppLink Service Mesh release for %s", strings.Join(inventory.Architectures, ", "))
		for _, arch := range inventory.Architectures {
			object := install.Object("latest", arch)
			path, sum, err := download(object)
			if err != nil {
				return err
			}
			latest[arch] = sum
			found, err := versionOf(ctx, path, arch)
			if err != nil {
				return fmt.Errorf("%s: %w", object, err)
			}
			if found != nil && v != nil && !found.Equal(v) {
				return fmt.Errorf("the latest releases disagree on the version: %s and %s; nothing was changed", v, found)
			}
			v = cmp.Or(found, v)
		}
		if v == nil {
			return fmt.Errorf("no latest release tells its version (none is for this machine's %s); nothing was changed", runtime.GOARCH)
		}
		t.Out.Detail("Latest is %s", v)
		pinned := 0
		for _, a := range inv.Artifacts {
			if a.Version.Equal(v) && a.Checksum != latest[a.Arch] {
				return fmt.Errorf("inventory.toml pins %s for %s with %s, but latest is %s; nothing was changed", v, a.Arch, a.Checksum, latest[a.Arch])
			} else if a.Version.Equal(v) {
				pinned++
			}
		}
		if pinned == len(inventory.Architectures) {
			t.Out.Step("%s is pinned already: nothing to do", v)
			return nil
		}
	} else {
		t.Out.Step("Pinning the Heroku AppLink Service Mesh %s for %s", v, strings.Join(inventory.Architectures, ", "))
	}

	// v for every arch: on update, the same bytes as its latest.
	updated := inv
	for _, arch := range inventory.Architectures {
		object := install.Object(v.String(), arch)
		_, sum, err := download(object)
		if err == nil && update && sum != latest[arch] {
			err = fmt.Errorf("%s is %s, but latest for %s is %s; nothing was changed", object, sum, arch, latest[arch])
		}
		if err != nil {
			return err
		}
		updated = updated.With(inventory.Artifact{Version: v, Arch: arch, URL: config.OfficialURL(object), Checksum: sum})
	}
	if t.DryRun {
		t.Out.Step("Dry run: %s is unchanged; it would read", inventory.FileName)
		return updated.Encode(t.Stdout)
	}
	if !update {
		if err := updated.Save(t.Buildpack); err != nil {
			return err
		}
		t.Out.Step("Updated %s", filepath.Join(t.Buildpack, inventory.FileName))
		return nil
	}
	// The CHANGELOG is read and checked before the inventory is written.
	root, err := fsutil.OpenRoot(t.Buildpack)
	if err != nil {
		return err
	}
	defer root.Close()
	changelog, err := root.ReadFile("CHANGELOG.md")
	before, after, found := bytes.Cut(changelog, []byte("## [Unreleased]\n"))
	if err == nil && !found {
		err = errors.New(`CHANGELOG.md has no "## [Unreleased]" section: add one, then run this again`)
	}
	if err == nil {
		err = updated.Save(t.Buildpack)
	}
	if err != nil {
		return err
	}
	// The line goes first in the section: in its list if it starts with one.
	after = bytes.TrimLeft(after, "\n")
	sep := map[bool]string{true: "\n", false: "\n\n"}[bytes.HasPrefix(after, []byte("- "))]
	changelog = fmt.Appendf(nil, "%s## [Unreleased]\n\n- The Heroku AppLink Service Mesh %s is pinned for linux %s, and is the default release.%s%s",
		before, v, strings.Join(inventory.Architectures, " and "), sep, after)
	if err := fsutil.WriteFile(root, "CHANGELOG.md", bytes.NewReader(changelog), 0o644); err != nil {
		return err
	}
	t.Out.Step("Pinned %s in %s; CHANGELOG.md says so under Unreleased", v, inventory.FileName)
	return nil
}

// versionOf reads a verified release's version from its Go build information;
// without it, by running the binary with -v when it is for this machine (in an
// empty environment and folder, for a few seconds at most); else nil.
func versionOf(ctx context.Context, path, arch string) (*semver.Version, error) {
	if info, err := buildinfo.ReadFile(path); err == nil {
		if v, err := semver.StrictNewVersion(strings.TrimPrefix(info.Main.Version, "v")); err == nil && v.Prerelease() == "" {
			return v, nil
		}
	}
	if arch != runtime.GOARCH {
		return nil, nil
	}
	// Made executable only now: path holds a release whose signature verified.
	if err := os.Chmod(path, 0o700); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-v")
	cmd.Env, cmd.Dir = []string{}, filepath.Dir(path)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("running it with -v to learn its version failed: %w", err)
	}
	fields := strings.Fields(string(out))
	if i := slices.Index(fields, "version"); i >= 0 && i+1 < len(fields) {
		if v, err := semver.StrictNewVersion(strings.TrimPrefix(fields[i+1], "v")); err == nil {
			return v, nil
		}
	}
	return nil, fmt.Errorf("its -v output names no version: %q", output.Escape(strings.TrimSpace(string(out))))
}
