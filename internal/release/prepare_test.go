package release_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/release"
)

func TestBump(t *testing.T) {
	tests := []struct {
		current, part, want, err string
	}{
		{current: "2.0.0", part: "patch", want: "2.0.1"},
		{current: "2.0.1", part: "minor", want: "2.1.0"},
		{current: "2.1.3", part: "major", want: "3.0.0"},
		{current: "2.1", part: "patch", err: `version "2.1" is not a semantic version X.Y.Z`},
		{current: "2.1.0-rc.1", part: "patch", err: "has a pre-release or build suffix"},
		{current: "2.1.0", part: "micro", err: `unknown bump "micro": want major, minor or patch`},
	}
	for _, tt := range tests {
		t.Run(tt.current+" "+tt.part, func(t *testing.T) {
			got, err := release.Bump(tt.current, tt.part)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestSetVersion(t *testing.T) {
	got, err := release.SetVersion([]byte(descriptor), "1.3.0")
	require.NoError(t, err)
	want := strings.Replace(descriptor, `version = "1.2.3"`, `version = "1.3.0"`, 1)
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("buildpack.toml (-want +got):\n%s", diff)
	}

	// Another table's version key is not the buildpack's.
	other := "api = \"0.10\"\n\n[buildpack]\nid = \"x/y\"\n\n[metadata]\nversion = \"9.9.9\"\n"
	_, err = release.SetVersion([]byte(other), "1.0.0")
	require.ErrorContains(t, err, `[buildpack] table has no version = "..." line`)
	_, err = release.SetVersion([]byte("api = \"0.10\"\n"), "1.0.0")
	require.ErrorContains(t, err, "buildpack.toml has no [buildpack] table")
}

const repo = "https://github.com/heroku/heroku-buildpack-heroku-applink-service-mesh"

func TestDateChangelog(t *testing.T) {
	released := "# Changelog\n\n## [Unreleased]\n\n## [2.0.0] - 2026-12-05\n\n- The rewrite.\n\n" +
		"[unreleased]: " + repo + "/compare/v2.0.0...HEAD\n[2.0.0]: " + repo + "/compare/v1.1.1...v2.0.0\n"
	tests := []struct {
		name, in, want, err string
	}{
		{
			name: "notes under Unreleased become the dated section",
			in: "# Changelog\n\n## [Unreleased]\n\n### Changed\n\n- Pinned 0.3.0.\n\n## [2.0.0] - 2026-12-05\n\n- The rewrite.\n\n" +
				"[unreleased]: " + repo + "/compare/v2.0.0...HEAD\n[2.0.0]: " + repo + "/compare/v1.1.1...v2.0.0\n",
			want: "# Changelog\n\n## [Unreleased]\n\n## [2.0.1] - 2027-01-04\n\n### Changed\n\n- Pinned 0.3.0.\n\n## [2.0.0] - 2026-12-05\n\n- The rewrite.\n\n" +
				"[unreleased]: " + repo + "/compare/v2.0.1...HEAD\n[2.0.1]: " + repo + "/compare/v2.0.0...v2.0.1\n[2.0.0]: " + repo + "/compare/v1.1.1...v2.0.0\n",
		},
		{name: "nothing to release", in: released, err: "CHANGELOG.md has nothing under [Unreleased]"},
		{
			name: "nothing to release, Unreleased last",
			in:   "# Changelog\n\n## [Unreleased]\n\n[unreleased]: " + repo + "/compare/v2.0.0...HEAD\n",
			err:  "nothing under [Unreleased]",
		},
		{name: "no Unreleased section", in: "# Changelog\n\n## [2.0.0] - 2026-12-05\n\n- x\n", err: `CHANGELOG.md has no "## [Unreleased]" section`},
		{name: "no compare link", in: "# Changelog\n\n## [Unreleased]\n\n- x\n", err: `no "[unreleased]: <repository>/compare/vX.Y.Z...HEAD" link`},
		{
			name: "the version is already there",
			in:   "# Changelog\n\n## [Unreleased]\n\n- x\n\n## [2.0.1] - 2026-12-05\n\n- y\n\n[unreleased]: " + repo + "/compare/v2.0.1...HEAD\n",
			err:  "CHANGELOG.md already has a section for 2.0.1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := release.DateChangelog([]byte(tt.in), "2.0.1", "2027-01-04")
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("CHANGELOG.md (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotes(t *testing.T) {
	changelog := "# Changelog\n\n## [Unreleased]\n\n## [2.0.1] - 2027-01-04\n\n### Changed\n\n- Pinned 0.3.0.\n\n## [2.0.0] - 2026-12-05\n\n- The rewrite.\n\n" +
		"[unreleased]: " + repo + "/compare/v2.0.1...HEAD\n[2.0.1]: " + repo + "/compare/v2.0.0...v2.0.1\n"
	tests := []struct {
		version, want, err string
	}{
		{version: "2.0.1", want: "### Changed\n\n- Pinned 0.3.0.\n"},
		{version: "2.0.0", want: "- The rewrite.\n"},
		{version: "1.9.0", err: "CHANGELOG.md has no section for 1.9.0"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			got, err := release.Notes([]byte(changelog), tt.version)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestImageRepository(t *testing.T) {
	got, err := release.ImageRepository([]byte(descriptor + "\n[metadata.release.image]\nrepository = \"docker.io/heroku/buildpack-heroku-applink\"\n"))
	require.NoError(t, err)
	require.Equal(t, "docker.io/heroku/buildpack-heroku-applink", got)
	_, err = release.ImageRepository([]byte(descriptor))
	require.ErrorContains(t, err, "buildpack.toml has no [metadata.release.image] repository")
}
