// Package pin pins mesh releases in the buildpack's inventory.toml (make pin,
// make update-inventory): every file is verified by signature under the
// buildpack's own trust rules before its sha256 is written, and the
// inventory is rewritten whole.
package pin

import (
	"bytes"
	"cmp"
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

	"github.com/Masterminds/semver/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
)

// Tool pins releases in the inventory.toml of the buildpack in Buildpack,
// for every architecture, downloading them from the official bucket or
// Mirror (the pins name the official bucket either way) and verifying them
// by the buildpack's own trust rules: the key is KeyFile, or as a build
// finds it.
type Tool struct {
	Fetch                      *fetch.Client
	Out                        *output.Printer
	Stdout                     io.Writer
	Buildpack, Mirror, KeyFile string

	// What start found, and the private folder of the downloads.
	inv    inventory.Inventory
	source config.Source
	key    *signature.Key
	dir    string
}

func (t *Tool) start(ctx context.Context, needFingerprint bool) (err error) {
	if t.inv, err = inventory.Load(filepath.Join(t.Buildpack, inventory.FileName)); err != nil {
		return err
	}
	if needFingerprint && t.inv.SigningKey == "" {
		return errors.New("inventory.toml pins no signing key fingerprint: pin the release key first, as [signing] fingerprint = \"<40 hex digits>\"")
	}
	cfg, err := config.Parse(map[string]string{config.VarMirror: t.Mirror})
	if err != nil {
		return err
	}
	t.source = cfg.Source
	ks := install.Keys(cfg.Source, t.inv.SigningKey, t.Buildpack)
	ks.File = cmp.Or(t.KeyFile, ks.File)
	if t.key, err = install.LoadKey(ctx, t.Fetch, ks); err != nil {
		return err
	}
	if ks.Fingerprint == "" {
		t.Out.Warning("No signing key fingerprint is pinned in inventory.toml: the key " + t.key.Fingerprint +
			"\nis trusted as found. Pin it under [signing].")
	}
	t.dir, err = os.MkdirTemp("", "heroku-applink-pin-")
	return err
}

// fetch downloads object into the download folder and verifies its
// signature, returning the file's path and sha256.
func (t *Tool) fetch(ctx context.Context, object string) (string, string, error) {
	url := t.source.URL(object)
	t.Out.Detail("Downloading %s", config.Redact(url))
	f, err := os.Create(filepath.Join(t.dir, object))
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sum, _, err := install.FetchSigned(ctx, t.Fetch, t.key, url, f)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", object, err)
	}
	t.Out.Detail("Signature by key %s verified: %s", t.key.Fingerprint, sum)
	return f.Name(), sum, nil
}

// pin is the inventory with v pinned for every architecture; when latest
// holds the sha256 of each arch's latest file, v's must be the same bytes.
func (t *Tool) pin(ctx context.Context, v *semver.Version, latest map[string]string) (inventory.Inventory, error) {
	updated := t.inv
	for _, arch := range inventory.Architectures {
		object := install.Object(v.String(), arch)
		_, sum, err := t.fetch(ctx, object)
		if err == nil && latest != nil && sum != latest[arch] {
			err = fmt.Errorf("%s is %s, but latest for %s is %s; nothing was changed", object, sum, arch, latest[arch])
		}
		if err != nil {
			return inventory.Inventory{}, err
		}
		updated = updated.With(inventory.Artifact{Version: v, Arch: arch, URL: config.OfficialURL(object), Checksum: sum})
	}
	return updated, nil
}

// Pin pins version: it writes the new inventory, or only prints it with
// dryRun.
func (t *Tool) Pin(ctx context.Context, version string, dryRun bool) error {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(version, "v"))
	if err != nil {
		return fmt.Errorf("invalid version %q: want X.Y.Z: %w", version, err)
	}
	if err := t.start(ctx, false); err != nil {
		return err
	}
	defer os.RemoveAll(t.dir)
	t.Out.Step("Pinning the Heroku AppLink Service Mesh %s for %s", v, strings.Join(inventory.Architectures, ", "))
	updated, err := t.pin(ctx, v, nil)
	switch {
	case err != nil:
		return err
	case dryRun:
		t.Out.Step("Dry run: %s is unchanged; it would read", inventory.FileName)
		return updated.Encode(t.Stdout)
	}
	if err := updated.Save(t.Buildpack); err != nil {
		return err
	}
	t.Out.Step("Updated %s", filepath.Join(t.Buildpack, inventory.FileName))
	return nil
}

