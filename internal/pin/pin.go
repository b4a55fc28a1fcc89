package pin

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
)

// Tool pins releases in a buildpack's inventory.toml.
type Tool struct {
	Fetch *fetch.Client
	Out   *output.Printer
	// Stdout receives a dry run's inventory.
	Stdout io.Writer
	// Buildpack is the buildpack's directory: its buildpack.toml names the
	// targets, its inventory.toml and CHANGELOG.md are updated.
	Buildpack string
	// Mirror, when set, is where release files are downloaded from; the
	// pins still name the official bucket.
	Mirror string
	// KeyFile overrides where the signing key comes from.
	KeyFile string
}

// session is what every command starts from.
type session struct {
	arches []string
	inv    inventory.Inventory
	source config.Source
	key    *signature.Key
	dir    string
}

func (t *Tool) start(ctx context.Context, needFingerprint bool) (*session, error) {
	var desc struct {
		Targets []struct{ OS, Arch string } `toml:"targets"`
	}
	if _, err := toml.DecodeFile(filepath.Join(t.Buildpack, "buildpack.toml"), &desc); err != nil {
		return nil, fmt.Errorf("failed to read the buildpack's targets: %w", err)
	}
	s := &session{}
	for _, tg := range desc.Targets {
		if tg.OS == "linux" && tg.Arch != "" {
			s.arches = append(s.arches, tg.Arch)
		}
	}
	if len(s.arches) == 0 {
		return nil, errors.New("buildpack.toml declares no linux [[targets]] to pin releases for")
	}
	var err error
	if s.inv, err = inventory.Load(filepath.Join(t.Buildpack, inventory.FileName)); err != nil {
		return nil, err
	}
	if needFingerprint && s.inv.SigningKey == "" {
		return nil, errors.New("inventory.toml pins no signing key fingerprint: pin the release key first, as [signing] fingerprint = \"<40 hex digits>\"")
	}
	cfg, err := config.Parse(map[string]string{config.VarMirror: t.Mirror})
	if err != nil {
		return nil, err
	}
	s.source = cfg.Source
	ks := install.KeySource{Fingerprint: s.inv.SigningKey, File: t.KeyFile, URL: config.OfficialURL(config.KeyObject)}
	if ks.File == "" {
		if info, err := os.Stat(filepath.Join(t.Buildpack, install.KeyFile)); err == nil && info.Mode().IsRegular() {
			ks.File = filepath.Join(t.Buildpack, install.KeyFile)
		}
	}
	if s.source.Overridden() && ks.Fingerprint != "" {
		ks.URL = s.source.URL(config.KeyObject)
	}
	if s.key, err = install.LoadKey(ctx, t.Fetch, ks); err != nil {
		return nil, err
	}
	if ks.Fingerprint == "" {
		t.Out.Warning(fmt.Sprintf("No signing key fingerprint is pinned in %s: the key %s\n"+
			"is trusted as found. Pin it under [signing].", inventory.FileName, s.key.Fingerprint))
	}
	s.dir, err = os.MkdirTemp("", "heroku-applink-pin-")
	return s, err
}

// fetch downloads object into the session's folder and verifies its
// signature, returning the file's path and sha256.
func (t *Tool) fetch(ctx context.Context, s *session, object string) (string, string, error) {
	url := s.source.URL(object)
	t.Out.Detail("Downloading %s", config.Redact(url))
	p := filepath.Join(s.dir, object)
	f, err := os.Create(p)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sum, _, err := install.FetchSigned(ctx, t.Fetch, s.key, url, f)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", object, err)
	}
	t.Out.Detail("Signature by key %s verified: %s", s.key.Fingerprint, sum)
	return p, sum, nil
}

// Pin pins version for every target architecture: it writes the new
// inventory, or only prints it with dryRun.
func (t *Tool) Pin(ctx context.Context, version string, dryRun bool) error {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(version, "v"))
	if err != nil {
		return fmt.Errorf("invalid version %q: want X.Y.Z: %w", version, err)
	}
	s, err := t.start(ctx, false)
	if err != nil {
		return err
	}
	defer os.RemoveAll(s.dir)
	t.Out.Step("Pinning the Heroku AppLink Service Mesh %s for %s", v, strings.Join(s.arches, ", "))
	updated := s.inv
	for _, arch := range s.arches {
		object := install.Object(v.String(), arch)
		_, sum, err := t.fetch(ctx, s, object)
		if err != nil {
			return err
		}
		updated = updated.With(inventory.Artifact{Version: v, OS: "linux", Arch: arch, URL: config.OfficialURL(object), Checksum: sum})
	}
	if dryRun {
		t.Out.Step("Dry run: %s is unchanged; it would read", inventory.FileName)
		return updated.Encode(t.Stdout)
	}
	if err := updated.Save(t.Buildpack); err != nil {
		return err
	}
	t.Out.Step("Updated %s", filepath.Join(t.Buildpack, inventory.FileName))
	return nil
}

