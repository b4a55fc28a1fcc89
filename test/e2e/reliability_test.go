package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

// hangGuard bounds every build a test runs: a build that has not ended by
// then hangs. It is no measure of speed, so a loaded machine cannot make a
// passing case fail.
const hangGuard = 2 * time.Minute

// faultCase is one row of README's Reliability table: a fault the release
// server shows, and what the build does about it.
type faultCase struct {
	fault   string
	outcome string
	// setup arranges the fault for the artifact on the mirror and returns
	// the mirror URL to configure ("" keeps the mirror's).
	setup func(t *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string
	ok    bool
	// want are lines or fragments the build log must show; absent, ones it
	// must not.
	want, absent []string
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

var faultCases = []faultCase{
	{fault: "404", outcome: "fails at once: not found, with the version, architecture and URL",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.Status(404))
			return ""
		},
		want: []string{"server answered 404 Not Found", "Version 0.3.0 for amd64 was not found at mirror"}, absent: []string{"Attempt 1 failed"}},
	{fault: "403 (S3's missing key)", outcome: "fails at once: not found, with the version, architecture and URL",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.Status(403))
			return ""
		},
		want: []string{"server answered 403 Forbidden", "was not found at mirror"}},
	{fault: "500 × 3, then success", outcome: "recovers on the 4th attempt (the retry budget is 4)",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Script(a.Object(), testhelpers.Status(500), testhelpers.Status(500), testhelpers.Status(500))
			return ""
		},
		ok: true, want: []string{"Attempt 3 failed (server answered 500 Internal Server Error); retrying in"}},
	{fault: "429 with Retry-After", outcome: "waits as told (at most 20s), then recovers",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Script(a.Object(), testhelpers.TooManyRequests(1))
			return ""
		},
		ok: true, want: []string{"Attempt 1 failed (server answered 429 Too Many Requests); retrying in 1.0s"}},
	{fault: "connection refused", outcome: "fails after 4 attempts: connection refused",
		setup: func(t *testing.T, _ *testhelpers.Mirror, _ testhelpers.Artifact, _ map[string]string) string {
			return closedPort(t)
		},
		want: []string{"gave up after 4 attempts", "connection refused", "This is usually a temporary network problem"}},
	{fault: "reset mid-body", outcome: "recovers: the download is retried",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Script(a.Object(), testhelpers.ResetMidBody(a.Data))
			return ""
		},
		ok: true, want: []string{"Attempt 1 failed"}},
	{fault: "body shorter than Content-Length", outcome: "recovers: the download is retried",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Script(a.Object(), testhelpers.ShortBody(a.Data))
			return ""
		},
		ok: true, want: []string{"Attempt 1 failed"}},
	{fault: "trailing bytes after the artifact", outcome: "fails at once: checksum mismatch, expected and actual digests",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.Body(append(append([]byte{}, a.Data...), "trailer"...)))
			return ""
		},
		want: []string{"checksum mismatch: expected " + "sha256:"}},
	{fault: "same-length tampered bytes", outcome: "fails at once: checksum mismatch, expected and actual digests",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			bad := append([]byte{}, a.Data...)
			bad[len(bad)/2] ^= 0xff
			m.Fault(a.Object(), testhelpers.Body(bad))
			return ""
		},
		want: []string{"checksum mismatch: expected " + "sha256:", "does not match the checksum pinned"}},
	{fault: "headers that never come", outcome: "fails after 4 attempts: timeout awaiting response headers",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.NoHeaders(30*time.Second))
			return ""
		},
		want: []string{"gave up after 4 attempts", "timeout awaiting response headers"}},
	{fault: "a body that stalls", outcome: "fails after 4 attempts: no data received for the idle timeout",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.Stall(a.Data, 30*time.Second))
			return ""
		},
		want: []string{"gave up after 4 attempts", "no data received for 2s after 16 bytes"}},
	{fault: "redirect to a good copy", outcome: "follows it and verifies the copy",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Put("copy/"+a.Object(), a.Data)
			m.Fault(a.Object(), testhelpers.Redirect(m.URL()+"/copy/"+a.Object()))
			return ""
		},
		ok: true},
	{fault: "redirect from https to http", outcome: "fails at once: the redirect is refused",
		setup: httpsDowngrade,
		want:  []string{"refused redirect from https to http"}},
	{fault: "redirect loop", outcome: "fails at once after 5 redirects",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.RedirectLoop())
			return ""
		},
		want: []string{"refused more than 5 redirects"}},
	{fault: "a body over the size cap", outcome: "fails at once: over the 512 MiB limit",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.Huge())
			return ""
		},
		want: []string{"response of 4294967296 bytes is over the 536870912-byte limit"}},
	{fault: "zero-length body", outcome: "fails at once: empty body",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.Body(nil))
			return ""
		},
		want: []string{"server answered 200 OK with an empty body"}},
	{fault: "a body that trickles past the deadline", outcome: "fails at the deadline: too slow, with the bytes received; progress every 5s",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, env map[string]string) string {
			m.Fault(a.Object(), testhelpers.Trickle(a.Data, 64, 100*time.Millisecond))
			env["HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE"] = "6"
			return ""
		},
		want:   []string{"too slow: ", " bytes in 6.0s", "Received ", " after 5.", "HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE"},
		absent: []string{"Attempt 1 failed", "temporary network problem"}},
	{fault: "a certificate from an unknown authority", outcome: "fails at once, not retried: the certificate problem, SSL_CERT_FILE",
		setup: func(t *testing.T, _ *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			srv, _ := testhelpers.TLSServer(t, testhelpers.Body(a.Data), testhelpers.Certificate{Hosts: []string{"127.0.0.1"}})
			return srv.URL
		},
		want:   []string{"TLS certificate problem: the certificate is signed by an unknown authority", "SSL_CERT_FILE (a PEM file) or SSL_CERT_DIR"},
		absent: []string{"Attempt 1 failed", "temporary network problem"}},
	{fault: "an expired certificate", outcome: "fails at once, not retried: the certificate problem, SSL_CERT_FILE",
		setup: func(t *testing.T, _ *testhelpers.Mirror, a testhelpers.Artifact, env map[string]string) string {
			srv, ca := testhelpers.TLSServer(t, testhelpers.Body(a.Data), testhelpers.Certificate{Hosts: []string{"127.0.0.1"}, NotAfter: time.Now().Add(-time.Hour)})
			env["SSL_CERT_FILE"] = ca
			return srv.URL
		},
		want:   []string{"TLS certificate problem: the certificate has expired or is not yet valid", "SSL_CERT_FILE"},
		absent: []string{"Attempt 1 failed"}},
	{fault: "a certificate for another host", outcome: "fails at once, not retried: the certificate problem, SSL_CERT_FILE",
		setup: func(t *testing.T, _ *testhelpers.Mirror, a testhelpers.Artifact, env map[string]string) string {
			srv, ca := testhelpers.TLSServer(t, testhelpers.Body(a.Data), testhelpers.Certificate{Hosts: []string{"mirror.example.com"}})
			env["SSL_CERT_FILE"] = ca
			return srv.URL
		},
		want:   []string{"TLS certificate problem: the certificate is not valid for 127.0.0.1"},
		absent: []string{"Attempt 1 failed"}},
	{fault: "an HTML page answered 200", outcome: "fails at once: a web page, not the release file, with the status and content type",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.Page("text/html; charset=utf-8", "", []byte("<html><body>Sign in</body></html>")))
			return ""
		},
		want:   []string{"the server sent a web page (or a compressed body), not the release file (200 OK, content type text/html; charset=utf-8)", "HTTPS_PROXY, NO_PROXY"},
		absent: []string{"tampered", "Attempt 1 failed"}},
	{fault: "a gzip-encoded body", outcome: "fails at once: a web page, not the release file, with the status and content type",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.Page("application/octet-stream", "gzip", a.Data))
			return ""
		},
		want:   []string{"not the release file (200 OK, content type application/octet-stream, content encoding gzip)"},
		absent: []string{"tampered"}},
	{fault: "an HTML page sent as a binary", outcome: "fails at once: a web page, not the release file, with the status and content type",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.Page("application/octet-stream", "", []byte("<!DOCTYPE html>\n<html><title>Error</title></html>")))
			return ""
		},
		want:   []string{"not the release file (200 OK, content type application/octet-stream)"},
		absent: []string{"tampered"}},
	{fault: "401 from a mirror", outcome: "fails at once: the credentials were refused",
		setup: func(_ *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, _ map[string]string) string {
			m.Fault(a.Object(), testhelpers.Status(401))
			return ""
		},
		want:   []string{"server answered 401 Unauthorized", "refused the ones in\n"},
		absent: []string{"temporary network problem"}},
}

