package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/version"
)

// FileName is the inventory's name at the buildpack's root.
const FileName = "inventory.toml"

// Artifact is one pinned release file.
type Artifact struct {
	Version  *semver.Version
	OS       string
	Arch     string
	URL      string
	Checksum digest.Digest
}

// String identifies the artifact for logs: "0.2.2 (linux-amd64)".
func (a Artifact) String() string {
	return fmt.Sprintf("%s (%s-%s)", a.Version, a.OS, a.Arch)
}

// Inventory is the set of pinned artifacts and the pinned fingerprint of
// the key that signs releases, if any.
type Inventory struct {
	Artifacts []Artifact
	// SigningKey is the uppercase hex fingerprint of the release signing
	// key, or empty when none is pinned.
	SigningKey string
}

// document is inventory.toml as it is stored.
type document struct {
	Signing   *signing      `toml:"signing,omitempty"`
	Artifacts []rawArtifact `toml:"artifacts,omitempty"`
}

type signing struct {
	Fingerprint string `toml:"fingerprint"`
}

type rawArtifact struct {
	Version  string        `toml:"version"`
	OS       string        `toml:"os"`
	Arch     string        `toml:"arch"`
	URL      string        `toml:"url"`
	Checksum digest.Digest `toml:"checksum"`
}

// Load reads a buildpack's inventory.
func Load(path string) (Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Inventory{}, fmt.Errorf("the buildpack has no %s: reinstall the buildpack", filepath.Base(path))
		}
		return Inventory{}, fmt.Errorf("failed to read the inventory: %w", err)
	}
	defer f.Close()
	inv, err := Parse(f)
	if err != nil {
		return Inventory{}, fmt.Errorf("invalid inventory %s: %w", path, err)
	}
	return inv, nil
}

