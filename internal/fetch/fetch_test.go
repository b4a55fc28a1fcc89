package fetch_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

var release = []byte("#!/bin/sh\necho stand-in mesh\n" + strings.Repeat("\x00mesh", 40_000))

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// client is a production client with short retry delays. Its timeouts
// are generous, so that a loaded machine never adds a retry; the cases of
// timeouts shorten them with fast.
func client(t *testing.T, knobs map[string]string) *fetch.Client {
	t.Helper()
	env := map[string]string{fetch.KnobTimeout: "5", fetch.KnobRetryDelay: "0.01"}
	for k, v := range knobs {
		env[k] = v
	}
	c, err := fetch.New("test", func(k string) string { return env[k] })
	require.NoError(t, err)
	return c
}

// faultCase is one row of the reliability table in docs/RELIABILITY.md: a
// fault a release server shows, and what a download does about it.
type faultCase struct {
	fault, outcome string
	// setup arranges the fault for the release on the mirror and returns
	// the URL to download, the knobs to set and the CAs to trust.
	setup func(t *testing.T, m *testhelpers.Mirror) (url string, knobs map[string]string, roots *x509.CertPool)
	ok    bool
	// want are fragments of the error (or of the retries' log, when ok);
	// attempts is how many requests the download made.
	want     []string
	attempts int
}

// longReason answers 503 with a reason phrase of a megabyte.
func longReason(w http.ResponseWriter, _ *http.Request) {
	conn, buf, _ := w.(http.Hijacker).Hijack()
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 503 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", strings.Repeat("R", 1<<20))
	buf.Flush()
}

func onMirror(h ...http.HandlerFunc) func(*testing.T, *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
	return func(_ *testing.T, m *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
		m.Script("mesh", h...)
		return m.URL() + "/mesh", nil, nil
	}
}

// fast is a fault's setup with 0.3s timeouts, for the cases of timeouts.
var fast = map[string]string{fetch.KnobTimeout: "0.3"}

func timingOut(h ...http.HandlerFunc) func(*testing.T, *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
	return func(t *testing.T, m *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
		url, _, _ := onMirror(h...)(t, m)
		return url, fast, nil
	}
}

func overTLS(h http.Handler, cert testhelpers.Certificate, trusted bool) func(*testing.T, *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
	return func(t *testing.T, _ *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
		srv, caFile := testhelpers.TLSServer(t, h, cert)
		pool := x509.NewCertPool()
		if trusted {
			pem, err := os.ReadFile(caFile)
			require.NoError(t, err)
			pool.AppendCertsFromPEM(pem)
		}
		return srv.URL + "/mesh", nil, pool
	}
}