// httpsDowngrade serves the artifact's URL over TLS, redirecting to plain
// http. The build trusts the test server's certificate through SSL_CERT_FILE,
// which Go honours, so only the redirect itself can be refused.
func httpsDowngrade(t *testing.T, m *testhelpers.Mirror, a testhelpers.Artifact, env map[string]string) string {
	t.Helper()
	srv := httptest.NewTLSServer(testhelpers.Redirect(m.URL() + "/" + a.Object()))
	t.Cleanup(srv.Close)
	env["SSL_CERT_FILE"] = testhelpers.WriteCAFile(t, srv.Certificate().Raw)
	return srv.URL
}

// assertNothingUnverified checks that no downloaded byte is anywhere but in
// a verified, named place: no temporary file, no cache entry that does not
// hash to its name, and a binary only if the build succeeded.
func assertNothingUnverified(t *testing.T, dirs []string, binDir string, ok bool, want testhelpers.Artifact) {
	t.Helper()
	for _, dir := range dirs {
		_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return nil
			}
			name := info.Name()
			require.False(t, strings.HasPrefix(name, files.DownloadPrefix) || strings.HasPrefix(name, files.TempPrefix) || strings.HasPrefix(name, files.CopyPrefix),
				"temporary file left behind: %s", p)
			if info.Mode()&os.ModeSymlink == 0 {
				require.Zero(t, info.Mode().Perm()&0o002, "%s is world-writable", p)
			}
			if filepath.Base(filepath.Dir(p)) == "sha256" && info.Mode().IsRegular() {
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				sum := sha256.Sum256(data)
				require.Equal(t, name, hex.EncodeToString(sum[:]), "cache entry %s holds other bytes", p)
			}
			return nil
		})
	}
	entries, _ := os.ReadDir(binDir)
	if !ok {
		require.Empty(t, entries, "a failed build leaves nothing on PATH")
		return
	}
	data, err := os.ReadFile(filepath.Join(binDir, "heroku-applink-service-mesh"))
	require.NoError(t, err)
	require.Equal(t, want.Data, data)
}

