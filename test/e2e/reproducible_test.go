package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReproducibleBuild runs `make verify-reproducible`: two clean clones of
// HEAD, separate build caches, byte-identical binaries for every target.
func TestReproducibleBuild(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("make", "-s", "verify-reproducible")
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	for _, target := range []string{"linux-amd64", "linux-arm64"} {
		require.Contains(t, string(out), "       "+target+"  identical  sha256:")
	}
	require.Equal(t, 1, strings.Count(string(out), "the shim's build is the release build"))
}