var faultCases = []faultCase{
	{fault: "404", outcome: "fails at once: not found, naming the file and where it was looked for",
		setup: onMirror(testhelpers.Status(404)), want: []string{"server answered 404 Not Found", "mesh was not found at http://127.0.0.1:"}, attempts: 1},
	{fault: "403 (S3's missing key)", outcome: "fails at once: not found, naming the file and where it was looked for",
		setup: onMirror(testhelpers.Status(403)), want: []string{"server answered 403 Forbidden", "mesh was not found at"}, attempts: 1},
	{fault: "500 × 3, then success", outcome: "recovers on the 4th attempt (the retry budget is 4)",
		setup: onMirror(testhelpers.Status(500), testhelpers.Status(500), testhelpers.Status(500)), ok: true,
		want: []string{"3: server answered 500 Internal Server Error"}, attempts: 4},
	{fault: "500 × 4", outcome: "fails after 4 attempts, saying the server kept failing",
		setup: onMirror(testhelpers.Status(500), testhelpers.Status(500), testhelpers.Status(500), testhelpers.Status(500)),
		want:  []string{"gave up after 4 attempts: server answered 500", "The server kept failing"}, attempts: 4},
	{fault: "501 Not Implemented", outcome: "fails at once: the server refused the request",
		setup: onMirror(testhelpers.Status(501)), want: []string{"server answered 501 Not Implemented", "retrying will not change that"}, attempts: 1},
	{fault: "a reason phrase of a megabyte", outcome: "fails after 4 attempts, the reason phrase cut to a line",
		setup: onMirror(longReason, longReason, longReason, longReason), want: []string{"gave up after 4 attempts: server answered 503 RRRR", "R…"}, attempts: 4},
	{fault: "429 with Retry-After", outcome: "waits as told (at most 20s), then recovers",
		setup: onMirror(testhelpers.TooManyRequests(1)), ok: true, want: []string{"1: server answered 429 Too Many Requests (wait 1s)"}, attempts: 2},
	{fault: "connection refused", outcome: "fails after 4 attempts: connection refused",
		setup: func(t *testing.T, _ *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			l.Close()
			return "http://" + l.Addr().String() + "/mesh", nil, nil
		}, want: []string{"gave up after 4 attempts", "connection refused", "temporary network problem"}, attempts: 0},
	{fault: "reset mid-body", outcome: "recovers: the download is retried",
		setup: onMirror(testhelpers.ResetMidBody(release)), ok: true, want: []string{"1: network error"}, attempts: 2},
	{fault: "body shorter than Content-Length", outcome: "recovers: the download is retried",
		setup: onMirror(testhelpers.ShortBody(release)), ok: true, want: []string{"1: network error"}, attempts: 2},
	{fault: "headers that never come", outcome: "fails after 4 attempts: timeout awaiting response headers",
		setup: timingOut(testhelpers.NoHeaders(30*time.Second), testhelpers.NoHeaders(30*time.Second), testhelpers.NoHeaders(30*time.Second), testhelpers.NoHeaders(30*time.Second)),
		want:  []string{"gave up after 4 attempts", "timeout awaiting response headers"}, attempts: 4},
	{fault: "a body that stalls", outcome: "fails after 4 attempts: no data received for the idle timeout",
		setup: timingOut(testhelpers.Stall(release, 30*time.Second), testhelpers.Stall(release, 30*time.Second), testhelpers.Stall(release, 30*time.Second), testhelpers.Stall(release, 30*time.Second)),
		want:  []string{"gave up after 4 attempts", "no data received for 0.3s after 16 bytes"}, attempts: 4},
	{fault: "redirect to a good copy", outcome: "follows it",
		setup: func(_ *testing.T, m *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
			m.Put("copy", release)
			m.Fault("mesh", testhelpers.Redirect(m.URL()+"/copy"))
			return m.URL() + "/mesh", nil, nil
		}, ok: true, attempts: 2},
	{fault: "redirect from https to http", outcome: "fails at once: the redirect is refused",
		setup: func(t *testing.T, m *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
			m.Put("mesh", release)
			return overTLS(testhelpers.Redirect(m.URL()+"/mesh"), testhelpers.Certificate{Hosts: []string{"127.0.0.1"}}, true)(t, m)
		}, want: []string{"refused redirect from https to http"}, attempts: 0},
	{fault: "redirect loop", outcome: "fails at once after 5 redirects",
		setup: onMirror(testhelpers.RedirectLoop(), testhelpers.RedirectLoop(), testhelpers.RedirectLoop(), testhelpers.RedirectLoop(), testhelpers.RedirectLoop()),
		want:  []string{"refused more than 5 redirects"}, attempts: 5},
	{fault: "a body over the size cap", outcome: "fails at once: over the 512 MiB limit",
		setup: onMirror(testhelpers.Huge()), want: []string{"response of 4294967296 bytes is over the 536870912-byte limit"}, attempts: 1},
	{fault: "zero-length body", outcome: "fails at once: an empty body, not the file",
		setup: onMirror(testhelpers.Body(nil)), want: []string{"the server sent an empty body (200 OK), not the file"}, attempts: 1},
	{fault: "a body that trickles past the deadline", outcome: "fails at the deadline: too slow, with the bytes received",
		setup: func(_ *testing.T, m *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
			m.Script("mesh", testhelpers.Trickle(release, 64, 50*time.Millisecond))
			return m.URL() + "/mesh", map[string]string{fetch.KnobDeadline: "3"}, nil
		}, want: []string{"too slow: ", " bytes in 3.0s", "HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE"}, attempts: 1},
	{fault: "a certificate from an unknown authority", outcome: "fails at once, not retried: the certificate problem, SSL_CERT_FILE",
		setup: overTLS(testhelpers.Body(release), testhelpers.Certificate{Hosts: []string{"127.0.0.1"}}, false),
		want:  []string{"TLS certificate problem: certificate signed by unknown authority", "SSL_CERT_FILE (a PEM file) or SSL_CERT_DIR"}},
	{fault: "an expired certificate", outcome: "fails at once, not retried: the certificate problem, SSL_CERT_FILE",
		setup: overTLS(testhelpers.Body(release), testhelpers.Certificate{Hosts: []string{"127.0.0.1"}, NotAfter: time.Now().Add(-time.Hour)}, true),
		want:  []string{"TLS certificate problem: certificate has expired or is not yet valid", "SSL_CERT_FILE"}},
	{fault: "a certificate for another host", outcome: "fails at once, not retried: the certificate problem, SSL_CERT_FILE",
		setup: overTLS(testhelpers.Body(release), testhelpers.Certificate{Hosts: []string{"mirror.example.com"}}, true),
		want:  []string{"TLS certificate problem: cannot validate certificate for 127.0.0.1"}},
	{fault: "a plain http server behind an https URL", outcome: "fails at once, not retried: the certificate problem, SSL_CERT_FILE",
		setup: func(_ *testing.T, m *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
			return strings.Replace(m.URL(), "http://", "https://", 1) + "/mesh", nil, nil
		}, want: []string{"the server does not answer in TLS"}},
	{fault: "an HTML page answered 200", outcome: "fails at once: a web page, not the file, with the status and content type",
		setup: onMirror(testhelpers.Page("text/html; charset=utf-8", "", []byte("<html><body>Sign in</body></html>"))),
		want:  []string{"the server sent a web page (200 OK, content type text/html; charset=utf-8), not the file", "HTTPS_PROXY, NO_PROXY"}, attempts: 1},
	{fault: "an HTML page sent as a binary", outcome: "fails at once: a web page, not the file, with the status and content type",
		setup: onMirror(testhelpers.Page("application/octet-stream", "", []byte("\ufeff \r\n<HTML\r\n lang=\"en\"><title>Error</title></html>"))),
		want:  []string{"the server sent a web page (200 OK, content type application/octet-stream), not the file"}, attempts: 1},
	{fault: "a gzip-encoded body", outcome: "fails at once: a compressed body, not the file",
		setup: onMirror(testhelpers.Page("application/octet-stream", "gzip", release)),
		want:  []string{"the server sent a compressed body (200 OK, content type application/octet-stream, content encoding gzip), not the file"}, attempts: 1},
	{fault: "Transfer-Encoding: gzip", outcome: "fails at once, not retried: an unsupported transfer encoding, not the file",
		setup: onRaw("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxxxx"), want: []string{`the server sent a body in transfer encoding "gzip" (only chunked is accepted), not the file`}},
	{fault: "a malformed header line", outcome: "fails after 4 attempts (a cut connection leaves one too): a malformed answer, without its text",
		setup: onRaw("HTTP/1.1 200 OK\r\nContent-Type: s3cret\x1b[31mRED\r\n\r\nxxxx"), want: []string{"gave up after 4 attempts: network error: a malformed answer: malformed MIME header line\n"}},
	{fault: "a status line cut by the connection", outcome: "recovers: the download is retried",
		setup: onRaw("HTTP/1.1 20", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(release), release)), ok: true, want: []string{"1: network error: a malformed answer: malformed HTTP status code"}},
	{fault: "a malformed status line", outcome: "fails after 4 attempts (a cut connection leaves one too): a malformed answer, without its text",
		setup: onRaw("HTTP/1.1 s3cretTOKEN OK\r\n\r\n"), want: []string{"gave up after 4 attempts: network error: a malformed answer: malformed HTTP status code\n"}},
	{fault: "a redirect to a malformed URL", outcome: "fails at once, not retried: a malformed answer, not the file",
		setup: onRaw("HTTP/1.1 302 Found\r\nLocation: http://[::1/?X-Amz-Signature=s3cret\r\nContent-Length: 0\r\n\r\n"), want: []string{"the server sent a malformed answer (a redirect to an address that is not a URL), not the file"}},
	{fault: "a Content-Length of a megabyte", outcome: "fails after 4 attempts: a network error in Go's words, without the value",
		setup: onRaw("HTTP/1.1 200 OK\r\nContent-Length: s3cret" + strings.Repeat("T", 1<<20) + "\r\n\r\n"), want: []string{"gave up after 4 attempts: network error: net/http: HTTP/1.x transport connection broken: bad Content-Length\n"}},
	{fault: "a redirect with a signature to an insecure URL", outcome: "fails at once: the redirect is refused, without its query",
		setup: onRaw("HTTP/1.1 302 Found\r\nLocation: ftp://example.com/x?X-Goog-Credential=sa%40p&X-Goog-Signature=s3cret\r\nContent-Length: 0\r\n\r\n"), want: []string{"refused redirect to an insecure URL (ftp://example.com/x)"}},
	{fault: "a Transfer-Encoding of a megabyte", outcome: "fails at once, not retried: an unsupported transfer encoding, cut to a line",
		setup: onRaw("HTTP/1.1 200 OK\r\nTransfer-Encoding: " + strings.Repeat("x", 1<<20) + "\r\n\r\n"), want: []string{`the server sent a body in transfer encoding "xxxx`, "…"}},
	{fault: "a malformed header after a Content-Length saying malformed", outcome: "fails after 4 attempts: a network error in Go's words, without the value",
		setup: onRaw("HTTP/1.1 200 OK\r\nContent-Length: malformed s3cret\r\n\r\n"), want: []string{"gave up after 4 attempts: network error: net/http: HTTP/1.x transport connection broken: bad Content-Length\n"}},
	{fault: "401 from a mirror", outcome: "fails at once: the credentials were refused",
		setup: onMirror(testhelpers.Status(401)), want: []string{"server answered 401 Unauthorized", "refused the ones in\n"}, attempts: 1},
}

