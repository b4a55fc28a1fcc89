package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/report"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
)

// clock advances by step at each reading.
func clock(step time.Duration) func() time.Time {
	t := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

func printed(t *testing.T, cache string) string {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, report.Print(&out, cache))
	return out.String()
}

func TestARecordedBuild(t *testing.T) {
	cache := t.TempDir()
	r := report.Start(cache, "0.2.0", "heroku-24", clock(1500*time.Millisecond))
	req, err := inventory.ParseRequest("~0.3")
	require.NoError(t, err)
	sum := "sha256:" + strings.Repeat("a", 64)
	r.Release(install.Release{Version: "0.3.0", Arch: "amd64", Request: req, Checksum: sum})
	r.Installed(install.Result{Checksum: sum, Discarded: "it no longer matches", Download: 1590056*time.Microsecond + 400}, true)
	r.Advice([]string{"procfile-app-uses-port", "addon-missing", "procfile-app-uses-port"})
	require.NoError(t, r.Finish(nil))

	want := `{
  "advice": "procfile-app-uses-port,addon-missing",
  "advice_count": 2,
  "buildpack_version": "0.2.0",
  "cache_discard_reason": "it no longer matches",
  "cache_status": "discarded",
  "mesh_arch": "amd64",
  "mesh_checksum": "` + sum + `",
  "mesh_download_duration": 1.590056,
  "mesh_source": "official",
  "mesh_verification": "pinned-checksum",
  "mesh_version": "0.3.0",
  "mesh_version_pinned": true,
  "mesh_version_request_type": "constraint",
  "mesh_version_requested": "~0.3",
  "stack": "heroku-24",
  "total_duration": 1.5
}
`
	if diff := cmp.Diff(want, printed(t, cache)); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

func TestAFailedBuild(t *testing.T) {
	cache := t.TempDir()
	r := report.Start(cache, "0.2.0", "", clock(time.Second))
	err := fmt.Errorf("installing: %w", &install.ChecksumError{Want: "sha256:a", Got: "sha256:b"})
	require.Same(t, err, r.Finish(err), "Finish returns the build's error unchanged")
	got := printed(t, cache)
	require.Contains(t, got, `"failure_reason": "verify::checksum-mismatch"`)
	require.Contains(t, got, `"failure_detail": "installing: `)
	require.NotContains(t, got, "mesh_version")
}

func TestAKilledBuildReportsNoOldData(t *testing.T) {
	cache := t.TempDir()
	old := report.Start(cache, "0.2.0", "", clock(time.Second))
	old.Advice([]string{"procfile-missing"})
	require.NoError(t, old.Finish(nil))
	require.Contains(t, printed(t, cache), "procfile-missing")

	report.Start(cache, "0.2.0", "", clock(time.Second)) // and never finished
	require.Equal(t, "{}\n", printed(t, cache))
}

func TestReportNeverFails(t *testing.T) {
	victim := filepath.Join(t.TempDir(), "secret.json")
	require.NoError(t, os.WriteFile(victim, []byte(`{"password": "hunter2"}`), 0o600))
	for name, setup := range map[string]func(dir string) error{
		"no cache dir":        func(string) error { return nil },
		"no data":             func(dir string) error { return os.MkdirAll(filepath.Join(dir, report.Dir), 0o755) },
		"not JSON":            func(dir string) error { return write(dir, "not json") },
		"nested values":       func(dir string) error { return write(dir, `{"a": {"b": 1}}`) },
		"an array":            func(dir string) error { return write(dir, `[1, 2]`) },
		"null":                func(dir string) error { return write(dir, `null`) },
		"too large":           func(dir string) error { return write(dir, `{"a": "`+strings.Repeat("x", 70<<10)+`"}`) },
		"a link to a secret":  func(dir string) error { return link(dir, victim) },
		"an infinite number":  func(dir string) error { return write(dir, `{"total_duration": 1e999}`) },
		"a negative infinite": func(dir string) error { return write(dir, `{"total_duration": -1e999}`) },
		"data after the data": func(dir string) error { return write(dir, `{"a": "x"} {"b": 1}`) },
		"a control in a key":  func(dir string) error { return write(dir, `{"a\u001b[2K": "x"}`) },
		"a named pipe": func(dir string) error {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, report.Dir), 0o755))
			return syscall.Mkfifo(filepath.Join(dir, report.Dir, report.FileName), 0o644)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			if name != "no cache dir" {
				require.NoError(t, os.MkdirAll(dir, 0o755))
			}
			require.NoError(t, setup(dir))
			require.Equal(t, "{}\n", printed(t, dir))
		})
	}
}

func write(dir, content string) error {
	if err := os.MkdirAll(filepath.Join(dir, report.Dir), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, report.Dir, report.FileName), []byte(content), 0o644)
}

func link(dir, target string) error {
	if err := os.MkdirAll(filepath.Join(dir, report.Dir), 0o755); err != nil {
		return err
	}
	return os.Symlink(target, filepath.Join(dir, report.Dir, report.FileName))
}