// Update pins the release the bucket publishes as latest, when it is new:
// the latest file of every architecture, verified by the pinned key, must
// be one version, published under that version's name with the same bytes.
// It then rewrites inventory.toml and adds a line to the CHANGELOG's
// Unreleased section; it changes nothing when that release is pinned
// already, or when anything does not verify.
func (t *Tool) Update(ctx context.Context) error {
	s, err := t.start(ctx, true)
	if err != nil {
		return err
	}
	defer os.RemoveAll(s.dir)
	t.Out.Step("Looking for a new Heroku AppLink Service Mesh release for %s", strings.Join(s.arches, ", "))
	sums := map[string]string{}
	var version *semver.Version
	for _, arch := range s.arches {
		p, sum, err := t.fetch(ctx, s, install.Object("latest", arch))
		if err != nil {
			return err
		}
		sums[arch] = sum
		v, err := versionOf(ctx, p, arch == runtime.GOARCH)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", install.Object("latest", arch), err)
		case v == nil:
		case version != nil && !v.Equal(version):
			return fmt.Errorf("the latest releases disagree on the version: %s and %s; nothing was changed", version, v)
		default:
			version = v
		}
	}
	if version == nil {
		return fmt.Errorf("no latest release tells its version (none is for this machine's %s); nothing was changed", runtime.GOARCH)
	}
	t.Out.Detail("Latest is %s", version)
	pinned := 0
	for _, arch := range s.arches {
		if a, err := s.inv.Resolve(mustExact(version), arch); err == nil {
			if a.Checksum != sums[arch] {
				return fmt.Errorf("inventory.toml pins %s for %s with %s, but latest is %s; nothing was changed", version, arch, a.Checksum, sums[arch])
			}
			pinned++
		}
	}
	if pinned == len(s.arches) {
		t.Out.Step("%s is pinned already: nothing to do", version)
		return nil
	}
	updated := s.inv
	for _, arch := range s.arches {
		object := install.Object(version.String(), arch)
		_, sum, err := t.fetch(ctx, s, object)
		if err != nil {
			return err
		}
		if sum != sums[arch] {
			return fmt.Errorf("%s is %s, but latest for %s is %s; nothing was changed", object, sum, arch, sums[arch])
		}
		updated = updated.With(inventory.Artifact{Version: version, OS: "linux", Arch: arch, URL: config.OfficialURL(object), Checksum: sum})
	}
	line := fmt.Sprintf("- The Heroku AppLink Service Mesh %s is pinned for linux %s, and is the default release.", version, strings.Join(s.arches, " and "))
	changelog, err := withUnreleased(filepath.Join(t.Buildpack, "CHANGELOG.md"), line)
	if err != nil {
		return err
	}
	if err := updated.Save(t.Buildpack); err != nil {
		return err
	}
	root, err := os.OpenRoot(t.Buildpack)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := fsutil.WriteFile(root, "CHANGELOG.md", changelog, 0o644); err != nil {
		return err
	}
	t.Out.Step("Pinned %s in %s; CHANGELOG.md says so under Unreleased", version, inventory.FileName)
	return nil
}

func mustExact(v *semver.Version) inventory.Request {
	req, _ := inventory.ParseRequest(v.String())
	return req
}

// versionOf reads a verified release's version from its Go build
// information; without it, by running the binary with -v when it is for
// this machine (in an empty environment and folder, for a few seconds at
// most); else nil.
func versionOf(ctx context.Context, path string, runnable bool) (*semver.Version, error) {
	if info, err := buildinfo.ReadFile(path); err == nil {
		if v, err := semver.StrictNewVersion(strings.TrimPrefix(info.Main.Version, "v")); err == nil && v.Prerelease() == "" {
			return v, nil
		}
	}
	if !runnable {
		return nil, nil
	}
	if err := os.Chmod(path, 0o700); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-v")
	cmd.Env, cmd.Dir = []string{}, filepath.Dir(path)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("running it with -v to learn its version failed: %w", err)
	}
	fields := strings.Fields(out.String())
	for i, f := range fields[:max(len(fields)-1, 0)] {
		if f == "version" {
			if v, err := semver.StrictNewVersion(strings.TrimPrefix(fields[i+1], "v")); err == nil {
				return v, nil
			}
		}
	}
	return nil, fmt.Errorf("its -v output names no version: %q", output.Escape(strings.TrimSpace(out.String())))
}

// withUnreleased is the CHANGELOG with line added at the top of its
// Unreleased section.
func withUnreleased(path, line string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	const heading = "## [Unreleased]\n"
	i := bytes.Index(data, []byte(heading))
	if i < 0 {
		return nil, fmt.Errorf("%s has no %q section", path, strings.TrimSpace(heading))
	}
	i += len(heading)
	rest := bytes.TrimLeft(data[i:], "\n")
	sep := "\n\n"
	if bytes.HasPrefix(rest, []byte("- ")) {
		sep = "\n"
	}
	return slices.Concat(data[:i], []byte("\n"+line+sep), rest), nil
}