// onRaw is a fault's setup that answers as rawServer does.
func onRaw(responses ...string) func(*testing.T, *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
	return func(t *testing.T, _ *testhelpers.Mirror) (string, map[string]string, *x509.CertPool) {
		return rawServer(t, responses...), nil, nil
	}
}

// rawServer answers each connection with the next response, as written,
// the last one over and over.
func rawServer(t *testing.T, responses ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(conn).ReadString('\n')
			conn.Write([]byte(responses[0]))
			conn.Close()
			responses = responses[min(1, len(responses)-1):]
		}
	}()
	return "http://" + l.Addr().String() + "/mesh"
}

// TestFaults runs every fault through a real download: each ends within its
// bounds, recovers or fails as the table says, and a failure is an error
// that names its cause, says whether a retry could help and what the user
// can do, and names itself for the build report.
func TestFaults(t *testing.T) {
	for _, tc := range faultCases {
		t.Run(tc.fault, func(t *testing.T) {
			t.Parallel()
			m := testhelpers.StartMirror(t)
			m.Put("mesh", release)
			url, knobs, roots := tc.setup(t, m)
			c := client(t, knobs)
			if roots != nil {
				c.HTTP.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: roots}
			}
			var log []string
			c.OnRetry = func(attempt int, err error, wait time.Duration) {
				line := fmt.Sprintf("%d: %v", attempt, err)
				if wait >= time.Second {
					line += " (wait " + wait.String() + ")"
				}
				log = append(log, line)
			}
			f, err := os.Create(filepath.Join(t.TempDir(), "download"))
			require.NoError(t, err)
			defer f.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got, n, err := c.File(ctx, url, f)
			require.NoError(t, ctx.Err(), "the download ended within its bounds")
			if tc.attempts > 0 {
				require.Equal(t, tc.attempts, m.Requests())
			}
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, sum(release), got)
				require.Equal(t, int64(len(release)), n)
				data, err := os.ReadFile(f.Name())
				require.NoError(t, err)
				require.Equal(t, release, data, "what a retry wrote replaced what the failed attempt had")
				for _, w := range tc.want {
					require.Contains(t, strings.Join(log, "\n"), w)
				}
				return
			}
			require.Error(t, err)
			var named interface {
				Help() string
				Reason() string
			}
			require.ErrorAs(t, err, &named, "every failure names itself: %v", err)
			require.Less(t, len(err.Error()), 1000, "an error is a few lines, whatever the server sent")
			text := err.Error() + "\n" + named.Help()
			for _, w := range tc.want {
				require.Contains(t, text, w)
			}
			require.NotContains(t, text, "s3cret", "what the server sent may hold a token")
			var retry interface{ Retryable() bool }
			if !strings.HasPrefix(err.Error(), "gave up") {
				require.True(t, errors.As(err, &retry) && !retry.Retryable(), "a permanent failure is not retried")
				require.Empty(t, log, "a permanent failure is not retried")
				require.NotContains(t, named.Help(), "retry the build")
			}
		})
	}
}

