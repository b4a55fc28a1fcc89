package inventory

import (
	"fmt"
	"strings"
)

// UnknownVersionError means no pinned artifact satisfies the request.
type UnknownVersionError struct {
	Request   Request
	OS, Arch  string
	Available []string
}

func (e *UnknownVersionError) Error() string {
	if len(e.Available) == 0 {
		return fmt.Sprintf("no release of the service mesh is pinned for %s-%s", e.OS, e.Arch)
	}
	return fmt.Sprintf("no pinned release of the service mesh matches %q for %s-%s", e.Request.String(), e.OS, e.Arch)
}

// Help lists what can be installed.
func (e *UnknownVersionError) Help() string {
	if len(e.Available) == 0 {
		return "This buildpack's inventory (buildpack.toml) pins no release for this\n" +
			"architecture. Use a buildpack release that pins one, or pin a release as\n" +
			"described in the buildpack's README."
	}
	return fmt.Sprintf("Pinned versions for %s-%s: %s\n\n"+
		"Set HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION to one of them or to a\n"+
		"constraint such as ~%s, or unset it to use the newest pinned release:\n"+
		"  heroku config:unset HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION",
		e.OS, e.Arch, strings.Join(e.Available, ", "), minor(e.Available[0]))
}

func minor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// UnsupportedArchError means the mesh is not released for this machine.
type UnsupportedArchError struct {
	Arch string
}

func (e *UnsupportedArchError) Error() string {
	return fmt.Sprintf("architecture %q is not supported", e.Arch)
}

// Help names the supported architectures.
func (e *UnsupportedArchError) Help() string {
	return "The service mesh is released for linux on " + strings.Join(Architectures, " and ") + " only."
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