func TestRecordingNeverWritesThroughALink(t *testing.T) {
	cache := t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(cache, report.Dir)))
	r := report.Start(cache, "0.2.0", "", clock(time.Second))
	require.NoError(t, r.Finish(nil))
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing is written through a linked build-data folder")

	cache = t.TempDir()
	victim := filepath.Join(outside, "victim")
	require.NoError(t, os.WriteFile(victim, []byte("keep"), 0o644))
	require.NoError(t, link(cache, victim))
	require.NoError(t, report.Start(cache, "0.2.0", "", clock(time.Second)).Finish(nil))
	kept, err := os.ReadFile(victim)
	require.NoError(t, err)
	require.Equal(t, "keep", string(kept), "a linked data file is replaced, never written through")
	require.Contains(t, printed(t, cache), "total_duration")
}

// TestHostileValuesAreCutAndEscaped: values in the data file are printed
// at most 200 bytes long, with controls and bidi overrides made visible.
func TestHostileValuesAreCutAndEscaped(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, write(dir, `{"stack": "heroku-24\u001b[2K\r-----> Done\u202e", "long": "`+strings.Repeat("x", 5000)+`", "n": 2.5, "ok": true}`))
	got := printed(t, dir)
	require.Contains(t, got, `"stack": "heroku-24\\x1b[2K\\x0d-----> Done\\u202e"`)
	require.Contains(t, got, `"long": "`+strings.Repeat("x", 200)+`"`)
	require.NotContains(t, got, strings.Repeat("x", 201))
	require.Contains(t, got, `"n": 2.5`)

	// Cut once escaped, and numbers printed as numbers, not as their text.
	require.NoError(t, write(dir, `{"a": "`+strings.Repeat(`\u0001`, 200)+`", "t": 0.`+strings.Repeat("0", 60000)+`1, "u": 1.50}`))
	got = printed(t, dir)
	require.Contains(t, got, `"a": "`+strings.Repeat(`\\x01`, 50)+`"`)
	require.Contains(t, got, `"t": 0,`)
	require.Contains(t, got, `"u": 1.5`)
	require.Less(t, len(got), 400)
}

func TestLongValuesAreCut(t *testing.T) {
	cache := t.TempDir()
	r := report.Start(cache, "0.2.0", "", clock(time.Second))
	require.Error(t, r.Finish(errors.New(strings.Repeat("é", 300))))
	got := printed(t, cache)
	require.Contains(t, got, `"failure_detail": "`+strings.Repeat("é", 100)+`"`)

	// An invalid byte early on loses nothing after it.
	r = report.Start(cache, "0.2.0", "", clock(time.Second))
	require.Error(t, r.Finish(errors.New("server answered 500 \xff"+strings.Repeat("a", 300))))
	detail := "server answered 500 \ufffd"
	require.Contains(t, printed(t, cache), `"failure_detail": "`+detail+strings.Repeat("a", 200-len(detail))+`"`)
}

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{context.Canceled, "build::cancelled"},
		{func() error { _, err := config.Parse(map[string]string{config.VarVersion: "^^1"}); return err }(), "config::invalid-version"},
		{&config.Error{Var: "X"}, "config::invalid"},
		{&inventory.NoMatchError{}, "version::no-match"},
		{&inventory.UnsupportedArchError{}, "platform::unsupported-arch"},
		{fmt.Errorf("failed to download: %w", &fetch.StatusError{Code: 404}), "download::http-status"},
		{fmt.Errorf("failed to download: gave up: %w", &fetch.NetworkError{Err: errors.New("x")}), "download::network"},
		{fmt.Errorf("x: %w", &fetch.TLSError{Cause: "x"}), "download::tls"},
		{&fetch.TooSlowError{}, "download::too-slow"},
		{&fetch.NotAFileError{}, "download::not-the-file"},
		{&signature.Error{Problem: signature.Expired}, "verify::signature"},
		{&signature.KeyError{}, "verify::signing-key"},
		{&fsutil.PathError{Path: "/x", Err: syscall.ENOSPC}, "filesystem::no-space"},
		{&fsutil.PathError{Path: "/x", Err: syscall.EISDIR}, "filesystem::unusable"},
		{errors.New("something else"), "internal-error::unhandled"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, report.Reason(tt.err))
		})
	}
}

// TestMuchAdviceIsCutBetweenNames: a report value holds 200 bytes; the
// advice keeps whole names, the first given first, and counts them all.
func TestMuchAdviceIsCutBetweenNames(t *testing.T) {
	cache := t.TempDir()
	r := report.Start(cache, "0.2.0", "", clock(time.Second))
	var kinds []string
	for i := range 20 {
		kinds = append(kinds, fmt.Sprintf("procfile-kind-number-%02d", i))
	}
	r.Advice(kinds)
	require.NoError(t, r.Finish(nil))
	var got struct {
		Advice string `json:"advice"`
		Count  int    `json:"advice_count"`
	}
	require.NoError(t, json.Unmarshal([]byte(printed(t, cache)), &got))
	require.Equal(t, 20, got.Count)
	require.LessOrEqual(t, len(got.Advice), 200)
	names := strings.Split(got.Advice, ",")
	require.Equal(t, kinds[:len(names)], names, "whole names, in the order given")
	require.Len(t, names, 8)
}