// TestReliabilityTableIsTrue keeps docs/RELIABILITY.md's table and the
// cases above in step: every row is a case with the same outcome, and
// every case has a row.
func TestReliabilityTableIsTrue(t *testing.T) {
	want := [][]string{{"Fault", "Outcome"}}
	for _, tc := range faultCases {
		want = append(want, []string{tc.fault, tc.outcome})
	}
	if diff := cmp.Diff(want, testhelpers.DocTable(t, "../../docs/RELIABILITY.md", "Download faults")); diff != "" {
		t.Errorf("docs/RELIABILITY.md's Download faults table (-want +got):\n%s", diff)
	}
}

func TestKnobs(t *testing.T) {
	for _, tc := range []struct{ knob, value string }{
		{fetch.KnobTimeout, "NaN"}, {fetch.KnobTimeout, "0"}, {fetch.KnobDeadline, "-5"},
		{fetch.KnobRetryDelay, "Inf"}, {fetch.KnobDeadline, "3601"}, {fetch.KnobTimeout, "soon"},
	} {
		_, err := fetch.New("test", func(k string) string { return map[string]string{tc.knob: tc.value}[k] })
		var knob *config.Error
		require.ErrorAs(t, err, &knob, tc.knob+"="+tc.value)
		require.EqualError(t, err, tc.knob+"=\""+tc.value+"\": want a number of seconds from 0.001 to 3600")
		require.Contains(t, knob.Help(), "a setting of the build platform, not a config var")
	}
	c := client(t, map[string]string{fetch.KnobDeadline: "90", fetch.KnobTimeout: "0.3"})
	require.Equal(t, 90*time.Second, c.Deadline)
	require.Equal(t, 300*time.Millisecond, c.Idle)
}