// Parse reads and validates an inventory. Any problem is an error: a
// buildpack with a broken pin must fail its own tests, not a user's build
// later.
func Parse(r io.Reader) (Inventory, error) {
	var doc document
	md, err := toml.NewDecoder(r).Decode(&doc)
	if err != nil {
		return Inventory{}, fmt.Errorf("failed to parse TOML: %w", err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return Inventory{}, fmt.Errorf("unknown key %q", undecoded[0].String())
	}
	var inv Inventory
	if doc.Signing != nil {
		fp, err := signature.NormalizeFingerprint(doc.Signing.Fingerprint)
		if err != nil {
			return Inventory{}, fmt.Errorf("[signing]: %w", err)
		}
		inv.SigningKey = fp
	}
	for i, raw := range doc.Artifacts {
		a, err := raw.validate()
		if err != nil {
			return Inventory{}, fmt.Errorf("artifact %d: %w", i+1, err)
		}
		if j := inv.index(a.Version, a.OS, a.Arch); j >= 0 {
			return Inventory{}, fmt.Errorf("artifact %d: duplicate of artifact %d (%s)", i+1, j+1, a)
		}
		inv.Artifacts = append(inv.Artifacts, a)
	}
	return inv, nil
}

func (raw rawArtifact) validate() (Artifact, error) {
	if raw.Version == "" {
		return Artifact{}, errors.New("version is missing")
	}
	v, err := semver.StrictNewVersion(strings.TrimPrefix(raw.Version, "v"))
	if err != nil {
		return Artifact{}, fmt.Errorf("version %q is not a semantic version: %w", raw.Version, err)
	}
	if raw.OS != "linux" {
		return Artifact{}, fmt.Errorf("os %q is not supported: want \"linux\"", raw.OS)
	}
	if !slices.Contains(source.Architectures, raw.Arch) {
		return Artifact{}, fmt.Errorf("arch %q is not supported: want one of %s", raw.Arch, strings.Join(source.Architectures, ", "))
	}
	u, err := url.Parse(raw.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return Artifact{}, fmt.Errorf("url %q is not an absolute http(s) URL", raw.URL)
	}
	if u.User != nil {
		return Artifact{}, fmt.Errorf("url for %s carries credentials: pins must be public URLs", raw.Version)
	}
	if strings.HasSuffix(u.Path, "/") || u.Path == "" {
		return Artifact{}, fmt.Errorf("url %q does not name a file", raw.URL)
	}
	if raw.Checksum.IsZero() {
		return Artifact{}, errors.New("checksum is missing: want sha256:<64 hex digits>")
	}
	return Artifact{Version: v, OS: raw.OS, Arch: raw.Arch, URL: raw.URL, Checksum: raw.Checksum}, nil
}

func (inv Inventory) index(v *semver.Version, goos, arch string) int {
	return slices.IndexFunc(inv.Artifacts, func(a Artifact) bool {
		return a.Version.Equal(v) && a.OS == goos && a.Arch == arch
	})
}

// header opens every inventory the buildpack writes.
const header = `# The Heroku AppLink Service Mesh releases this buildpack pins: one
# [[artifacts]] table per version and architecture, with the sha256 of the
# release file. Written by make pin (cmd/heroku-applink-pin); see README.md.
`

// Encode writes the whole inventory: the header, the signing key, then the
// artifacts, newest version first.
func (inv Inventory) Encode(w io.Writer) error {
	doc := document{}
	if inv.SigningKey != "" {
		doc.Signing = &signing{Fingerprint: inv.SigningKey}
	}
	arts := slices.Clone(inv.Artifacts)
	slices.SortStableFunc(arts, func(a, b Artifact) int {
		if c := b.Version.Compare(a.Version); c != 0 {
			return c
		}
		return strings.Compare(a.OS+a.Arch, b.OS+b.Arch)
	})
	for _, a := range arts {
		doc.Artifacts = append(doc.Artifacts, rawArtifact{Version: a.Version.String(), OS: a.OS, Arch: a.Arch, URL: a.URL, Checksum: a.Checksum})
	}
	var buf bytes.Buffer
	buf.WriteString(header)
	if doc.Signing != nil || len(doc.Artifacts) > 0 {
		buf.WriteString("\n")
		if err := toml.NewEncoder(&buf).Encode(doc); err != nil {
			return fmt.Errorf("failed to encode the inventory: %w", err)
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Save writes the inventory to path atomically, after checking that what
// it writes parses back to the same inventory.
func (inv Inventory) Save(path string) error {
	var buf bytes.Buffer
	if err := inv.Encode(&buf); err != nil {
		return err
	}
	if _, err := Parse(bytes.NewReader(buf.Bytes())); err != nil {
		return fmt.Errorf("the inventory would be invalid (nothing written): %w", err)
	}
	return files.Write(filepath.Dir(path), filepath.Base(path), buf.Bytes(), 0o644)
}

// With returns the inventory with a replacing every artifact of the same
// version, os and arch, or added.
func (inv Inventory) With(a Artifact) Inventory {
	out := Inventory{SigningKey: inv.SigningKey, Artifacts: slices.Clone(inv.Artifacts)}
	if i := out.index(a.Version, a.OS, a.Arch); i >= 0 {
		out.Artifacts[i] = a
		return out
	}
	out.Artifacts = append(out.Artifacts, a)
	return out
}

// ForArch is the inventory of one architecture's CNB package.
func (inv Inventory) ForArch(arch string) Inventory {
	out := Inventory{SigningKey: inv.SigningKey}
	for _, a := range inv.Artifacts {
		if a.Arch == arch {
			out.Artifacts = append(out.Artifacts, a)
		}
	}
	return out
}

// Versions lists the pinned versions for one platform, newest first.
func (inv Inventory) Versions(goos, arch string) []string {
	var vs []*semver.Version
	for _, a := range inv.Artifacts {
		if a.OS == goos && a.Arch == arch {
			vs = append(vs, a.Version)
		}
	}
	slices.SortFunc(vs, func(a, b *semver.Version) int { return b.Compare(a) })
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

// Checksums is the set of every pinned digest, for pruning caches.
func (inv Inventory) Checksums() map[digest.Digest]bool {
	set := map[digest.Digest]bool{}
	for _, a := range inv.Artifacts {
		set[a.Checksum] = true
	}
	return set
}

// Resolve picks the newest artifact for the platform that satisfies req.
func (inv Inventory) Resolve(req version.Request, goos, arch string) (Artifact, error) {
	if !slices.Contains(source.Architectures, arch) {
		return Artifact{}, &UnsupportedArchError{Arch: arch}
	}
	var best *Artifact
	for i := range inv.Artifacts {
		a := &inv.Artifacts[i]
		if a.OS != goos || a.Arch != arch || !req.Matches(a.Version) {
			continue
		}
		if best == nil || a.Version.GreaterThan(best.Version) {
			best = a
		}
	}
	if best == nil {
		return Artifact{}, &UnknownVersionError{Request: req, OS: goos, Arch: arch, Available: inv.Versions(goos, arch)}
	}
	return *best, nil
}
