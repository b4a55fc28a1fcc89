package fetch

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
)

const (
	// DefaultMaxSize caps a release file: the mesh is tens of megabytes.
	DefaultMaxSize = 512 << 20
	// The operator's knobs, read from the build's environment (never from
	// config vars): platforms on slow networks may need longer, tests shorter.
	KnobTimeout    = "HEROKU_APPLINK_BUILDPACK_TIMEOUT"
	KnobRetryDelay = "HEROKU_APPLINK_BUILDPACK_RETRY_DELAY"
	KnobDeadline   = "HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE"
	// nothing ends the help of every download error.
	nothing = "Nothing was installed."
)

// Client downloads with timeouts, a size cap and bounded retries.
type Client struct {
	HTTP     *http.Client
	Attempts int
	Backoff  func(n int) time.Duration // before retry n ≥ 1, unless the server sent Retry-After
	// Idle fails a body that delivers no byte for this long; Answer bounds everything
	// before the headers (a proxy's CONNECT included); Deadline a whole download, retries included.
	Idle, Answer, Deadline time.Duration
	UserAgent              string
	OnRetry                func(attempt int, err error, wait time.Duration) // New's does nothing
}

// New returns a Client with production settings, adjusted by the knobs.
func New(userAgent string, getenv func(string) string) (*Client, error) {
	knobs := map[string]time.Duration{KnobTimeout: 0, KnobRetryDelay: 500 * time.Millisecond, KnobDeadline: 10 * time.Minute}
	for name := range knobs {
		if v := getenv(name); v != "" {
			// NaN, infinities, zero and negatives would switch a bound off.
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !(f >= 0.001 && f <= 3600) {
				return nil, &config.Error{Problem: fmt.Sprintf("%s=%q: want a number of seconds from 0.001 to 3600", name, v),
					Advice: "This is a setting of the build platform, not a config var: fix it where\nthe build's environment is set."}
			}
			knobs[name] = time.Duration(f * float64(time.Second))
		}
	}
	t, delay := knobs[KnobTimeout], knobs[KnobRetryDelay]
	connect, idle := cmp.Or(t, 10*time.Second), cmp.Or(t, 30*time.Second)
	// The default transport (the proxy from the environment, HTTP/2) with the knobs' timeouts.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	transport.TLSHandshakeTimeout, transport.ResponseHeaderTimeout = connect, idle
	// The body is hashed as received, not decompressed.
	transport.DisableCompression = true
	return &Client{
		HTTP: &http.Client{CheckRedirect: checkRedirect, Transport: transport},
		// Doubling, with up to 25% jitter: builds retrying together spread out.
		Backoff:  func(n int) time.Duration { d := delay << (n - 1); return d + time.Duration(rand.Int64N(int64(d)/4+1)) },
		Attempts: 4, Idle: idle, Answer: connect + idle, Deadline: knobs[KnobDeadline],
		UserAgent: userAgent, OnRetry: func(int, error, time.Duration) {},
	}, nil
}

// checkRedirect never lets a redirect lower security: https, or http to loopback.
func checkRedirect(req *http.Request, via []*http.Request) error {
	u := config.Redact(strings.SplitN(req.URL.String(), "?", 2)[0]) // a query may hold a signature, or an @
	switch {
	case len(via) >= 5:
		return &RedirectError{URL: u, Why: "more than 5 redirects"}
	case via[0].URL.Scheme == "https" && req.URL.Scheme != "https":
		return &RedirectError{URL: u, Why: "redirect from https to http"}
	case req.URL.Scheme != "https" && !(req.URL.Scheme == "http" && config.IsLoopback(req.URL.Hostname())):
		return &RedirectError{URL: u, Why: "redirect to an insecure URL"}
	}
	return nil
}

// File downloads url into f and returns the "sha256:<hex>" of what it wrote
// and its size. A failed write is an *fsutil.PathError.
func (c *Client) File(ctx context.Context, url string, f *os.File) (string, int64, error) {
	h := sha256.New()
	n, err := c.get(ctx, url, DefaultMaxSize, func() (io.Writer, error) {
		h.Reset()
		_, err := f.Seek(0, io.SeekStart)
		return io.MultiWriter(f, h), cmp.Or(f.Truncate(0), err)
	})
	// A failed write is the machine's problem, never a network error.
	if pe, ok := errors.AsType[*fs.PathError](err); ok && pe.Op != "read" {
		return "", n, &fsutil.PathError{Path: f.Name(), Err: pe.Err}
	} else if err != nil {
		return "", n, err
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil)), n, nil
}