// Update pins the release the bucket calls latest when it is new: the
// latest file of every arch must be one version, published under that
// version's name with the same bytes. It rewrites inventory.toml and adds a
// line to the CHANGELOG's Unreleased section, or changes nothing.
func (t *Tool) Update(ctx context.Context) error {
	if err := t.start(ctx, true); err != nil {
		return err
	}
	defer os.RemoveAll(t.dir)
	t.Out.Step("Looking for a new Heroku AppLink Service Mesh release for %s", strings.Join(inventory.Architectures, ", "))
	latest := map[string]string{}
	var version *semver.Version
	for _, arch := range inventory.Architectures {
		p, sum, err := t.fetch(ctx, install.Object("latest", arch))
		if err != nil {
			return err
		}
		latest[arch] = sum
		v, err := versionOf(ctx, p, arch)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", install.Object("latest", arch), err)
		case v != nil && version != nil && !v.Equal(version):
			return fmt.Errorf("the latest releases disagree on the version: %s and %s; nothing was changed", version, v)
		case v != nil:
			version = v
		}
	}
	if version == nil {
		return fmt.Errorf("no latest release tells its version (none is for this machine's %s); nothing was changed", runtime.GOARCH)
	}
	t.Out.Detail("Latest is %s", version)
	pinned := 0
	for _, a := range t.inv.Artifacts {
		if a.Version.Equal(version) && a.Checksum != latest[a.Arch] {
			return fmt.Errorf("inventory.toml pins %s for %s with %s, but latest is %s; nothing was changed", version, a.Arch, a.Checksum, latest[a.Arch])
		} else if a.Version.Equal(version) {
			pinned++
		}
	}
	if pinned == len(inventory.Architectures) {
		t.Out.Step("%s is pinned already: nothing to do", version)
		return nil
	}
	updated, err := t.pin(ctx, version, latest)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(t.Buildpack)
	if err != nil {
		return err
	}
	defer root.Close()
	// The line goes at the top of the Unreleased section, the CHANGELOG is
	// checked before the inventory is written.
	changelog, err := root.ReadFile("CHANGELOG.md")
	before, after, found := bytes.Cut(changelog, []byte("## [Unreleased]\n"))
	switch {
	case err != nil:
		return err
	case !found:
		return errors.New(`CHANGELOG.md has no "## [Unreleased]" section: add one, then run this again`)
	}
	after = bytes.TrimLeft(after, "\n")
	sep := map[bool]string{true: "\n", false: "\n\n"}[bytes.HasPrefix(after, []byte("- "))]
	changelog = fmt.Appendf(nil, "%s## [Unreleased]\n\n- The Heroku AppLink Service Mesh %s is pinned for linux %s, and is the default release.%s%s",
		before, version, strings.Join(inventory.Architectures, " and "), sep, after)
	if err := updated.Save(t.Buildpack); err != nil {
		return err
	}
	if err := fsutil.WriteFile(root, "CHANGELOG.md", bytes.NewReader(changelog), 0o644); err != nil {
		return err
	}
	t.Out.Step("Pinned %s in %s; CHANGELOG.md says so under Unreleased", version, inventory.FileName)
	return nil
}

// versionOf reads a verified release's version from its Go build
// information; without it, by running the binary with -v when it is for
// this machine (in an empty environment and folder, for a few seconds at
// most); else nil.
func versionOf(ctx context.Context, path, arch string) (*semver.Version, error) {
	if info, err := buildinfo.ReadFile(path); err == nil {
		if v, err := semver.StrictNewVersion(strings.TrimPrefix(info.Main.Version, "v")); err == nil && v.Prerelease() == "" {
			return v, nil
		}
	}
	if arch != runtime.GOARCH {
		return nil, nil
	}
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