func TestReliabilityClassic(t *testing.T) {
	t.Parallel()
	for _, tc := range faultCases {
		t.Run(tc.fault, func(t *testing.T) {
			e := newClassicEnv(t, "0.3.0")
			a := mesh("0.3.0")
			app := e.app(t, "sample-app")
			app.Env = map[string]string{"HEROKU_APPLINK_BUILDPACK_TIMEOUT": "2", "HEROKU_APPLINK_BUILDPACK_RETRY_DELAY": "0.05"}
			if url := tc.setup(t, e.mirror, a, app.Env); url != "" {
				require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", url))
			}
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			err := app.Deploy(ctx)
			require.NoError(t, ctx.Err(), "the build ended within its bounds:\n%s", app.Output())
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				require.Contains(t, app.Output(), " !     Error: failed to download the service mesh 0.3.0 (linux-amd64)")
			}
			for _, w := range tc.want {
				require.Contains(t, app.Output(), w)
			}
			for _, w := range tc.absent {
				require.NotContains(t, app.Output(), w)
			}
			// A successful deploy moved the build to the slug.
			tree := app.BuildDir
			if tc.ok {
				tree = app.Slug
			}
			assertNothingUnverified(t, []string{tree, app.CacheDir()}, filepath.Join(tree, "vendor/heroku-applink/bin"), tc.ok, a)
		})
	}
}

