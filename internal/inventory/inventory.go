package inventory

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
)

// FileName is the inventory's name at the buildpack's root.
const FileName = "inventory.toml"

// Architectures the mesh is released for, and the buildpack is built for.
var Architectures = []string{"amd64", "arm64"}

// Artifact is one pinned linux release file; its Checksum passes ValidChecksum.
type Artifact struct {
	Version             *semver.Version
	Arch, URL, Checksum string
}

// Inventory is the pinned artifacts and signing key fingerprint (uppercase hex).
type Inventory struct {
	Artifacts  []Artifact
	SigningKey string
}

// document is inventory.toml as it is stored.
type document struct {
	Signing   *signing `toml:"signing,omitempty"`
	Artifacts []stored `toml:"artifacts,omitempty"`
}

type signing struct {
	Fingerprint string `toml:"fingerprint"`
}

type stored struct {
	Version  string `toml:"version"`
	OS       string `toml:"os"`
	Arch     string `toml:"arch"`
	URL      string `toml:"url"`
	Checksum string `toml:"checksum"`
}

// Load reads a buildpack's inventory.
func Load(path string) (Inventory, error) {
	data, err := os.ReadFile(path)
	inv, perr := Parse(bytes.NewReader(data))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Inventory{}, fmt.Errorf("the buildpack has no %s: reinstall the buildpack", filepath.Base(path))
	case err != nil:
		return Inventory{}, fmt.Errorf("failed to read the inventory: %w", err)
	case perr != nil:
		return Inventory{}, fmt.Errorf("invalid inventory %s: %w", path, perr)
	}
	return inv, nil
}

// Parse reads and validates an inventory. Any problem is an error: a
// buildpack with a broken pin must fail its own tests, not a user's build.
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
		// A v4 (40 hex digits) or v6 (64) fingerprint, in any spacing or case.
		fp := doc.Signing.Fingerprint
		inv.SigningKey = strings.TrimPrefix(strings.ToUpper(strings.Join(strings.Fields(fp), "")), "0X")
		if _, err := hex.DecodeString(inv.SigningKey); err != nil || len(inv.SigningKey) != 40 && len(inv.SigningKey) != 64 {
			return Inventory{}, fmt.Errorf("[signing]: fingerprint %q: want 40 or 64 hex digits", fp)
		}
	}
	for i, s := range doc.Artifacts {
		a, err := s.validate()
		if j := slices.IndexFunc(inv.Artifacts, sameAs(a)); err == nil && j >= 0 {
			err = fmt.Errorf("duplicate of artifact %d (%s %s)", j+1, a.Version, a.Arch)
		}
		if err != nil {
			return Inventory{}, fmt.Errorf("artifact %d: %w", i+1, err)
		}
		inv.Artifacts = append(inv.Artifacts, a)
	}
	return inv, nil
}

func (s stored) validate() (Artifact, error) {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(s.Version, "v"))
	u, uerr := url.Parse(s.URL)
	switch {
	case err != nil:
		return Artifact{}, fmt.Errorf("version %q is not a semantic version: %w", s.Version, err)
	case s.OS != "linux":
		return Artifact{}, fmt.Errorf("os %q is not supported: want \"linux\"", s.OS)
	case !slices.Contains(Architectures, s.Arch):
		return Artifact{}, fmt.Errorf("arch %q is not supported: want one of %s", s.Arch, strings.Join(Architectures, ", "))
	case uerr != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return Artifact{}, fmt.Errorf("url %q is not an absolute http(s) URL", s.URL)
	case u.User != nil:
		return Artifact{}, fmt.Errorf("url for %s carries credentials: pins must be public URLs", s.Version)
	case u.Path == "" || strings.HasSuffix(u.Path, "/"):
		return Artifact{}, fmt.Errorf("url %q does not name a file", s.URL)
	}
	return Artifact{Version: v, Arch: s.Arch, URL: s.URL, Checksum: s.Checksum}, ValidChecksum(s.Checksum)
}

