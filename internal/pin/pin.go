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
)

// Tool pins releases for every architecture in the inventory.toml of the
// buildpack in Buildpack, downloaded from the official bucket or Mirror (the
// pins name the official bucket either way) and verified with KeyFile's key
// or the one a build would trust. With DryRun it prints the new inventory
// to Stdout and writes nothing.
type Tool struct {
	Fetch                      *fetch.Client
	Out                        *output.Printer
	Stdout                     io.Writer
	Buildpack, Mirror, KeyFile string
	DryRun                     bool
}

// Pin pins version.
func (t *Tool) Pin(ctx context.Context, version string) error {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(version, "v"))
	if err != nil {
		return fmt.Errorf("invalid version %q: want X.Y.Z: %w", version, err)
	}
	return t.run(ctx, v)
}

// Update pins the release the bucket calls latest when it is new, with a
// line in the CHANGELOG's Unreleased section; it changes nothing when that
// release is pinned already or anything does not verify.
func (t *Tool) Update(ctx context.Context) error { return t.run(ctx, nil) }

// run pins v, or without one updates to latest.
func (t *Tool) run(ctx context.Context, v *semver.Version) error {
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