// TestReliabilityCNB runs every case under the lifecycle, with the
// operator's knobs set the way a CNB platform sets them: in its build
// configuration's env, which reaches the buildpack whatever its clear-env.
func TestReliabilityCNB(t *testing.T) {
	t.Parallel()
	for _, tc := range faultCases {
		t.Run(tc.fault, func(t *testing.T) {
			t.Parallel()
			a := stand("0.3.0", "amd64")
			e := newCNBEnv(t, "sample-app", "0.12", a)
			env := map[string]string{"HEROKU_APPLINK_BUILDPACK_TIMEOUT": "2", "HEROKU_APPLINK_BUILDPACK_RETRY_DELAY": "0.05"}
			if url := tc.setup(t, e.mirror, a, env); url != "" {
				require.NoError(t, e.platform.SetEnv("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", url))
			}
			for k, v := range env {
				require.NoError(t, e.platform.SetOperatorEnv(k, v))
			}
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			res := e.buildCtx(t, ctx)
			require.NoError(t, ctx.Err(), "the build ended within its bounds:\n%s", res.Output)
			if tc.ok {
				require.Equal(t, 0, res.Code, res.Output)
			} else {
				require.Equal(t, 51, res.Code, res.Output)
			}
			for _, w := range tc.want {
				require.Contains(t, res.Output, w)
			}
			for _, w := range tc.absent {
				require.NotContains(t, res.Output, w)
			}
			assertNothingUnverified(t, []string{e.platform.Layers}, filepath.Join(e.layers(), "service-mesh/bin"), tc.ok, a)
			if !tc.ok {
				_, err := os.Stat(filepath.Join(e.layers(), "service-mesh.toml"))
				require.True(t, os.IsNotExist(err), "no layer metadata after a failure")
			}
		})
	}
}

// readmeTable reads the rows of the first table under a README heading.
func readmeTable(t *testing.T, heading string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	defer f.Close()
	var rows [][]string
	in, started := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
			if in && started {
				return rows
			}
			in = strings.TrimLeft(line, "# ") == heading
		case in && strings.HasPrefix(line, "|"):
			started = true
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			if strings.HasPrefix(cells[0], "---") {
				continue
			}
			rows = append(rows, cells)
		case in && started && strings.TrimSpace(line) == "":
			return rows
		}
	}
	return rows
}

// TestReadmeReliabilityTableIsTrue keeps the README's table and the tests in
// step: every row is a case above with the same outcome, and every case has
// a row.
func TestReadmeReliabilityTableIsTrue(t *testing.T) {
	var want [][]string
	want = append(want, []string{"Fault", "Outcome", "Tested on"})
	for _, tc := range faultCases {
		want = append(want, []string{tc.fault, tc.outcome, "classic, CNB"})
	}
	if diff := cmp.Diff(want, readmeTable(t, "Download faults")); diff != "" {
		t.Errorf("README.md's Download faults table (-want +got):\n%s", diff)
	}
}

// TestReadmeFaultTableNamesRealTests keeps the second table honest: every
// case it lists is a subtest of the test it names.
func TestReadmeFaultTableNamesRealTests(t *testing.T) {
	rows := readmeTable(t, "Cache, filesystem and configuration faults")
	require.Greater(t, len(rows), 20)
	sources := map[string]string{}
	files, err := filepath.Glob(filepath.Join(repoRoot, "test/e2e/*_test.go"))
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		sources[f] = string(data)
	}
	for _, row := range rows[1:] {
		name, test := row[0], strings.Trim(row[2], "`")
		found := false
		for _, src := range sources {
			if strings.Contains(src, "func "+test+"(") && strings.Contains(src, `"`+name+`"`) {
				found = true
			}
		}
		require.True(t, found, "README row %q names no case of %s", name, test)
	}
}

// TestHTTPSProxy: a mirror reached through the proxy the build's
// environment names, as a corporate network would have it. The mirror's
// name resolves nowhere: only the proxy can reach it.
func TestHTTPSProxy(t *testing.T) {
	t.Parallel()
	a := mesh("0.3.0")
	tlsSrv, ca := testhelpers.TLSServer(t, testhelpers.Body(a.Data), testhelpers.Certificate{Hosts: []string{"mirror.applink.test"}})
	proxy, tunnels := testhelpers.StartProxy(t, tlsSrv.Listener.Addr().String())
	e := newClassicEnv(t, "0.3.0")
	app := e.app(t, "sample-app")
	require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", "https://mirror.applink.test"))
	app.Env = map[string]string{"HTTPS_PROXY": proxy.URL, "SSL_CERT_FILE": ca}
	require.NoError(t, deploy(t, app), app.Output())
	require.Contains(t, app.Output(), "       Downloading from https://mirror.applink.test/"+a.Object()+"\n")
	require.Contains(t, app.Output(), "       Verified "+a.Checksum()+" (pinned checksum)\n")
	require.EqualValues(t, 1, tunnels.Load())
}
