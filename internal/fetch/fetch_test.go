package fetch_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

var (
	artifact = []byte("#!/bin/sh\necho stand-in mesh\n" + string(make([]byte, 200_000)))
	wantSum  = digest.Of(artifact)
)

func client() *fetch.Client {
	c := fetch.New("test")
	c.Backoff = func(int) time.Duration { return time.Millisecond }
	c.IdleTimeout = 300 * time.Millisecond
	return c
}

// serve answers with the scripted handlers in turn, repeating the last one.
func serve(t *testing.T, handlers ...http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		handlers[min(i, len(handlers)-1)](w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func ok(w http.ResponseWriter, _ *http.Request) { w.Write(artifact) }

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

func assertDirEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "a failed fetch must leave nothing behind")
}

func TestFetchOK(t *testing.T) {
	srv, n := serve(t, ok)
	dir := t.TempDir()
	res, err := client().Get(context.Background(), fetch.Request{URL: srv.URL + "/a", Dir: dir, Want: wantSum})
	require.NoError(t, err)
	require.Equal(t, int64(len(artifact)), res.Size)
	require.Equal(t, 1, res.Attempts)
	require.EqualValues(t, 1, n.Load())
	got, err := os.ReadFile(res.Path)
	require.NoError(t, err)
	require.Equal(t, artifact, got)
	info, err := os.Stat(res.Path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "unverified-until-renamed files are private and not executable")
}

func TestFetchRecovers(t *testing.T) {
	truncated := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(artifact)))
		w.Write(artifact[:1000])
	}
	tests := []struct {
		name     string
		handlers []http.HandlerFunc
		attempts int
	}{
		{"500 then 200", []http.HandlerFunc{status(500), status(503), ok}, 3},
		{"429 then 200", []http.HandlerFunc{func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
		}, ok}, 2},
		{"truncated then 200", []http.HandlerFunc{truncated, ok}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := serve(t, tt.handlers...)
			var retries []string
			c := client()
			c.OnRetry = func(attempt int, err error, _ time.Duration) {
				retries = append(retries, fmt.Sprintf("%d: %v", attempt, err))
			}
			res, err := c.Get(context.Background(), fetch.Request{URL: srv.URL, Dir: t.TempDir(), Want: wantSum})
			require.NoError(t, err)
			require.Equal(t, tt.attempts, res.Attempts)
			require.EqualValues(t, tt.attempts, n.Load())
			require.Len(t, retries, tt.attempts-1)
		})
	}
}

func TestFetchFails(t *testing.T) {
	tampered := append([]byte{}, artifact...)
	tampered[10] ^= 0xff
	tests := []struct {
		name      string
		handlers  []http.HandlerFunc
		wantErr   string
		wantTries int32
		as        any
	}{
		{"404", []http.HandlerFunc{status(404)}, "server answered 404 Not Found", 1, new(*fetch.StatusError)},
		{"403", []http.HandlerFunc{status(403)}, "server answered 403 Forbidden", 1, new(*fetch.StatusError)},
		{"persistent 500", []http.HandlerFunc{status(500)}, "gave up after 4 attempts: server answered 500 Internal Server Error", 4, new(*fetch.GiveUpError)},
		{"tampered", []http.HandlerFunc{func(w http.ResponseWriter, _ *http.Request) { w.Write(tampered) }},
			"checksum mismatch: expected " + wantSum.String(), 1, new(*fetch.ChecksumMismatchError)},
		{"trailing bytes", []http.HandlerFunc{func(w http.ResponseWriter, _ *http.Request) { w.Write(append(artifact, "junk"...)) }},
			"checksum mismatch", 1, new(*fetch.ChecksumMismatchError)},
		{"empty", []http.HandlerFunc{func(w http.ResponseWriter, _ *http.Request) {}}, "empty body", 1, new(*fetch.EmptyBodyError)},
		{"too large declared", []http.HandlerFunc{func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "999999999")
			w.WriteHeader(200)
		}}, "over the 300000-byte limit", 1, new(*fetch.TooLargeError)},
		{"too large streamed", []http.HandlerFunc{func(w http.ResponseWriter, _ *http.Request) {
			w.Write(artifact)
			w.(http.Flusher).Flush()
			w.Write(artifact)
		}}, "over the 300000-byte limit", 1, new(*fetch.TooLargeError)},
		{"stalled body", []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(artifact)))
			w.Write(artifact[:10])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}}, "no data received", 2, new(*fetch.StalledError)},
		{"redirect loop", []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/again", http.StatusFound)
		}}, "more than 5 redirects", 5, new(*fetch.RedirectError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := serve(t, tt.handlers...)
			dir := t.TempDir()
			c := client()
			c.MaxSize = 300_000
			if tt.name == "stalled body" {
				c.Attempts = 2
			}
			// A guard against hanging, not a measure of speed: a loaded
			// machine may take its time, a broken bound never ends.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := c.Get(ctx, fetch.Request{URL: srv.URL, Dir: dir, Want: wantSum})
			require.NoError(t, ctx.Err(), "the download ended by itself")
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorAs(t, err, tt.as)
			require.Equal(t, tt.wantTries, n.Load())
			assertDirEmpty(t, dir)
		})
	}
}

