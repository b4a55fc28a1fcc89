package release_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/release"
)

const repo = "https://github.com/heroku/heroku-buildpack-heroku-applink-service-mesh"

const unreleased = "# Changelog\n\n## [Unreleased]\n\n### Changed\n\n- Pinned 0.3.0.\n\n## [1.2.3] - 2026-12-05\n\n- The rewrite.\n\n" +
	"[unreleased]: " + repo + "/compare/v1.2.3...HEAD\n[1.2.3]: " + repo + "/compare/v1.1.1...v1.2.3\n"

func TestPrepare(t *testing.T) {
	tests := []struct {
		name, bump, date, changelog, version, err string
	}{
		{name: "patch", bump: "patch", version: "1.2.4"},
		{name: "minor", bump: "minor", version: "1.3.0"},
		{name: "major", bump: "major", version: "2.0.0"},
		{name: "an unknown bump", bump: "micro", err: `unknown bump "micro": want major, minor or patch`},
		{name: "a date that is not one", bump: "patch", date: "next tuesday", err: `release date "next tuesday" is not YYYY-MM-DD`},
		{name: "nothing to release", bump: "patch", changelog: strings.Replace(unreleased, "### Changed\n\n- Pinned 0.3.0.\n\n", "", 1),
			err: "CHANGELOG.md has nothing under [Unreleased]"},
		{name: "no Unreleased section", bump: "patch", changelog: "# Changelog\n\n## [1.2.3] - 2026-12-05\n\n- x\n", err: "CHANGELOG.md has no section for Unreleased"},
		{name: "no compare link", bump: "patch", changelog: "# Changelog\n\n## [Unreleased]\n\n- x\n", err: `no "[unreleased]: <repository>/compare/vX.Y.Z...HEAD" link`},
		{name: "the version is there already", bump: "patch", changelog: strings.Replace(unreleased, "## [1.2.3]", "## [1.2.4] - 2026-12-06\n\n- y\n\n## [1.2.3]", 1),
			err: "CHANGELOG.md already has a section for 1.2.4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, _ := tree(t)
			changelog := cmpOr(tt.changelog, unreleased)
			require.NoError(t, os.WriteFile(filepath.Join(root, "CHANGELOG.md"), []byte(changelog), 0o644))
			version, err := release.Prepare(root, tt.bump, cmpOr(tt.date, "2027-01-04"))
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				for name, want := range map[string]string{"CHANGELOG.md": changelog, "buildpack.toml": descriptor} {
					got, err := os.ReadFile(filepath.Join(root, name))
					require.NoError(t, err)
					require.Equal(t, want, string(got), "nothing is written")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.version, version)
			d, err := release.Read(root)
			require.NoError(t, err)
			require.Equal(t, tt.version, d.Buildpack.Version)
			got, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
			require.NoError(t, err)
			want := "# Changelog\n\n## [Unreleased]\n\n## [" + tt.version + "] - 2027-01-04\n\n### Changed\n\n- Pinned 0.3.0.\n\n## [1.2.3] - 2026-12-05\n\n- The rewrite.\n\n" +
				"[unreleased]: " + repo + "/compare/v" + tt.version + "...HEAD\n[" + tt.version + "]: " + repo + "/compare/v1.2.3...v" + tt.version + "\n[1.2.3]: " + repo + "/compare/v1.1.1...v1.2.3\n"
			if diff := cmp.Diff(want, string(got)); diff != "" {
				t.Errorf("CHANGELOG.md (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotes(t *testing.T) {
	tests := []struct {
		version, want, err string
	}{
		{version: "Unreleased", want: "### Changed\n\n- Pinned 0.3.0.\n"},
		{version: "1.2.3", want: "- The rewrite.\n"},
		{version: "1.9.0", err: "CHANGELOG.md has no section for 1.9.0"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			got, err := release.Notes([]byte(unreleased), tt.version)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
