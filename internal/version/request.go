package version

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/Masterminds/semver/v3"
)

// Request is what the user asked for in
// HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION.
type Request struct {
	raw        string
	kind       requestKind
	exact      *semver.Version
	constraint *semver.Constraints
}

type requestKind int

const (
	requestDefault requestKind = iota
	requestLatest
	requestExact
	requestConstraint
)

// maxRequestLen bounds what we parse and echo back: a version is short, and a
// config var can hold anything.
const maxRequestLen = 128

// Default asks for the newest pinned release.
func Default() Request { return Request{} }

// ParseRequest parses a release version request. Surrounding white space is
// ignored; an empty value is the default request.
func ParseRequest(s string) (Request, error) {
	if !utf8.ValidString(s) {
		return Request{}, &InvalidRequestError{Value: s, Reason: "it is not valid UTF-8"}
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Default(), nil
	case len(s) > maxRequestLen:
		return Request{}, &InvalidRequestError{Value: s, Reason: fmt.Sprintf("it is longer than %d characters", maxRequestLen)}
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return Request{}, &InvalidRequestError{Value: s, Reason: "it contains control characters"}
	case strings.EqualFold(s, "latest"):
		return Request{raw: s, kind: requestLatest}, nil
	}
	// A full version, with an optional "v" as the bucket's object names
	// spell it, is exact; anything else must be a constraint.
	if v, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v")); err == nil {
		return Request{raw: s, kind: requestExact, exact: v}, nil
	}
	c, err := semver.NewConstraint(s)
	if err != nil {
		// semver's message repeats the value; ours already shows it, shortened.
		return Request{}, &InvalidRequestError{Value: s, Reason: "it is neither a version nor a semver constraint"}
	}
	return Request{raw: s, kind: requestConstraint, constraint: c}, nil
}

// IsDefault reports whether nothing was requested.
func (r Request) IsDefault() bool { return r.kind == requestDefault }

// IsLatest reports whether "latest" was requested.
func (r Request) IsLatest() bool { return r.kind == requestLatest }

// Exact returns the version of an exact request.
func (r Request) Exact() (*semver.Version, bool) {
	return r.exact, r.kind == requestExact
}

// String is the request as the user wrote it, or "default".
func (r Request) String() string {
	if r.kind == requestDefault {
		return "default"
	}
	return r.raw
}

// Matches reports whether a pinned release of version v satisfies the
// request.
func (r Request) Matches(v *semver.Version) bool {
	switch r.kind {
	case requestLatest:
		// "latest" is whatever Heroku released last, which no inventory can
		// know: it never matches a pin.
		return false
	case requestExact:
		return v.Equal(r.exact)
	case requestConstraint:
		return r.constraint.Check(v)
	default:
		// The default takes the newest pinned stable release; a pre-release
		// must be asked for by name.
		return v.Prerelease() == ""
	}
}

// InvalidRequestError means the release version config var cannot be parsed.
type InvalidRequestError struct {
	Value  string
	Reason string
}

func (e *InvalidRequestError) Error() string {
	return fmt.Sprintf("invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION %s: %s", quoteShort(e.Value), e.Reason)
}

// Help shows the accepted forms.
func (e *InvalidRequestError) Help() string {
	return "Use an exact version (0.2.2 or v0.2.2), a semver constraint (~0.2, ^1,\n" +
		"\">=1.0, <2\") or latest, or unset it to use the newest pinned release."
}

// quoteShort quotes a user value for an error without echoing megabytes or
// control characters back into the build log.
func quoteShort(s string) string {
	const limit = 40
	r := []rune(s)
	if len(r) > limit {
		return fmt.Sprintf("%q… (%d bytes)", string(r[:limit]), len(s))
	}
	return fmt.Sprintf("%q", s)
}

// Kind names the request's form for the build report: default, latest,
// exact or constraint.
func (r Request) Kind() string {
	return [...]string{requestDefault: "default", requestLatest: "latest", requestExact: "exact", requestConstraint: "constraint"}[r.kind]
}