// Bytes downloads a small file (a key, a signature) into memory.
func (c *Client) Bytes(ctx context.Context, url string, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := c.get(ctx, url, limit, func() (io.Writer, error) { buf.Reset(); return &buf, nil })
	return buf.Bytes(), err
}

// The causes once and get cancel a request with.
var errTooSlow, errStalled, errNoAnswer = errors.New("download deadline"), errors.New("no data received"), errors.New("no answer")

func (c *Client) get(ctx context.Context, url string, limit int64, open func() (io.Writer, error)) (int64, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, c.Deadline, errTooSlow)
	defer cancel()
	for attempt := 1; ; attempt++ {
		n, err := c.once(ctx, url, limit, open)
		var retry interface{ Retryable() bool }
		switch {
		case err == nil:
			return n, nil
		case errors.Is(context.Cause(ctx), errTooSlow) && !errors.As(err, new(*TooSlowError)):
			return n, &TooSlowError{After: c.Deadline}
		case ctx.Err() != nil || !errors.As(err, &retry) || !retry.Retryable():
			return n, err
		case attempt >= c.Attempts:
			return n, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		wait := c.Backoff(attempt)
		if status, ok := errors.AsType[*StatusError](err); ok && status.RetryAfter > 0 {
			wait = min(status.RetryAfter, 20*time.Second)
		}
		c.OnRetry(attempt, err, wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// once streams one response's body into what open returns.
func (c *Client) once(ctx context.Context, rawURL string, limit int64, open func() (io.Writer, error)) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	url := config.Redact(rawURL)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, &RedirectError{URL: url, Why: "an invalid URL"}
	}
	req.Header.Set("User-Agent", c.UserAgent)
	// The transport's own timeouts miss a proxy that takes the connection, never answering its CONNECT.
	noAnswer := time.AfterFunc(c.Answer, func() { cancel(errNoAnswer) })
	resp, err := c.HTTP.Do(req)
	noAnswer.Stop()
	if err != nil {
		return 0, c.classify(ctx, err, 0, -1)
	}
	defer resp.Body.Close()
	what := short(resp.Status + ", content type " + cmp.Or(resp.Header.Get("Content-Type"), "unset"))
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch enc := resp.Header.Get("Content-Encoding"); {
	case resp.StatusCode != http.StatusOK:
		return 0, &StatusError{URL: url, Code: resp.StatusCode, Status: short(resp.Status), RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	case resp.ContentLength > limit:
		return 0, &TooLargeError{Limit: limit, Declared: resp.ContentLength}
	case mediaType == "text/html" || mediaType == "application/xhtml+xml":
		return 0, &NotAFileError{What: "a web page (" + what + ")"}
	case enc != "" && !strings.EqualFold(enc, "identity"):
		return 0, &NotAFileError{What: "a compressed body (" + what + ", content encoding " + enc + ")"}
	}
	idle := time.AfterFunc(c.Idle, func() { cancel(errStalled) })
	defer idle.Stop()
	body := io.TeeReader(io.LimitReader(resp.Body, limit+1), onWrite(func(p []byte) (int, error) { idle.Reset(c.Idle); return len(p), nil }))
	// A wrong mirror or a captive proxy often answers 200 with a web page: named so, not as tampering.
	head, _ := io.ReadAll(io.LimitReader(body, 512)) // a read error recurs on the next read
	lower := bytes.ToLower(bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n"))
	if slices.ContainsFunc([]string{"<!doctype html", "<html", "<head", "<body"}, func(p string) bool { return bytes.HasPrefix(lower, []byte(p)) }) {
		return 0, &NotAFileError{What: "a web page (" + what + ")"}
	}
	w, err := open()
	if err != nil {
		return 0, err
	}
	// Not through a small buffer: every write costs a system call.
	n, err := io.Copy(w, io.MultiReader(bytes.NewReader(head), body))
	switch {
	case errors.As(err, new(*fs.PathError)):
		return n, err
	case err != nil && errors.Is(context.Cause(ctx), errStalled):
		return n, &NetworkError{Err: fmt.Errorf("no data received for %s after %d bytes", seconds(c.Idle), n)}
	case err != nil && ctx.Err() == nil && resp.ContentLength > 0 && n < resp.ContentLength:
		return n, &NetworkError{Err: fmt.Errorf("body ended after %d of %d bytes: %w", n, resp.ContentLength, unwrapURL(err))}
	case err != nil:
		return n, c.classify(ctx, err, n, resp.ContentLength)
	case n > limit:
		return n, &TooLargeError{Limit: limit}
	case n == 0:
		return 0, &NotAFileError{What: "an empty body (" + short(resp.Status) + ")"}
	}
	return n, nil
}

// classify names the true cause of a failed request or body. Every failed
// check of the server's certificate (authority, host, expiry, algorithm)
// comes wrapped in a CertificateVerificationError.
func (c *Client) classify(ctx context.Context, err error, received, declared int64) error {
	var redirect *RedirectError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	_, enc, unsupported := strings.Cut(err.Error(), "unsupported transfer encoding: ")
	_, malformed, _ := strings.Cut(strings.SplitN(unwrapURL(err).Error(), `"`, 2)[0], "malformed ") // Go's words, not the server's
	malformed, _, _ = strings.Cut(malformed, ":")
	switch cause := context.Cause(ctx); {
	case errors.As(err, &redirect):
		return redirect
	case errors.Is(cause, errTooSlow):
		return &TooSlowError{Received: received, Declared: declared, After: c.Deadline}
	case errors.Is(cause, errNoAnswer):
		return &NetworkError{Err: fmt.Errorf("no answer in %s (from the server, or a proxy on the way)", seconds(c.Answer))}
	case errors.Is(err, context.Canceled), ctx.Err() != nil: // the build's, whatever the read says
		return context.Cause(ctx)
	case unsupported:
		return &NotAFileError{What: "a body in transfer encoding " + short(enc) + " (only chunked is accepted)"}
	case errors.As(err, &verify):
		return &TLSError{Cause: strings.TrimPrefix(verify.Err.Error(), "x509: "), Err: err}
	case errors.As(err, new(tls.RecordHeaderError)), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return &TLSError{Cause: "the server does not answer in TLS (a plain http server behind an https URL?)", Err: err}
	case errors.As(err, &alert):
		return &TLSError{Cause: "the TLS handshake was refused (" + alert.Error() + ")", Err: err}
	case strings.Contains(err.Error(), "failed to parse Location header"):
		return &NotAFileError{What: "a malformed answer (a redirect to an address that is not a URL)"}
	case malformed != "": // complete, or cut with the connection: retried
		return &NetworkError{Err: errors.New("a malformed answer: malformed " + malformed)}
	}
	return &NetworkError{Err: unwrapURL(err)}
}

// unwrapURL drops the *url.Error wrapper: the caller shows the URL, redacted.
func unwrapURL(err error) error {
	if uerr, ok := errors.AsType[*url.Error](err); ok {
		return uerr.Err
	}
	return err
}

// onWrite is a writer that calls itself: io.TeeReader calls it with every
// read that returned bytes.
type onWrite func(p []byte) (int, error)

func (f onWrite) Write(p []byte) (int, error) { return f(p) }

func retryAfter(v string) time.Duration {
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// short cuts what a server says to a line's length: a reason phrase may be megabytes.
func short(s string) string {
	if len(s) > 200 {
		return strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// StatusError is an HTTP answer other than 200 OK.
type StatusError struct {
	URL, Status string
	Code        int
	RetryAfter  time.Duration
}

func (e *StatusError) Error() string {
	return "server answered " + cmp.Or(e.Status, fmt.Sprintf("%d %s", e.Code, http.StatusText(e.Code)))
}
func (e *StatusError) Reason() string { return "download::http-status" }
func (e *StatusError) Retryable() bool {
	permanent := e.Code == http.StatusNotImplemented || e.Code == http.StatusHTTPVersionNotSupported
	return e.Code >= 500 && !permanent || e.Code == http.StatusTooManyRequests || e.Code == http.StatusRequestTimeout
}
func (e *StatusError) Help() string {
	switch i := strings.LastIndex(e.URL, "/"); {
	case e.Code == http.StatusNotFound || e.Code == http.StatusForbidden:
		// S3 answers 403 for a missing key when listing is not public.
		return fmt.Sprintf("%s was not found at %s\n(%s). Check the version; if you use a mirror or bucket\n"+
			"override, check that it holds that file. %s", e.URL[i+1:], e.URL[:max(i, 0)], e.Status, nothing)
	case e.Code == http.StatusUnauthorized:
		return "The server asked for credentials, or refused the ones in\nHEROKU_APPLINK_SERVICE_MESH_MIRROR_URL " +
			"(user:password@, or a token as the\nuser name). Check them. " + nothing
	case e.Code == http.StatusProxyAuthRequired:
		return "A proxy between the build and the server requires authentication: check\nthe proxy settings (HTTPS_PROXY). " + nothing
	case e.Retryable():
		return "The server kept failing. This is usually temporary: retry the build.\n" + nothing
	}
	return "The server refused the request; retrying will not change that. Check the\nmirror or bucket, and its URL. " + nothing
}

// NotAFileError is a 200 answer that cannot be the file: a page, an encoded or empty body.
type NotAFileError struct{ What string }

func (e *NotAFileError) Error() string   { return "the server sent " + e.What + ", not the file" }
func (e *NotAFileError) Retryable() bool { return false }
func (e *NotAFileError) Reason() string  { return "download::not-the-file" }
func (e *NotAFileError) Help() string {
	return "The address answered with something other than the file: a wrong mirror\n" +
		"URL, a login or error page, or a proxy that rewrites downloads. Check\n" +
		"the mirror URL and the proxy settings (HTTPS_PROXY, NO_PROXY).\n" + nothing
}

// TooLargeError is a body over the size cap.
type TooLargeError struct{ Limit, Declared int64 }

func (e *TooLargeError) Error() string {
	if e.Declared > 0 {
		return fmt.Sprintf("response of %d bytes is over the %d-byte limit", e.Declared, e.Limit)
	}
	return fmt.Sprintf("response is over the %d-byte limit", e.Limit)
}
func (e *TooLargeError) Retryable() bool { return false }
func (e *TooLargeError) Reason() string  { return "download::too-large" }
func (e *TooLargeError) Help() string {
	return "The server sent far more data than the file can be. Check the source\n(the mirror or bucket, and its URL). " + nothing
}

// NetworkError is a failure to connect or to read, worth another try.
type NetworkError struct{ Err error }

func (e *NetworkError) Error() string { // in Go's words, without what Go quotes: a server's value may hold a token
	text, _, _ := strings.Cut(e.Err.Error(), "\"")
	return "network error: " + short(cmp.Or(strings.TrimRight(text, " ;:[(="), "an answer Go could not read"))
}
func (e *NetworkError) Unwrap() error   { return e.Err }
func (e *NetworkError) Retryable() bool { return true }
func (e *NetworkError) Reason() string  { return "download::network" }
func (e *NetworkError) Help() string {
	return "This is usually a temporary network problem: retry the build.\n" + nothing
}

// TooSlowError is a download, all attempts, that missed its deadline.
type TooSlowError struct {
	Received, Declared int64
	After              time.Duration
}

func (e *TooSlowError) Error() string {
	switch {
	case e.Declared > 0:
		return fmt.Sprintf("too slow: %d of %d bytes in %s", e.Received, e.Declared, seconds(e.After))
	case e.Received > 0:
		return fmt.Sprintf("too slow: %d bytes in %s", e.Received, seconds(e.After))
	}
	return "too slow: no answer in " + seconds(e.After)
}
func (e *TooSlowError) Retryable() bool { return false }
func (e *TooSlowError) Reason() string  { return "download::too-slow" }
func (e *TooSlowError) Help() string {
	return "The download did not finish in time. The build platform can allow\n" +
		"longer with HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE (seconds) in the\nbuild's environment. " + nothing
}

// TLSError is a server whose certificate could not be verified.
type TLSError struct {
	Cause string
	Err   error
}

func (e *TLSError) Error() string   { return "TLS certificate problem: " + e.Cause }
func (e *TLSError) Unwrap() error   { return e.Err }
func (e *TLSError) Retryable() bool { return false }
func (e *TLSError) Reason() string  { return "download::tls" }
func (e *TLSError) Help() string {
	return "The server's TLS certificate could not be verified, so nothing was\n" +
		"downloaded from it; retrying will not help. If the mirror's certificate\n" +
		"comes from a private authority, add that authority to the build's\n" +
		"environment with SSL_CERT_FILE (a PEM file) or SSL_CERT_DIR. " + nothing
}

// RedirectError is a redirect (or a URL) the client refused to follow.
type RedirectError struct{ URL, Why string }

func (e *RedirectError) Error() string   { return fmt.Sprintf("refused %s (%s)", e.Why, e.URL) }
func (e *RedirectError) Retryable() bool { return false }
func (e *RedirectError) Reason() string  { return "download::redirect" }
func (e *RedirectError) Help() string {
	return "The server sent the download somewhere the buildpack does not follow.\nCheck the mirror URL and its redirects. " + nothing
}
