package main

import (
	"bytes"
	"context"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/report"
)

func TestPhaseOf(t *testing.T) {
	tests := []struct {
		args  []string
		phase string
		rest  []string
	}{
		{[]string{"/cnb/buildpacks/x/bin/build", "/layers", "/platform", "/plan"}, "build", []string{"/layers", "/platform", "/plan"}},
		{[]string{"/bp/lib/linux-amd64/heroku-applink-buildpack", "compile", "b", "c", "e"}, "compile", []string{"b", "c", "e"}},
		{[]string{"heroku-applink-buildpack", "report", "b", "c", "e"}, "report", []string{"b", "c", "e"}},
		{[]string{"heroku-applink-buildpack"}, "", nil},
		{[]string{"heroku-applink-buildpack", "detect", "b"}, "", nil},
		{[]string{"heroku-applink-buildpack", "/x/build", "b"}, "", nil}, // a phase is named, not a path
	}
	for _, tt := range tests {
		phase, rest := phaseOf(tt.args)
		require.Equal(t, tt.phase, phase)
		require.Equal(t, tt.rest, rest)
	}
}

func runWith(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(ctx, args, func(string) string { return "" }, "/elsewhere", &out, &errOut, time.Now, false)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	code, _, stderr := runWith(context.Background(), "compile", "only-one")
	require.Equal(t, exitUsage, code)
	require.Equal(t, "usage: bin/compile BUILD_DIR CACHE_DIR ENV_DIR\n", stderr)
	code, _, stderr = runWith(context.Background(), "heroku-applink-buildpack", "explode")
	require.Equal(t, exitUsage, code)
	require.Equal(t, "usage: heroku-applink-buildpack compile|report|build ARGS...\n", stderr)
}

// TestReportNeverFails: bin/report prints {} and exits 0 whatever it finds.
func TestReportNeverFails(t *testing.T) {
	code, stdout, _ := runWith(context.Background(), "report", t.TempDir(), t.TempDir(), t.TempDir())
	require.Equal(t, exitOK, code)
	require.Equal(t, "{}\n", stdout)
	cache := t.TempDir()
	require.NoError(t, report.Start(cache, "9.9.9", "", time.Now).Finish(nil))
	_, stdout, _ = runWith(context.Background(), "report", "b", cache, "e")
	require.Contains(t, stdout, `"buildpack_version": "9.9.9"`, "an absolute CACHE_DIR is taken as it is")
}

// TestCancelledBuildSaysSo: whatever fails after a signal failed because of
// it; the log says the build was cancelled, and the exit status is the
// shell's for that signal.
func TestCancelledBuildSaysSo(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&cancelledError{signal: syscall.SIGTERM})
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"compile", dir, t.TempDir(), t.TempDir()},
		func(k string) string { return map[string]string{"HEROKU_APPLINK_BUILDPACK_DIR": dir}[k] }, dir, &out, &errOut, time.Now, false)
	require.Equal(t, 143, code)
	require.Equal(t, "\n !     Error: the build was cancelled (terminated)\n !\n !     Nothing was installed, and the temporary files were removed.\n\n", errOut.String())
}

// TestABadKnobIsReported: a platform knob that fails the compile before it
// starts still leaves the build report its failure.
func TestABadKnobIsReported(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	env := map[string]string{"HEROKU_APPLINK_BUILDPACK_DIR": dir, "HEROKU_APPLINK_BUILDPACK_TIMEOUT": "0"}
	code := run(context.Background(), []string{"compile", dir, cache, t.TempDir()}, func(k string) string { return env[k] }, dir, io.Discard, io.Discard, time.Now, false)
	require.Equal(t, exitError, code)
	_, stdout, _ := runWith(context.Background(), "report", "b", cache, "e")
	require.Contains(t, stdout, `"failure_reason": "config::`)
}
