package release

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

// Check lists why root is not ready to release: a version without its
// dated CHANGELOG section; an inventory that pins no mesh release for a
// target (its users' builds would all fall back to an unpinned latest) or
// no signing key (those would be checked against a key from the same
// bucket); and a missing binary, or one that is not byte for byte the
// build of this source (rebuilt/linux-<arch>/).
func Check(root, rebuilt string) ([]string, error) {
	var problems []string
	d, err := Read(root)
	if err != nil || len(d.Targets) == 0 {
		problems = append(problems, cmp.Or(err, errors.New("buildpack.toml declares no [[targets]]")).Error())
	}
	if changelog, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md")); err != nil || !section(changelog, d.Buildpack.Version) {
		problems = append(problems, fmt.Sprintf("CHANGELOG.md has no \"## [%s] - YYYY-MM-DD\" entry for the version in buildpack.toml", d.Buildpack.Version))
	}
	inv, err := inventory.Load(filepath.Join(root, inventory.FileName))
	if err != nil {
		problems = append(problems, err.Error())
	}
	for _, t := range d.Targets {
		if err == nil && len(inv.Versions(t.Arch)) == 0 {
			problems = append(problems, fmt.Sprintf("%s pins no release of the service mesh for %s/%s: run make update-inventory (or make pin VERSION=vX.Y.Z) and commit it", inventory.FileName, t.OS, t.Arch))
		}
	}
	if err == nil && inv.SigningKey == "" {
		problems = append(problems, inventory.FileName+" pins no signing key: add [signing] fingerprint = \"<40 hex digits>\" to it, the fingerprint of the key that signs mesh releases")
	}
	for _, arch := range inventory.Architectures {
		committed, err := os.ReadFile(filepath.Join(root, BinaryPath(arch)))
		info, _ := os.Stat(filepath.Join(root, BinaryPath(arch)))
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("the linux/%s binary %s is missing (make release-binaries)", arch, BinaryPath(arch)))
			continue
		case info.Mode().Perm()&0o111 == 0:
			problems = append(problems, BinaryPath(arch)+" is not executable")
		}
		fresh, err := os.ReadFile(filepath.Join(rebuilt, "linux-"+arch, BuildpackBinary))
		if rebuilt != "" && err != nil {
			return nil, fmt.Errorf("the rebuilt linux/%s binary: %w", arch, err)
		}
		if rebuilt != "" && !bytes.Equal(committed, fresh) {
			problems = append(problems, BinaryPath(arch)+" is not the reproducible build of this source")
		}
	}
	return problems, nil
}

// heading is a release section's heading in Keep a Changelog's form.
func heading(version string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^## \[` + regexp.QuoteMeta(version) + `\] - \d{4}-\d{2}-\d{2}[ \t]*$`)
}

func section(changelog []byte, version string) bool { return heading(version).Match(changelog) }

// Prepare makes a release's edits for a major, minor or patch bump, dated
// date: buildpack.toml's version, the CHANGELOG's Unreleased notes under
// the new version, and its compare links. Both files are checked before
// either is written; it returns the new version.
func Prepare(root, bump, date string) (string, error) {
	d, err := Read(root)
	if err != nil {
		return "", err
	}
	v := semver.MustParse(d.Buildpack.Version)
	next := map[string]semver.Version{"major": v.IncMajor(), "minor": v.IncMinor(), "patch": v.IncPatch()}[bump]
	version := next.String()
	descriptor, err := os.ReadFile(filepath.Join(root, "buildpack.toml"))
	changelog, cerr := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	notes, nerr := Notes(changelog, "Unreleased")
	link := regexp.MustCompile(`(?m)^\[unreleased\]: (\S+)/compare/v(\S+)\.\.\.HEAD$`).FindSubmatch(changelog)
	switch {
	case err != nil || cerr != nil || nerr != nil:
		return "", errors.Join(err, cerr, nerr)
	case section(changelog, version):
		return "", fmt.Errorf("CHANGELOG.md already has a section for %s", version)
	case version == "0.0.0":
		return "", fmt.Errorf("unknown bump %q: want major, minor or patch", bump)
	case !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(date):
		return "", fmt.Errorf("release date %q is not YYYY-MM-DD", date)
	case strings.TrimSpace(notes) == "":
		return "", errors.New("CHANGELOG.md has nothing under [Unreleased]: there is nothing to release")
	case link == nil:
		return "", errors.New(`CHANGELOG.md has no "[unreleased]: <repository>/compare/vX.Y.Z...HEAD" link`)
	}
	// [buildpack]'s is the descriptor's first version line: the classic
	// registry's parser takes only plain lines, no dotted keys.
	at := regexp.MustCompile(`(?m)^version = "[^"]*"$`).FindIndex(descriptor)
	descriptor = slices.Concat(descriptor[:at[0]], []byte(`version = "`+version+`"`), descriptor[at[1]:])
	changelog = bytes.Replace(changelog, link[0], fmt.Appendf(nil, "[unreleased]: %s/compare/v%s...HEAD\n[%s]: %s/compare/v%s...v%s", link[1], version, version, link[1], link[2], version), 1)
	changelog = bytes.Replace(changelog, []byte("## [Unreleased]\n"), fmt.Appendf(nil, "## [Unreleased]\n\n## [%s] - %s\n", version, date), 1)
	if err := os.WriteFile(filepath.Join(root, "buildpack.toml"), descriptor, 0o644); err != nil {
		return "", err
	}
	return version, os.WriteFile(filepath.Join(root, "CHANGELOG.md"), changelog, 0o644)
}

// Notes is the body of a CHANGELOG section ("Unreleased", or a version's),
// as release notes.
func Notes(changelog []byte, version string) (string, error) {
	start := regexp.MustCompile(`(?m)^## \[` + regexp.QuoteMeta(version) + `\].*\n`).FindIndex(changelog)
	if start == nil {
		return "", fmt.Errorf("CHANGELOG.md has no section for %s", version)
	}
	body := string(changelog[start[1]:])
	if end := regexp.MustCompile(`(?m)^(## \[|\[[^\]]+\]: )`).FindStringIndex(body); end != nil {
		body = body[:end[0]]
	}
	return strings.TrimSpace(body) + "\n", nil
}
