package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/require"
)

// rubyTOML parses a file with the Ruby toml gem, the TOML 0.4-era parser
// Heroku's classic buildpack registry reads buildpack.toml with (Debian's
// ruby-toml is that gem, one minor version older). It returns the id and
// version it read, or the parser's error.
func rubyTOML(t *testing.T, path string) (string, error) {
	t.Helper()
	script := `require "toml"
d = TOML.load_file(ARGV[0])
puts [d["buildpack"]["id"], d["buildpack"]["version"]].join(" ")`
	out, err := exec.Command("ruby", "-e", script, path).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func needRubyTOML(t *testing.T) {
	t.Helper()
	if err := exec.Command("ruby", "-e", `require "toml"`).Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ruby with the toml gem is missing: .ci/run installs Debian's ruby-toml")
		}
		t.Skip("needs Debian's ruby-toml (the classic registry's TOML parser); CI installs it")
	}
}

// TestClassicRegistryParsesBuildpackTOML: the upstream's v1.1.0 never
// reached the registry because its parser rejected buildpack.toml. Ours must
// parse there as committed and as packaged. (Pins live in inventory.toml,
// which the registry never reads.)
func TestClassicRegistryParsesBuildpackTOML(t *testing.T) {
	t.Parallel()
	needRubyTOML(t)
	version := bpVersion(t)

	out, err := rubyTOML(t, filepath.Join(repoRoot, "buildpack.toml"))
	require.NoError(t, err, out)
	require.Equal(t, "heroku/heroku-applink "+version, out)

	dist := packaged(t)
	out, err = rubyTOML(t, filepath.Join(dist, "cnb", "linux-arm64", "buildpack.toml"))
	require.NoError(t, err, out)
	require.Equal(t, "heroku/heroku-applink "+version, out)

	original, err := os.ReadFile(filepath.Join(repoRoot, "buildpack.toml"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "buildpack.toml")

	// And the parser really is that strict: the upstream v1.1.0's inline
	// table, valid TOML 1.0, does not parse.
	const expanded = "[metadata.release.image]\nrepository = \"docker.io/heroku/buildpack-heroku-applink\"\n"
	require.Contains(t, string(original), expanded)
	inline := strings.Replace(string(original), expanded, "[metadata.release]\nimage = { repository = \"docker.io/heroku/buildpack-heroku-applink\" }\n", 1)
	var valid map[string]any
	_, err = toml.Decode(inline, &valid)
	require.NoError(t, err, "the inline form is valid TOML 1.0")
	require.NoError(t, os.WriteFile(path, []byte(inline), 0o644))
	_, err = rubyTOML(t, path)
	require.Error(t, err, "an inline table must not parse")
}
