package pin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
)

// Options are the pin tool's inputs.
type Options struct {
	// BuildpackTOML is the file to update.
	BuildpackTOML string
	// Version to pin, with or without "v".
	Version string
	// Mirror, when set, is where the release files are downloaded from. The
	// pinned URLs are still the official bucket's.
	Mirror string
	// KeyFile overrides where the signing key comes from.
	KeyFile string
	// DryRun prints the entries and writes nothing.
	DryRun bool
}

// Entry is one pinned artifact.
type Entry struct {
	Version, Arch, URL, Checksum string
}

// Render is the entry as a TOML 0.4 table.
func (e Entry) Render() string {
	return fmt.Sprintf("[[metadata.artifacts]]\nversion = %q\nos = \"linux\"\narch = %q\nurl = %q\nchecksum = %q\n",
		e.Version, e.Arch, e.URL, e.Checksum)
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
	original, err := os.ReadFile(opts.BuildpackTOML)
	if err != nil {
		return fmt.Errorf("failed to read the buildpack descriptor: %w", err)
	}
	var desc descriptor
	if _, err := toml.Decode(string(original), &desc); err != nil {
		return fmt.Errorf("failed to parse %s: %w", opts.BuildpackTOML, err)
	}
	inv, err := inventory.Parse(strings.NewReader(string(original)))
	if err != nil {
		return fmt.Errorf("the current inventory is invalid: %w", err)
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
	vars := map[string]string{}
	if opts.Mirror != "" {
		vars[config.VarMirror] = opts.Mirror
	}
	cfg, err := config.Parse(vars)
	if err != nil {
		return err
	}
	trust := install.TrustFor(cfg, inv, filepath.Dir(opts.BuildpackTOML))
	if opts.KeyFile != "" {
		trust.KeyFile = opts.KeyFile
	}
	key, from, err := install.LoadKey(ctx, t.Fetcher, trust)
	if err != nil {
		return err
	}
	t.Out.Step("Pinning the Heroku AppLink Service Mesh %s for %s", v, strings.Join(arches, ", "))
	if trust.Fingerprint == "" {
		t.Out.Warning(fmt.Sprintf("No signing key fingerprint is pinned in %s: the key %s\n(from %s) is trusted as found. Pin it under [metadata.signing].",
			filepath.Base(opts.BuildpackTOML), key.Fingerprint, from))
	}
	dir, err := os.MkdirTemp("", "pin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var entries []Entry
	for _, arch := range arches {
		e, err := t.verify(ctx, cfg, key, v.String(), arch, dir)
		if err != nil {
			return err
		}
		entries = append(entries, e)
	}
	if opts.DryRun {
		t.Out.Step("Dry run: %s is unchanged; these are the entries", filepath.Base(opts.BuildpackTOML))
		for _, e := range entries {
			fmt.Fprintln(t.Stdout)
			fmt.Fprint(t.Stdout, e.Render())
		}
		return nil
	}
	updated, err := Apply(string(original), entries)
	if err != nil {
		return err
	}
	if _, err := install.WriteFile(filepath.Dir(opts.BuildpackTOML), ".", filepath.Base(opts.BuildpackTOML), []byte(updated), 0o644); err != nil {
		return err
	}
	t.Out.Step("Updated %s", opts.BuildpackTOML)
	return nil
}

func (t *Tool) verify(ctx context.Context, cfg config.Config, key *signature.Key, version, arch, dir string) (Entry, error) {
	object := install.UnpinnedObject(version, arch)
	url := cfg.ObjectURL(object)
	t.Out.Detail("%s: downloading %s", arch, config.Redact(url))
	r, err := t.Fetcher.Get(ctx, fetchRequest(url, dir))
	if err != nil {
		return Entry{}, fmt.Errorf("failed to download %s: %w", object, err)
	}
	defer os.Remove(r.Path)
	sig, err := t.Fetcher.GetBytes(ctx, url+".asc", signature.MaxArmoredSize)
	if err != nil {
		return Entry{}, fmt.Errorf("failed to download the signature of %s: %w", object, err)
	}
	if err := key.Verify(r.Path, sig); err != nil {
		return Entry{}, fmt.Errorf("%s: %w", object, err)
	}
	// The digest was computed as the file streamed in: no second read.
	sum := r.SHA256
	t.Out.Detail("%s: signature by key %s verified; sha256:%s", arch, key.Fingerprint, sum)
	return Entry{Version: version, Arch: arch, URL: config.OfficialURL(object), Checksum: "sha256:" + sum}, nil
}

var (
	tableHeader = regexp.MustCompile(`^\s*\[`)
	keyValue    = regexp.MustCompile(`^\s*(version|os|arch)\s*=\s*"([^"]*)"`)
)

// Apply adds the entries to a buildpack.toml's text, replacing the tables of
// the same version, os and arch and appending the others after the last
// [[metadata.artifacts]] table (or at the end). Everything else, comments
// included, is kept byte for byte. The result must parse as an inventory.
func Apply(text string, entries []Entry) (string, error) {
	lines := strings.SplitAfter(text, "\n")
	type block struct{ start, end int }
	var blocks []block
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "[[metadata.artifacts]]" {
			continue
		}
		b := block{start: i, end: len(lines)}
		for j := i + 1; j < len(lines); j++ {
			if tableHeader.MatchString(lines[j]) {
				b.end = j
				break
			}
		}
		// Trailing blank and comment lines belong to what follows.
		for b.end > b.start+1 && isTrivia(lines[b.end-1]) {
			b.end--
		}
		blocks = append(blocks, b)
		i = b.end - 1
	}
	key := func(version, arch string) string { return strings.TrimPrefix(version, "v") + "/" + arch }
	replace := map[int]string{}
	pending := map[string]Entry{}
	var order []string
	for _, e := range entries {
		pending[key(e.Version, e.Arch)] = e
		order = append(order, key(e.Version, e.Arch))
	}
	for bi, b := range blocks {
		fields := map[string]string{}
		for _, l := range lines[b.start:b.end] {
			if m := keyValue.FindStringSubmatch(l); m != nil {
				fields[m[1]] = m[2]
			}
		}
		k := key(fields["version"], fields["arch"])
		if e, ok := pending[k]; ok && fields["os"] == "linux" {
			replace[bi] = e.Render()
			delete(pending, k)
		}
	}
	var out strings.Builder
	insertAt := len(lines)
	if len(blocks) > 0 {
		insertAt = blocks[len(blocks)-1].end
	}
	bi := 0
	for i := 0; i <= len(lines); i++ {
		if i == insertAt {
			for _, k := range order {
				if e, ok := pending[k]; ok {
					if out.Len() > 0 && !strings.HasSuffix(out.String(), "\n\n") {
						if !strings.HasSuffix(out.String(), "\n") {
							out.WriteString("\n")
						}
						out.WriteString("\n")
					}
					out.WriteString(e.Render())
				}
			}
		}
		if i == len(lines) {
			break
		}
		if bi < len(blocks) && i == blocks[bi].start {
			if r, ok := replace[bi]; ok {
				out.WriteString(r)
				i = blocks[bi].end - 1
				bi++
				continue
			}
			bi++
		}
		out.WriteString(lines[i])
	}
	result := out.String()
	if _, err := inventory.Parse(strings.NewReader(result)); err != nil {
		return "", fmt.Errorf("the updated buildpack.toml would be invalid (nothing written): %w", err)
	}
	return result, nil
}

func isTrivia(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#")
}

func fetchRequest(url, dir string) fetch.Request { return fetch.Request{URL: url, Dir: dir} }
