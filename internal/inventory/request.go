package inventory

import (
	"cmp"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/Masterminds/semver/v3"
)

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
	case Latest:
		// Whatever Heroku released last, which no inventory can know.
		return false
	case Exact:
		return v.Equal(r.exact)
	case Constraint:
		return r.constraint.Check(v)
	}
	// The default takes the newest stable pin; a pre-release is asked for by name.
	return v.Prerelease() == ""
}
