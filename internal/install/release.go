package install

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/version"
)

// Release is one resolved release of the mesh, whatever verifies it: what
// to install, where to download it from and how its bytes are trusted. A
// pinned release carries the inventory's checksum; any other is verified by
// a signature under Trust.
type Release struct {
	// Version is the version, or "latest".
	Version  string
	OS, Arch string
	// URL is where this build downloads the file. It may carry a mirror's
	// credentials: never print or store it.
	URL string
	// Source describes where URL points, for the log.
	Source source.Source
	// Request is what the user asked for.
	Request version.Request
	// Fallback is set when nothing was requested and the inventory pins no
	// release for the architecture, so latest is installed.
	Fallback bool
	// Pin is the inventory's checksum; zero for an unpinned release.
	Pin digest.Digest
	// pinnedURL is the inventory's URL of a pinned release.
	pinnedURL string
	// Trust decides whose signature an unpinned release needs.
	Trust Trust
}

// Pinned reports whether the inventory pins the release's checksum.
func (r Release) Pinned() bool { return !r.Pin.IsZero() }

// String identifies the release for the log: "0.2.2 (linux-amd64)".
func (r Release) String() string { return fmt.Sprintf("%s (%s-%s)", r.Version, r.OS, r.Arch) }

// recordURL is the URL records name the release by, without credentials:
// a pinned release is the same bytes from any source, so its inventory URL;
// an unpinned one is whatever its source serves, so its download URL.
func (r Release) recordURL() string {
	if r.Pinned() {
		return r.pinnedURL
	}
	return source.Public(r.URL)
}

// KeyFile is where a buildpack release may ship the signing key.
const KeyFile = "keys/public-key.asc"

// Resolve is where both contracts start: the config vars read from envDir
// (an ENV_DIR or <platform>/env) and the buildpack's inventory, resolved for
// one architecture. It touches neither the network nor the build's files,
// so bad input fails before anything changes.
func Resolve(envDir, buildpackDir, arch string) (Release, inventory.Inventory, error) {
	cfg, err := config.Read(envDir)
	if err != nil {
		return Release{}, inventory.Inventory{}, err
	}
	inv, err := inventory.Load(filepath.Join(buildpackDir, inventory.FileName))
	if err != nil {
		return Release{}, inventory.Inventory{}, err
	}
	keyFile := filepath.Join(buildpackDir, KeyFile)
	if info, err := os.Stat(keyFile); err != nil || !info.Mode().IsRegular() {
		keyFile = ""
	}
	rel, err := Select(cfg, inv, keyFile, arch)
	return rel, inv, err
}

// Select resolves a configuration against an inventory. keyFile is a
// signing key shipped in the buildpack, or empty.
func Select(cfg config.Config, inv inventory.Inventory, keyFile, arch string) (Release, error) {
	a, err := inv.Resolve(cfg.Request, "linux", arch)
	if err == nil {
		// The inventory's URL, unless a mirror or bucket replaces where
		// release files come from; the pinned checksum applies either way.
		url := a.URL
		if cfg.Source.Overridden() {
			url = cfg.Source.URL(source.Object(a.Version.String(), a.Arch))
		}
		return Release{Version: a.Version.String(), OS: a.OS, Arch: a.Arch, Request: cfg.Request, Source: cfg.Source,
			URL: url, Pin: a.Checksum, pinnedURL: a.URL}, nil
	}
	var unknown *inventory.UnknownVersionError
	if !errors.As(err, &unknown) {
		return Release{}, err
	}
	// Not pinned: "latest", an exact version newer than the inventory, or
	// no request on an architecture with no pin go to the signature path.
	// A constraint cannot: the bucket cannot be listed to resolve it.
	label := "latest"
	switch v, exact := cfg.Request.Exact(); {
	case exact:
		label = v.String()
	case cfg.Request.IsLatest(), cfg.Request.IsDefault():
	default:
		return Release{}, err
	}
	return Release{Version: label, OS: "linux", Arch: arch, Request: cfg.Request, Source: cfg.Source,
		URL: cfg.Source.URL(source.Object(label, arch)), Fallback: cfg.Request.IsDefault(),
		Trust: TrustFor(cfg.Source, inv.SigningKey, keyFile)}, nil
}