// ValidChecksum accepts "sha256:<64 lowercase hex digits>", the one form used.
func ValidChecksum(s string) error {
	h, ok := strings.CutPrefix(s, "sha256:")
	if _, err := hex.DecodeString(h); !ok || err != nil || len(h) != 64 || strings.ToLower(h) != h {
		return fmt.Errorf("checksum %q: want sha256:<64 lowercase hex digits>", s)
	}
	return nil
}

// sameAs matches the artifacts of a's version and arch.
func sameAs(a Artifact) func(Artifact) bool {
	return func(b Artifact) bool { return b.Version.Equal(a.Version) && b.Arch == a.Arch }
}

// newestFirst is a copy of arts sorted by version, newest first, then by arch.
func newestFirst(arts []Artifact) []Artifact {
	arts = slices.Clone(arts)
	slices.SortStableFunc(arts, func(a, b Artifact) int { return cmp.Or(b.Version.Compare(a.Version), strings.Compare(a.Arch, b.Arch)) })
	return arts
}

// Encode writes a header, the signing key, then the artifacts, newest first.
func (inv Inventory) Encode(w io.Writer) error {
	var doc document
	if inv.SigningKey != "" {
		doc.Signing = &signing{inv.SigningKey}
	}
	for _, a := range newestFirst(inv.Artifacts) {
		doc.Artifacts = append(doc.Artifacts, stored{Version: a.Version.String(), OS: "linux", Arch: a.Arch, URL: a.URL, Checksum: a.Checksum})
	}
	buf := bytes.NewBufferString("# The Heroku AppLink Service Mesh releases this buildpack pins: one\n" +
		"# [[artifacts]] table per version and architecture, with the sha256 of the\n" +
		"# release file. Written by make pin and make update-inventory; see\n# CONTRIBUTING.md.\n")
	if doc.Signing != nil || len(doc.Artifacts) > 0 {
		buf.WriteString("\n")
		if err := toml.NewEncoder(buf).Encode(doc); err != nil {
			return err
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Save writes dir's inventory.toml atomically, once what it writes parses back.
func (inv Inventory) Save(dir string) error {
	var buf bytes.Buffer
	if err := inv.Encode(&buf); err != nil {
		return err
	}
	if _, err := Parse(bytes.NewReader(buf.Bytes())); err != nil {
		return fmt.Errorf("the inventory would be invalid (nothing written): %w", err)
	}
	root, err := fsutil.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return fsutil.WriteFile(root, FileName, &buf, 0o644)
}

// With returns the inventory with a replacing the artifact of its version and arch, or added.
func (inv Inventory) With(a Artifact) Inventory {
	arts := slices.DeleteFunc(slices.Clone(inv.Artifacts), sameAs(a))
	return Inventory{SigningKey: inv.SigningKey, Artifacts: append(arts, a)}
}

// ForArch is the inventory of one architecture's CNB package.
func (inv Inventory) ForArch(arch string) Inventory {
	return Inventory{SigningKey: inv.SigningKey, Artifacts: slices.DeleteFunc(slices.Clone(inv.Artifacts), func(a Artifact) bool { return a.Arch != arch })}
}

// Versions lists the versions pinned for one architecture, newest first.
func (inv Inventory) Versions(arch string) []string {
	var out []string
	for _, a := range newestFirst(inv.ForArch(arch).Artifacts) {
		out = append(out, a.Version.String())
	}
	return out
}

// Resolve picks the newest artifact for linux/arch that satisfies req.
func (inv Inventory) Resolve(req Request, arch string) (Artifact, error) {
	if !slices.Contains(Architectures, arch) {
		return Artifact{}, &UnsupportedArchError{Arch: arch}
	}
	arts := newestFirst(inv.ForArch(arch).Artifacts)
	if i := slices.IndexFunc(arts, func(a Artifact) bool { return req.Matches(a.Version) }); i >= 0 {
		return arts[i], nil
	}
	return Artifact{}, &NoMatchError{Request: req, Arch: arch, Available: inv.Versions(arch)}
}

// NoMatchError means no pinned artifact satisfies the request.
type NoMatchError struct {
	Request   Request
	Arch      string
	Available []string
}

func (e *NoMatchError) Error() string {
	if len(e.Available) == 0 {
		return "no release of the service mesh is pinned for linux-" + e.Arch
	}
	return fmt.Sprintf("no pinned release of the service mesh matches %q for linux-%s", e.Request, e.Arch)
}

func (e *NoMatchError) Reason() string { return "version::no-match" }
func (e *NoMatchError) Help() string {
	if len(e.Available) == 0 {
		return "This buildpack pins no release for this architecture yet. Unset\n" +
			"HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION to install the latest release,\n" +
			"verified by its signature, or set it to an exact version."
	}
	return fmt.Sprintf("Pinned versions for linux-%s: %s\n\n"+
		"Set HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION to one of them or to a\n"+
		"constraint such as ~%s, or unset it to use the newest pinned release:\n"+
		"  heroku config:unset HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION",
		e.Arch, strings.Join(e.Available, ", "), strings.Join(strings.SplitN(e.Available[0], ".", 3)[:2], "."))
}

// UnsupportedArchError means the mesh is not released for this machine.
type UnsupportedArchError struct{ Arch string }

func (e *UnsupportedArchError) Error() string {
	return fmt.Sprintf("architecture %q is not supported", e.Arch)
}
func (e *UnsupportedArchError) Reason() string { return "platform::unsupported-arch" }
func (e *UnsupportedArchError) Help() string {
	return "The service mesh is released for linux on " + strings.Join(Architectures, " and ") + " only."
}

// Request is HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION, parsed.
type Request struct {
	raw, kind  string
	exact      *semver.Version
	constraint *semver.Constraints
}

// The kinds of request, as the build report names them.
const (
	Default    = "default"
	Latest     = "latest"
	Exact      = "exact"
	Constraint = "constraint"
)

// ParseRequest parses a version request; an empty one is the default.
// Errors quote the value, shortened: a config var can hold anything.
func ParseRequest(s string) (Request, error) {
	q := fmt.Sprintf("%q", s)
	if r := []rune(s); len(r) > 40 {
		q = fmt.Sprintf("%q… (%d bytes)", string(r[:40]), len(s))
	}
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		return Request{}, fmt.Errorf("%s is not valid UTF-8", q)
	case s == "":
		return Request{kind: Default}, nil
	case len(s) > 128:
		return Request{}, fmt.Errorf("%s is longer than 128 characters", q)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return Request{}, fmt.Errorf("%s contains control characters", q)
	case strings.EqualFold(s, "latest"):
		return Request{raw: s, kind: Latest}, nil
	}
	// A full version, with an optional "v" as the bucket's object names
	// spell it, is exact; anything else must be a constraint.
	if v, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v")); err == nil {
		return Request{raw: s, kind: Exact, exact: v}, nil
	}
	c, err := semver.NewConstraint(s)
	if err != nil {
		return Request{}, fmt.Errorf("%s is neither a version nor a semver constraint", q)
	}
	return Request{raw: s, kind: Constraint, constraint: c}, nil
}

// Kind is Default, Latest, Exact or Constraint.
func (r Request) Kind() string { return cmp.Or(r.kind, Default) }

// ExactVersion is the version of an Exact request, else nil.
func (r Request) ExactVersion() *semver.Version { return r.exact }

// String is the request as the user wrote it, or "default".
func (r Request) String() string { return cmp.Or(r.raw, Default) }

// Matches reports whether a pinned release of version v satisfies r.
func (r Request) Matches(v *semver.Version) bool {
	switch r.Kind() {
	case Latest: // whatever Heroku released last, which no inventory can know
		return false
	case Exact:
		return v.Equal(r.exact)
	case Constraint:
		return r.constraint.Check(v)
	}
	// The default takes the newest stable pin; a pre-release is asked for by name.
	return v.Prerelease() == ""
}