func TestFetchRedirects(t *testing.T) {
	good, _ := serve(t, ok)
	redirect, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, good.URL+"/copy", http.StatusFound) })
	_, err := client().Get(context.Background(), fetch.Request{URL: redirect.URL, Dir: t.TempDir(), Want: wantSum})
	require.NoError(t, err, "a redirect to a good copy is followed")

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, good.URL+"/insecure", http.StatusFound)
	}))
	t.Cleanup(tlsSrv.Close)
	c := client()
	c.HTTP.Transport = tlsSrv.Client().Transport
	dir := t.TempDir()
	_, err = c.Get(context.Background(), fetch.Request{URL: tlsSrv.URL, Dir: dir, Want: wantSum})
	var redirectErr *fetch.RedirectError
	require.ErrorAs(t, err, &redirectErr)
	require.ErrorContains(t, err, "refused redirect from https to http")
	assertDirEmpty(t, dir)
}

func TestFetchConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	_, err = client().Get(context.Background(), fetch.Request{URL: "http://" + addr + "/x", Dir: t.TempDir(), Want: wantSum})
	var giveUp *fetch.GiveUpError
	require.ErrorAs(t, err, &giveUp)
	require.Equal(t, 4, giveUp.Attempts)
	require.ErrorContains(t, err, "connection refused")
}

func TestFetchResetMidBody(t *testing.T) {
	srv, n := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(artifact)))
		w.Write(artifact[:5000])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	}, ok)
	res, err := client().Get(context.Background(), fetch.Request{URL: srv.URL, Dir: t.TempDir(), Want: wantSum})
	require.NoError(t, err)
	require.Equal(t, 2, res.Attempts)
	require.EqualValues(t, 2, n.Load())
}

func TestFetchUnwritableDir(t *testing.T) {
	srv, n := serve(t, ok)
	_, err := client().Get(context.Background(), fetch.Request{URL: srv.URL, Dir: "/nonexistent/dir", Want: wantSum})
	var local *fetch.LocalError
	require.ErrorAs(t, err, &local)
	require.EqualValues(t, 1, n.Load(), "local failures are not retried")
}

// TestDigestWithoutWant: a download without an expected digest still
// reports the one it computed, for the signature path to record.
func TestDigestWithoutWant(t *testing.T) {
	srv, _ := serve(t, ok)
	res, err := client().Get(context.Background(), fetch.Request{URL: srv.URL, Dir: t.TempDir()})
	require.NoError(t, err)
	require.Equal(t, wantSum, res.Digest)
	os.Remove(res.Path)
}

// A token passed as a mirror URL's user name must not reach an error, as it
// would through url.URL.Redacted, which hides only passwords.
func TestRedirectErrorsHideCredentials(t *testing.T) {
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://SECRETTOKEN@example.com/x", http.StatusFound)
	})
	_, err := client().Get(context.Background(), fetch.Request{URL: srv.URL, Dir: t.TempDir(), Want: wantSum})
	require.ErrorContains(t, err, "refused redirect to an insecure URL (http://xxxxx@example.com/x)")
	require.NotContains(t, err.Error(), "SECRETTOKEN")
}

// TestCertificateProblemsAreNotRetried: the next attempt would meet the
// same certificate, so the first says what is wrong with it.
func TestCertificateProblemsAreNotRetried(t *testing.T) {
	ok := http.HandlerFunc(ok)
	tests := []struct {
		name   string
		cert   testhelpers.Certificate
		trust  bool
		reason string
	}{
		{"unknown authority", testhelpers.Certificate{Hosts: []string{"127.0.0.1"}}, false, "the certificate is signed by an unknown authority"},
		{"expired", testhelpers.Certificate{Hosts: []string{"127.0.0.1"}, NotAfter: time.Now().Add(-time.Hour)}, true, "the certificate has expired or is not yet valid"},
		{"another host", testhelpers.Certificate{Hosts: []string{"mirror.example.com"}}, true, "the certificate is not valid for 127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv, caFile := testhelpers.TLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				ok(w, r)
			}), tt.cert)
			c := client()
			if tt.trust {
				pool := x509.NewCertPool()
				pem, err := os.ReadFile(caFile)
				require.NoError(t, err)
				require.True(t, pool.AppendCertsFromPEM(pem))
				c.HTTP.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
			}
			dir := t.TempDir()
			_, err := c.Get(context.Background(), fetch.Request{URL: srv.URL + "/x", Dir: dir, Want: wantSum})
			var cert *fetch.TLSError
			require.ErrorAs(t, err, &cert)
			require.EqualError(t, err, "TLS certificate problem: "+tt.reason)
			require.Zero(t, hits.Load(), "no request got through the handshake")
			assertDirEmpty(t, dir)
		})
	}
}

