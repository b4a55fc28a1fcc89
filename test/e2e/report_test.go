package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

var durations = regexp.MustCompile(`("\w+_duration"): [0-9.e+-]+`)

// reportOf is bin/report's output after the app's last build, with
// durations made comparable; the report always exits 0 and says nothing
// on stderr.
func reportOf(t *testing.T, app *harness.App) string {
	t.Helper()
	require.NoError(t, app.ReportErr, app.ReportStderr)
	require.Empty(t, app.ReportStderr)
	return durations.ReplaceAllString(app.Report, `$1: D`)
}

func TestClassicReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newClassicEnv(t, "0.2.2", "0.3.0")
	art := e.arts["0.3.0"]
	app := e.app(t, "sample-app")
	require.NoError(t, app.Deploy(ctx))
	want := `{
  "advice": "",
  "advice_count": 0,
  "buildpack_version": "` + bpVersion(t) + `",
  "cache_status": "empty",
  "mesh_arch": "amd64",
  "mesh_checksum": "` + art.Checksum() + `",
  "mesh_download_duration": D,
  "mesh_source": "mirror",
  "mesh_verification": "pinned-checksum",
  "mesh_version": "0.3.0",
  "mesh_version_pinned": true,
  "mesh_version_request_type": "default",
  "stack": "` + app.Stack + `",
  "total_duration": D
}
`
	if diff := cmp.Diff(want, reportOf(t, app)); diff != "" {
		t.Errorf("report after a pinned build (-want +got):\n%s", diff)
	}

	t.Run("a cached build, asked for by constraint, with advice", func(t *testing.T) {
		require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "~0.3"))
		require.NoError(t, app.SetConfig("HEROKU_APPLINK_TOKEN", ""))
		require.NoError(t, app.Push(ctx))
		want := `{
  "advice": "addon-partial",
  "advice_count": 1,
  "buildpack_version": "` + bpVersion(t) + `",
  "cache_status": "reused",
  "mesh_arch": "amd64",
  "mesh_checksum": "` + art.Checksum() + `",
  "mesh_source": "mirror",
  "mesh_verification": "pinned-checksum",
  "mesh_version": "0.3.0",
  "mesh_version_pinned": true,
  "mesh_version_request_type": "constraint",
  "mesh_version_requested": "~0.3",
  "stack": "` + app.Stack + `",
  "total_duration": D
}
`
		if diff := cmp.Diff(want, reportOf(t, app)); diff != "" {
			t.Errorf("report after a cached build (-want +got):\n%s", diff)
		}
	})

	t.Run("a failed build reports why, and nothing of the build before", func(t *testing.T) {
		e.mirror.Put(e.arts["0.2.2"].Object(), meshScript("6.6.6"))
		require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "0.2.2"))
		require.Error(t, app.Push(ctx))
		got := reportOf(t, app)
		detail := regexp.MustCompile(`"failure_detail": "([^"]*)"`)
		m := detail.FindStringSubmatch(got)
		require.NotNil(t, m, got)
		full := "failed to download the service mesh 0.2.2 (linux-amd64) from " + e.mirror.URL() +
			"/heroku-applink-service-mesh-v0.2.2-amd64: checksum mismatch: expected " + e.arts["0.2.2"].Checksum() +
			", got " + testhelpers.Artifact{Data: meshScript("6.6.6")}.Checksum()
		require.Equal(t, full[:min(len(full), 200)], m[1], "the error as printed, cut at 200 bytes as Heroku's buildpacks cut values")
		want := `{
  "buildpack_version": "` + bpVersion(t) + `",
  "failure_detail": "DETAIL",
  "failure_reason": "verify::checksum-mismatch",
  "mesh_arch": "amd64",
  "mesh_source": "mirror",
  "mesh_version": "0.2.2",
  "mesh_version_pinned": true,
  "mesh_version_request_type": "exact",
  "mesh_version_requested": "0.2.2",
  "stack": "` + app.Stack + `",
  "total_duration": D
}
`
		if diff := cmp.Diff(want, detail.ReplaceAllString(got, `"failure_detail": "DETAIL"`)); diff != "" {
			t.Errorf("report after a failed build (-want +got):\n%s", diff)
		}
	})

	t.Run("a build that fails on its config", func(t *testing.T) {
		require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "not a version"))
		require.Error(t, app.Push(ctx))
		got := reportOf(t, app)
		require.Contains(t, got, `"failure_reason": "config::invalid-version"`)
		require.NotContains(t, got, "mesh_version")
	})
}

func TestClassicReportAfterASignedBuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := releaseKey(t)
	e := newClassicEnv(t, "0.2.2")
	shipKey(t, e.bp.Dir, key)
	e.mirror.PublishSigned(latestObject(), mesh("0.3.0").Data, key, false)
	app := e.app(t, "sample-app")
	require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "latest"))
	require.NoError(t, app.Deploy(ctx))
	want := `{
  "advice": "",
  "advice_count": 0,
  "buildpack_version": "` + bpVersion(t) + `",
  "cache_status": "empty",
  "mesh_arch": "amd64",
  "mesh_checksum": "` + mesh("0.3.0").Checksum() + `",
  "mesh_download_duration": D,
  "mesh_signing_key_fingerprint": "` + key.Fingerprint + `",
  "mesh_source": "mirror",
  "mesh_verification": "signature",
  "mesh_version": "latest",
  "mesh_version_pinned": false,
  "mesh_version_request_type": "latest",
  "mesh_version_requested": "latest",
  "stack": "` + app.Stack + `",
  "total_duration": D
}
`
	if diff := cmp.Diff(want, reportOf(t, app)); diff != "" {
		t.Errorf("report after a signed build (-want +got):\n%s", diff)
	}
}

// TestClassicStacks runs the classic flow on both current stacks:
// Heroku-26, the recommended one, and Heroku-24.
func TestClassicStacks(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"heroku-24", "heroku-26"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			api := newAppLink(t)
			e := newClassicEnv(t, "0.2.2")
			app := e.app(t, "sample-app")
			app.Stack = stack
			require.NoError(t, app.SetConfigs(api.Config()))
			require.NoError(t, app.Deploy(ctx))
			want := e.installLog(t, "0.2.2") + okProcfile("APP_PORT=3000 heroku-applink-service-mesh bin/webapp") + done
			if diff := cmp.Diff(want, normalize(app.Output(), e.mirror.URL(), app.BuildDir)); diff != "" {
				t.Errorf("build log (-want +got):\n%s", diff)
			}
			require.Contains(t, reportOf(t, app), `"stack": "`+stack+`"`)
			d := startWeb(t, app, nil)
			assertServes(t, d, api, "0.2.2")
			d.Stop()

			require.NoError(t, app.Push(ctx))
			require.Contains(t, app.Output(), "Using the cached copy")
			assertServes(t, startWeb(t, app, nil), api, "0.2.2")
		})
	}
}

// TestShimWithoutGoOnAStack: a buildpack installed from a Git URL without
// a tag is a source checkout with no prebuilt binary, and Heroku's stacks
// have no Go. The shim says what to install instead.
func TestShimWithoutGoOnAStack(t *testing.T) {
	t.Parallel()
	dir := gitCopy(t)
	// Go hidden as on a stack: its usual places covered, and not on PATH.
	script := `for d in /usr/local/go /usr/lib/go; do [ -d "$d" ] && mount -t tmpfs none "$d"; done
exec env -i PATH=/usr/bin:/bin "$0" "$@"`
	out, err := exec.Command("unshare", "-m", "sh", "-c", script, filepath.Join(dir, "bin/compile"), t.TempDir(), t.TempDir(), t.TempDir()).CombinedOutput()
	require.Error(t, err)
	want := "-----> Building the buildpack binary for linux/" + runtime.GOARCH + " from source: a one-time build that takes a few minutes\n" +
		"lib/build.sh: no Go toolchain on PATH, in /usr/local/go or /usr/lib/go\n" +
		"\n !     Error: no prebuilt buildpack binary for linux/" + runtime.GOARCH + " and no Go toolchain to build one from source. " +
		"Install the buildpack from the buildpack registry (heroku/heroku-applink-service-mesh) or a release tag " +
		"(https://github.com/heroku/heroku-buildpack-heroku-applink-service-mesh#vX.Y.Z): Heroku's stacks have no Go.\n\n"
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_, err = os.Stat(filepath.Join(dir, ".build"))
	require.NoError(t, err, "the shim made only its own build folder")
}
