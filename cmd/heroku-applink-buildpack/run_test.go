package main

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPhaseOf(t *testing.T) {
	tests := []struct {
		args      []string
		phase     string
		rest      []string
		wantError bool
	}{
		{[]string{"/cnb/buildpacks/x/bin/detect", "/platform", "/plan"}, "detect", []string{"/platform", "/plan"}, false},
		{[]string{"build", "/layers"}, "build", []string{"/layers"}, false},
		{[]string{"/bp/lib/linux-amd64/heroku-applink-buildpack", "compile", "b", "c", "e"}, "compile", []string{"b", "c", "e"}, false},
		{[]string{"heroku-applink-buildpack"}, "", nil, true},
		{[]string{"heroku-applink-buildpack", "explode"}, "", nil, true},
	}
	for _, tt := range tests {
		phase, rest, err := phaseOf(tt.args)
		if tt.wantError {
			require.Error(t, err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.phase, phase)
		require.Equal(t, tt.rest, rest)
	}
}

func TestContractFor(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	require.Equal(t, classicAPI, contractFor("detect", env(nil)))
	require.Equal(t, classicAPI, contractFor("detect", env(map[string]string{"STACK": "heroku-24"})))
	require.Equal(t, cnbAPI, contractFor("detect", env(map[string]string{"CNB_BUILDPACK_DIR": "/cnb/buildpacks/x"})))
	require.Equal(t, cnbAPI, contractFor("detect", env(map[string]string{"CNB_PLATFORM_DIR": "/platform"})))
	require.Equal(t, cnbAPI, contractFor("build", env(nil)))
}

func TestRunUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), env{
		args:   []string{"compile", "only-one"},
		getenv: func(string) string { return "" },
		stdout: &out, stderr: &errOut, now: time.Now,
	})
	require.Equal(t, exitUsage, code)
	require.Equal(t, "usage: bin/compile BUILD_DIR CACHE_DIR ENV_DIR\n", errOut.String())
}

// TestCancelledBuildSaysSo: whatever fails after a signal failed because of
// it; the log says the build was cancelled, and the exit status is the
// shell's for that signal.
func TestCancelledBuildSaysSo(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&cancelledError{signal: syscall.SIGTERM})
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	code := run(ctx, env{
		args:   []string{"compile", dir, t.TempDir(), t.TempDir()},
		getenv: func(k string) string { return map[string]string{buildpackDirVar: dir}[k] },
		stdout: &out, stderr: &errOut, now: time.Now, wd: dir,
	})
	require.Equal(t, 143, code)
	require.Equal(t, "\n !     Error: the build was cancelled (terminated)\n !\n !     Nothing was installed, and the temporary files were removed.\n\n", errOut.String())
}
