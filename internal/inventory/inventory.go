package inventory

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
)

// Architectures the mesh is released for, in the names Go and the CNB spec use.
var Architectures = []string{"amd64", "arm64"}

// Artifact is one pinned release file.
type Artifact struct {
	Version  *semver.Version
	OS       string
	Arch     string
	URL      string
	Checksum Checksum
}

// Tag is the version as the release bucket spells it in object names.
func (a Artifact) Tag() string { return "v" + a.Version.String() }

// String identifies the artifact for logs: "0.2.2 (linux-amd64)".
func (a Artifact) String() string {
	return fmt.Sprintf("%s (%s-%s)", a.Version, a.OS, a.Arch)
}

// Checksum is a sha256 digest, the only algorithm the inventory accepts.
type Checksum struct {
	hex string
}

// ParseChecksum parses "sha256:<64 lowercase hex digits>".
func ParseChecksum(s string) (Checksum, error) {
	algo, digest, ok := strings.Cut(s, ":")
	if !ok {
		return Checksum{}, fmt.Errorf("checksum %q has no algorithm prefix: want sha256:<64 hex digits>", s)
	}
	if algo != "sha256" {
		return Checksum{}, fmt.Errorf("checksum %q uses %q: only sha256 is supported", s, algo)
	}
	if len(digest) != 64 || strings.ToLower(digest) != digest {
		return Checksum{}, fmt.Errorf("checksum %q: want sha256 and 64 lowercase hex digits", s)
	}
	if _, err := hex.DecodeString(digest); err != nil {
		return Checksum{}, fmt.Errorf("checksum %q is not hex: %w", s, err)
	}
	return Checksum{hex: digest}, nil
}

// ChecksumFromHex wraps a lowercase hex sha256 digest.
func ChecksumFromHex(h string) (Checksum, error) { return ParseChecksum("sha256:" + h) }

// Hex is the bare digest.
func (c Checksum) Hex() string { return c.hex }

// String is the inventory form, "sha256:<hex>".
func (c Checksum) String() string { return "sha256:" + c.hex }

// IsZero reports whether the checksum is unset.
func (c Checksum) IsZero() bool { return c.hex == "" }

// Inventory is the set of pinned artifacts, in file order, and the pinned
// fingerprint of the key that signs releases, if any.
type Inventory struct {
	Artifacts []Artifact
	// SigningKey is the uppercase hex fingerprint of the release signing
	// key, or empty when none is pinned.
	SigningKey string
}

// file mirrors the parts of buildpack.toml this package reads.
type file struct {
	Metadata struct {
		Artifacts []rawArtifact `toml:"artifacts"`
		Signing   struct {
			Fingerprint string `toml:"fingerprint"`
		} `toml:"signing"`
	} `toml:"metadata"`
}

type rawArtifact struct {
	Version  string `toml:"version"`
	OS       string `toml:"os"`
	Arch     string `toml:"arch"`
	URL      string `toml:"url"`
	Checksum string `toml:"checksum"`
}

// Load reads the inventory from a buildpack.toml.
func Load(path string) (Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return Inventory{}, fmt.Errorf("failed to read inventory: %w", err)
	}
	defer f.Close()
	inv, err := Parse(f)
	if err != nil {
		return Inventory{}, fmt.Errorf("invalid inventory in %s: %w", path, err)
	}
	return inv, nil
}

// Parse reads and validates the [[metadata.artifacts]] tables of a
// buildpack.toml. Any problem is an error: a buildpack with a broken pin must
// fail its own tests, not a user's build later.
func Parse(r io.Reader) (Inventory, error) {
	var f file
	md, err := toml.NewDecoder(r).Decode(&f)
	if err != nil {
		return Inventory{}, fmt.Errorf("failed to parse TOML: %w", err)
	}
	for _, key := range md.Undecoded() {
		if len(key) >= 3 && key[0] == "metadata" && key[1] == "artifacts" {
			return Inventory{}, fmt.Errorf("unknown key %q in [[metadata.artifacts]]", key.String())
		}
	}
	var inv Inventory
	if fp := f.Metadata.Signing.Fingerprint; fp != "" {
		norm, err := signature.NormalizeFingerprint(fp)
		if err != nil {
			return Inventory{}, fmt.Errorf("[metadata.signing]: %w", err)
		}
		inv.SigningKey = norm
	}
	seen := map[string]int{}
	for i, raw := range f.Metadata.Artifacts {
		a, err := raw.validate()
		if err != nil {
			return Inventory{}, fmt.Errorf("artifact %d: %w", i+1, err)
		}
		key := a.Version.String() + "/" + a.OS + "/" + a.Arch
		if prev, dup := seen[key]; dup {
			return Inventory{}, fmt.Errorf("artifact %d: duplicate of artifact %d (%s)", i+1, prev, a)
		}
		seen[key] = i + 1
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
	if !slices.Contains(Architectures, raw.Arch) {
		return Artifact{}, fmt.Errorf("arch %q is not supported: want one of %s", raw.Arch, strings.Join(Architectures, ", "))
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
	sum, err := ParseChecksum(raw.Checksum)
	if err != nil {
		return Artifact{}, err
	}
	return Artifact{Version: v, OS: raw.OS, Arch: raw.Arch, URL: raw.URL, Checksum: sum}, nil
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
func (inv Inventory) Checksums() map[string]bool {
	set := map[string]bool{}
	for _, a := range inv.Artifacts {
		set[a.Checksum.Hex()] = true
	}
	return set
}

// Resolve picks the newest artifact for the platform that satisfies req.
func (inv Inventory) Resolve(req Request, goos, arch string) (Artifact, error) {
	if !slices.Contains(Architectures, arch) {
		return Artifact{}, &UnsupportedArchError{Arch: arch}
	}
	var best *Artifact
	for i := range inv.Artifacts {
		a := &inv.Artifacts[i]
		if a.OS != goos || a.Arch != arch || !req.matches(a.Version) {
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
