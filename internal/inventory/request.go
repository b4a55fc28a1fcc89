package inventory

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
	kind       string
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

// maxRequestLen bounds what is parsed and echoed back: a version is short,
// and a config var can hold anything.
const maxRequestLen = 128

// ParseRequest parses a release version request. Surrounding white space is
// ignored; an empty value is the default request.
func ParseRequest(s string) (Request, error) {
	if !utf8.ValidString(s) {
		return Request{}, &RequestError{Value: s, Why: "it is not valid UTF-8"}
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Request{kind: Default}, nil
	case len(s) > maxRequestLen:
		return Request{}, &RequestError{Value: s, Why: fmt.Sprintf("it is longer than %d characters", maxRequestLen)}
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return Request{}, &RequestError{Value: s, Why: "it contains control characters"}
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
		return Request{}, &RequestError{Value: s, Why: "it is neither a version nor a semver constraint"}
	}
	return Request{raw: s, kind: Constraint, constraint: c}, nil
}

// Kind is Default, Latest, Exact or Constraint.
func (r Request) Kind() string {
	if r.kind == "" {
		return Default
	}
	return r.kind
}

// ExactVersion is the version of an Exact request, else nil.
func (r Request) ExactVersion() *semver.Version { return r.exact }

// String is the request as the user wrote it, or "default".
func (r Request) String() string {
	if r.raw == "" {
		return Default
	}
	return r.raw
}

// Matches reports whether a pinned release of version v satisfies the
// request.
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
	// The default takes the newest stable pin; a pre-release must be asked
	// for by name.
	return v.Prerelease() == ""
}

// RequestError means the release version config var cannot be parsed.
type RequestError struct {
	Value, Why string
}

func (e *RequestError) Error() string {
	v := e.Value
	if r := []rune(v); len(r) > 40 {
		return fmt.Sprintf("invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION %q… (%d bytes): %s", string(r[:40]), len(v), e.Why)
	}
	return fmt.Sprintf("invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION %q: %s", v, e.Why)
}

// Help shows the accepted forms.
func (e *RequestError) Help() string {
	return "Use an exact version (0.2.2 or v0.2.2), a semver constraint (~0.2, ^1,\n" +
		"\">=1.0, <2\") or latest, or unset it to use the newest pinned release."
}

// Reason names the failure for the build report.
func (e *RequestError) Reason() string { return "config::invalid-version" }
