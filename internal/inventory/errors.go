package inventory

import (
	"fmt"
	"strings"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/version"
)

// UnknownVersionError means no pinned artifact satisfies the request.
type UnknownVersionError struct {
	Request   version.Request
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
		return "This buildpack's inventory (inventory.toml) pins no release for this\n" +
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
	return "The service mesh is released for linux on " + strings.Join(source.Architectures, " and ") + " only."
}