func TestWebPagesAreNotReleases(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"an HTML page", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<html><body>Please log in</body></html>"))
		}, "(200 OK, content type text/html; charset=utf-8)"},
		{"a gzip-encoded body", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(artifact)
		}, "(200 OK, content type application/octet-stream, content encoding gzip)"},
		{"a page that says it is a binary", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte("\n  <!DOCTYPE html>\n<html><head><title>Error</title></head></html>"))
		}, "(200 OK, content type application/octet-stream)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := serve(t, tt.handler)
			dir := t.TempDir()
			_, err := client().Get(context.Background(), fetch.Request{URL: srv.URL, Dir: dir, Want: wantSum})
			var page *fetch.WebPageError
			require.ErrorAs(t, err, &page)
			require.EqualError(t, err, "the server sent a web page (or a compressed body), not the release file "+tt.want)
			require.EqualValues(t, 1, n.Load(), "not retried")
			assertDirEmpty(t, dir)
		})
	}
}

// trickle sends the declared body a few bytes at a time, every gap.
func trickle(gap time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(artifact)))
		for i := 0; i < len(artifact); i += 4 {
			if _, err := w.Write(artifact[i:min(i+4, len(artifact))]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(gap):
			}
		}
	}
}

// TestDeadline: a server that never stalls long enough for the idle
// timeout is still cut off when the download as a whole takes too long,
// and says how far it got; progress is reported while it runs.
func TestDeadline(t *testing.T) {
	srv, n := serve(t, trickle(20*time.Millisecond))
	c := client()
	c.Deadline = 300 * time.Millisecond
	var reports []int64
	c.OnProgress = func(received, total int64, _ time.Duration) {
		require.Equal(t, int64(len(artifact)), total)
		reports = append(reports, received)
	}
	c.ProgressEvery = 50 * time.Millisecond
	dir := t.TempDir()
	_, err := c.Get(context.Background(), fetch.Request{URL: srv.URL, Dir: dir, Want: wantSum})
	var slow *fetch.TooSlowError
	require.ErrorAs(t, err, &slow)
	require.Regexp(t, `^too slow: \d+ of `+strconv.Itoa(len(artifact))+` bytes in 0\.3s$`, err.Error())
	require.Positive(t, slow.Received)
	require.EqualValues(t, 1, n.Load(), "the deadline is the whole download's: no retry")
	require.NotEmpty(t, reports, "progress is reported while a body is arriving")
	for i := 1; i < len(reports); i++ {
		require.GreaterOrEqual(t, reports[i], reports[i-1])
	}
	assertDirEmpty(t, dir)
}

func TestGetBytesStaysInMemory(t *testing.T) {
	srv, _ := serve(t, ok)
	c := client()
	b, err := c.GetBytes(context.Background(), srv.URL, int64(len(artifact)))
	require.NoError(t, err)
	require.Equal(t, artifact, b)
	_, err = c.GetBytes(context.Background(), srv.URL, 100)
	var large *fetch.TooLargeError
	require.ErrorAs(t, err, &large)
}

func TestTemporaryFilesNameTheirProcess(t *testing.T) {
	srv, _ := serve(t, ok)
	res, err := client().Get(context.Background(), fetch.Request{URL: srv.URL, Dir: t.TempDir(), Want: wantSum})
	require.NoError(t, err)
	require.Regexp(t, `/\.heroku-applink-download-`+strconv.Itoa(os.Getpid())+`-\d+-\d+$`, res.Path, "the process id, its start time, random digits")
}

// TestAProxyThatNeverAnswers: a proxy that accepts the connection and
// never answers its CONNECT is bounded by the answer timeout, and retried.
func TestAProxyThatNeverAnswers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	c := client()
	c.AnswerTimeout = 200 * time.Millisecond
	c.Attempts = 2
	proxy, err := url.Parse("http://" + l.Addr().String())
	require.NoError(t, err)
	c.HTTP.Transport.(*http.Transport).Proxy = http.ProxyURL(proxy)
	_, err = c.Get(context.Background(), fetch.Request{URL: "https://mirror.applink.test/x", Dir: t.TempDir(), Want: wantSum})
	var giveUp *fetch.GiveUpError
	require.ErrorAs(t, err, &giveUp)
	require.ErrorContains(t, err, "no answer in 0.2s (from the server, or a proxy on the way)")
}

func TestTLSOnAPlainServer(t *testing.T) {
	srv, n := serve(t, ok)
	_, err := client().Get(context.Background(), fetch.Request{URL: strings.Replace(srv.URL, "http://", "https://", 1), Dir: t.TempDir(), Want: wantSum})
	var cert *fetch.TLSError
	require.ErrorAs(t, err, &cert)
	require.EqualError(t, err, "TLS certificate problem: the server does not answer in TLS (a plain http server behind an https URL?)")
	require.Zero(t, n.Load())
}
