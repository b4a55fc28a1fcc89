package release

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Bump is the version after current for a major, minor or patch release.
func Bump(current, part string) (string, error) {
	v, err := semver.StrictNewVersion(current)
	if err != nil {
		return "", fmt.Errorf("version %q is not a semantic version X.Y.Z", current)
	}
	if v.Prerelease() != "" || v.Metadata() != "" {
		return "", fmt.Errorf("version %q has a pre-release or build suffix; set the next version by hand", current)
	}
	var next semver.Version
	switch part {
	case "major":
		next = v.IncMajor()
	case "minor":
		next = v.IncMinor()
	case "patch":
		next = v.IncPatch()
	default:
		return "", fmt.Errorf("unknown bump %q: want major, minor or patch", part)
	}
	return next.String(), nil
}

// versionLine is [buildpack]'s version key; the descriptor is kept in the
// TOML 0.4 subset the classic registry parses, so it is a plain line.
var versionLine = regexp.MustCompile(`(?m)^version = "[^"]*"$`)

// SetVersion rewrites [buildpack] version in buildpack.toml, changing
// nothing else in the file.
func SetVersion(descriptor []byte, version string) ([]byte, error) {
	text := string(descriptor)
	start := strings.Index(text, "\n[buildpack]\n")
	if start < 0 {
		return nil, errors.New("buildpack.toml has no [buildpack] table")
	}
	end := len(text)
	if next := strings.Index(text[start+1:], "\n["); next >= 0 {
		end = start + 1 + next
	}
	loc := versionLine.FindStringIndex(text[start:end])
	if loc == nil {
		return nil, errors.New(`buildpack.toml's [buildpack] table has no version = "..." line`)
	}
	out := text[:start+loc[0]] + fmt.Sprintf("version = %q", version) + text[start+loc[1]:]
	if got, err := Version([]byte(out)); err != nil || got != version {
		return nil, fmt.Errorf("buildpack.toml: the version did not become %s: %v", version, err)
	}
	return []byte(out), nil
}

var (
	unreleasedHeading = regexp.MustCompile(`(?m)^## \[Unreleased\][ \t]*\n`)
	releaseHeading    = regexp.MustCompile(`(?m)^## \[`)
	unreleasedLink    = regexp.MustCompile(`(?mi)^\[unreleased\]: (\S+)/compare/v(\S+)\.\.\.HEAD[ \t]*$`)
)

// DateChangelog turns the notes under "## [Unreleased]" into the section
// of version, released on date (YYYY-MM-DD), under a new empty Unreleased
// section, and adds its compare link: Keep a Changelog's release step.
func DateChangelog(changelog []byte, version, date string) ([]byte, error) {
	text := string(changelog)
	heading := unreleasedHeading.FindStringIndex(text)
	if heading == nil {
		return nil, errors.New(`CHANGELOG.md has no "## [Unreleased]" section`)
	}
	body := text[heading[1]:]
	if next := releaseHeading.FindStringIndex(body); next != nil {
		body = body[:next[0]]
	}
	if strings.TrimSpace(stripLinks(body)) == "" {
		return nil, errors.New("CHANGELOG.md has nothing under [Unreleased]: there is nothing to release")
	}
	if changelogHas(changelog, version) {
		return nil, fmt.Errorf("CHANGELOG.md already has a section for %s", version)
	}
	link := unreleasedLink.FindStringSubmatchIndex(text)
	if link == nil {
		return nil, errors.New("CHANGELOG.md has no \"[unreleased]: <repository>/compare/vX.Y.Z...HEAD\" link")
	}
	repo, previous := text[link[2]:link[3]], text[link[4]:link[5]]
	links := fmt.Sprintf("[unreleased]: %s/compare/v%s...HEAD\n[%s]: %s/compare/v%s...v%s", repo, version, version, repo, previous, version)
	// The link comes after the sections, so replacing it first keeps the
	// heading's offsets right.
	text = text[:link[0]] + links + text[link[1]:]
	text = text[:heading[1]] + fmt.Sprintf("\n## [%s] - %s\n", version, date) + text[heading[1]:]
	return []byte(text), nil
}

// stripLinks drops link reference definitions, which close the last
// section of a changelog.
func stripLinks(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "[") || !strings.Contains(line, "]: ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// Notes is the body of version's CHANGELOG section, as release notes.
func Notes(changelog []byte, version string) (string, error) {
	text := string(changelog)
	heading := regexp.MustCompile(`(?m)^## \[` + regexp.QuoteMeta(version) + `\][^\n]*\n`).FindStringIndex(text)
	if heading == nil {
		return "", fmt.Errorf("CHANGELOG.md has no section for %s", version)
	}
	body := text[heading[1]:]
	if next := releaseHeading.FindStringIndex(body); next != nil {
		body = body[:next[0]]
	}
	return strings.TrimSpace(stripLinks(body)) + "\n", nil
}