// TestSmallFiles: a key or a signature stays in memory and within its own
// limit, which is permanent.
func TestSmallFiles(t *testing.T) {
	m := testhelpers.StartMirror(t)
	m.Put("key", []byte("a key"))
	m.Put("huge", release)
	c := client(t, nil)
	got, err := c.Bytes(context.Background(), m.URL()+"/key", 64)
	require.NoError(t, err)
	require.Equal(t, "a key", string(got))
	_, err = c.Bytes(context.Background(), m.URL()+"/huge", 64)
	var large *fetch.TooLargeError
	require.ErrorAs(t, err, &large)
	require.False(t, large.Retryable())
	require.Equal(t, 2, m.Requests(), "not retried")
}

// TestWriteFailure: a file that cannot be written is the machine's
// problem, named by its path, never a network error to retry.
func TestWriteFailure(t *testing.T) {
	m := testhelpers.StartMirror(t)
	m.Put("mesh", release)
	p := filepath.Join(t.TempDir(), "download")
	require.NoError(t, os.WriteFile(p, nil, 0o600))
	f, err := os.Open(p) // read-only
	require.NoError(t, err)
	defer f.Close()
	_, _, err = client(t, nil).File(context.Background(), m.URL()+"/mesh", f)
	var pe *fsutil.PathError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, p, pe.Path)
	require.Equal(t, 1, m.Requests())
}

// TestCredentialsNeverShow: a URL's user info is used for the request and
// never printed, in a redirect refused or a status.
func TestCredentialsNeverShow(t *testing.T) {
	m := testhelpers.StartMirror(t)
	m.Fault("mesh", testhelpers.Redirect("http://deploy:s3cret@mirror.example.com/mesh"))
	f, err := os.Create(filepath.Join(t.TempDir(), "download"))
	require.NoError(t, err)
	defer f.Close()
	_, _, err = client(t, nil).File(context.Background(), strings.Replace(m.URL(), "http://", "http://TOKEN@", 1)+"/mesh", f)
	require.ErrorContains(t, err, "refused redirect to an insecure URL (http://xxxxx@mirror.example.com/mesh)")
	require.NotContains(t, err.Error(), "s3cret")
	require.NotContains(t, err.Error(), "TOKEN")
}

// TestProxy: a mirror reached through the proxy the environment names, as
// a corporate network would have it; the mirror's name resolves nowhere.
func TestProxy(t *testing.T) {
	srv, caFile := testhelpers.TLSServer(t, testhelpers.Body(release), testhelpers.Certificate{Hosts: []string{"mirror.applink.test"}})
	proxy, tunnels := testhelpers.StartProxy(t, srv.Listener.Addr().String())
	c := client(t, nil)
	proxyURL, err := url.Parse(proxy.URL)
	require.NoError(t, err)
	pem, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := c.HTTP.Transport.(*http.Transport)
	tr.TLSClientConfig, tr.Proxy = &tls.Config{RootCAs: pool}, http.ProxyURL(proxyURL)
	f, err := os.Create(filepath.Join(t.TempDir(), "download"))
	require.NoError(t, err)
	defer f.Close()
	got, _, err := c.File(context.Background(), "https://mirror.applink.test/mesh", f)
	require.NoError(t, err)
	require.Equal(t, sum(release), got)
	require.EqualValues(t, 1, tunnels.Load())
}

// TestAProxyThatNeverAnswers: a proxy that takes the connection and never
// answers its CONNECT is cut off by the answer timeout, and retried.
func TestAProxyThatNeverAnswers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	c := client(t, fast)
	c.Attempts = 2
	c.HTTP.Transport.(*http.Transport).Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: l.Addr().String()})
	f, err := os.Create(filepath.Join(t.TempDir(), "download"))
	require.NoError(t, err)
	defer f.Close()
	_, _, err = c.File(context.Background(), "https://mirror.applink.test/mesh", f)
	require.ErrorContains(t, err, "gave up after 2 attempts: network error: no answer in 0.6s (from the server, or a proxy on the way)")
}
