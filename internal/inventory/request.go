package inventory

import (
	"fmt"
	"regexp"
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

// exactVersion matches a full version with an optional "v": the form the
// release bucket's object names use.
var exactVersion = regexp.MustCompile(`^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// DefaultRequest asks for the newest pinned release.
func DefaultRequest() Request { return Request{} }

// ParseRequest parses a release version request. Surrounding white space is
// ignored; an empty value is the default request.
func ParseRequest(s string) (Request, error) {
	if !utf8.ValidString(s) {
		return Request{}, &InvalidRequestError{Value: s, Reason: "it is not valid UTF-8"}
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return DefaultRequest(), nil
	case len(s) > maxRequestLen:
		return Request{}, &InvalidRequestError{Value: s, Reason: fmt.Sprintf("it is longer than %d characters", maxRequestLen)}
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return Request{}, &InvalidRequestError{Value: s, Reason: "it contains control characters"}
	case strings.EqualFold(s, "latest"):
		return Request{raw: s, kind: requestLatest}, nil
	case exactVersion.MatchString(s):
		v, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v"))
		if err != nil {
			return Request{}, &InvalidRequestError{Value: s, Reason: err.Error()}
		}
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

func (r Request) matches(v *semver.Version) bool {
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
