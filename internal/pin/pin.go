package pin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
)

// Options are the pin tool's inputs.
type Options struct {
	// Buildpack is the buildpack's directory: its buildpack.toml names the
	// targets, and its inventory.toml is updated.
	Buildpack string
	// Version to pin, with or without "v".
	Version string
	// Mirror, when set, is where the release files are downloaded from. The
	// pinned URLs are still the official bucket's.
	Mirror string
	// KeyFile overrides where the signing key comes from.
	KeyFile string
	// DryRun prints the new inventory and writes nothing.
	DryRun bool
}

// Tool pins releases.
type Tool struct {
	Fetcher install.Fetcher
	Out     *output.Printer
	Stdout  io.Writer
}

type descriptor struct {
	Targets []struct {
		OS   string `toml:"os"`
		Arch string `toml:"arch"`
	} `toml:"targets"`
}

// Run pins opts.Version for every target architecture in the buildpack.
func (t *Tool) Run(ctx context.Context, opts Options) error {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(opts.Version, "v"))
	if err != nil {
		return fmt.Errorf("invalid version %q: want X.Y.Z: %w", opts.Version, err)
	}
	var desc descriptor
	if _, err := toml.DecodeFile(filepath.Join(opts.Buildpack, "buildpack.toml"), &desc); err != nil {
		return fmt.Errorf("failed to read the buildpack's targets: %w", err)
	}
	var arches []string
	for _, tg := range desc.Targets {
		if tg.OS == "linux" && tg.Arch != "" {
			arches = append(arches, tg.Arch)
		}
	}
	if len(arches) == 0 {
		return errors.New("buildpack.toml declares no linux [[targets]] to pin releases for")
	}
	invPath := filepath.Join(opts.Buildpack, inventory.FileName)
	inv, err := inventory.Load(invPath)
	if err != nil {
		return err
	}
	vars := map[string]string{}
	if opts.Mirror != "" {
		vars[config.VarMirror] = opts.Mirror
	}
	cfg, err := config.Parse(vars)
	if err != nil {
		return err
	}
	keyFile := opts.KeyFile
	if keyFile == "" {
		if p := filepath.Join(opts.Buildpack, install.KeyFile); fileExists(p) {
			keyFile = p
		}
	}
	trust := install.TrustFor(cfg.Source, inv.SigningKey, keyFile)
	key, err := install.LoadKey(ctx, t.Fetcher, trust)
	if err != nil {
		return err
	}
	t.Out.Step("Pinning the Heroku AppLink Service Mesh %s for %s", v, strings.Join(arches, ", "))
	if trust.Fingerprint == "" {
		t.Out.Warning(fmt.Sprintf("No signing key fingerprint is pinned in %s: the key %s\n"+
			"is trusted as found. Pin it under [signing].", inventory.FileName, key.Fingerprint))
	}
	dir, err := os.MkdirTemp("", "pin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	updated := inv
	for _, arch := range arches {
		a, err := t.verify(ctx, cfg.Source, key, v, arch, dir)
		if err != nil {
			return err
		}
		updated = updated.With(a)
	}
	if opts.DryRun {
		t.Out.Step("Dry run: %s is unchanged; it would read", invPath)
		return updated.Encode(t.Stdout)
	}
	if err := updated.Save(invPath); err != nil {
		return err
	}
	t.Out.Step("Updated %s", invPath)
	return nil
}

func (t *Tool) verify(ctx context.Context, src source.Source, key *signature.Key, v *semver.Version, arch, dir string) (inventory.Artifact, error) {
	object := source.Object(v.String(), arch)
	url := src.URL(object)
	t.Out.Detail("%s: downloading %s", arch, source.Redact(url))
	r, err := t.Fetcher.Get(ctx, fetch.Request{URL: url, Dir: dir})
	if err != nil {
		return inventory.Artifact{}, fmt.Errorf("failed to download %s: %w", object, err)
	}
	defer os.Remove(r.Path)
	sig, err := t.Fetcher.GetBytes(ctx, url+".asc", signature.MaxArmoredSize)
	if err != nil {
		return inventory.Artifact{}, fmt.Errorf("failed to download the signature of %s: %w", object, err)
	}
	if err := install.VerifyFile(ctx, key, r.Path, sig); err != nil {
		return inventory.Artifact{}, fmt.Errorf("%s: %w", object, err)
	}
	// The digest was computed as the file streamed in: no second read.
	t.Out.Detail("%s: signature by key %s verified; %s", arch, key.Fingerprint, r.Digest)
	return inventory.Artifact{Version: v, OS: "linux", Arch: arch, URL: source.OfficialURL(object), Checksum: r.Digest}, nil
}

func fileExists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}
