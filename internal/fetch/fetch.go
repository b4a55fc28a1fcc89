package fetch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
)

// Defaults sized for a mesh binary of tens of megabytes on a build machine.
const (
	DefaultAttempts       = 4
	DefaultMaxSize        = 512 << 20
	DefaultConnectTimeout = 10 * time.Second
	DefaultHeaderTimeout  = 30 * time.Second
	DefaultIdleTimeout    = 30 * time.Second
	DefaultDeadline       = 10 * time.Minute
	DefaultProgressEvery  = 5 * time.Second
	maxRetryAfter         = 20 * time.Second
	maxRedirects          = 5
)

// Client downloads and verifies artifacts. The zero value is not usable; use
// New and adjust fields before the first call.
type Client struct {
	HTTP *http.Client
	// Attempts bounds tries per download, the first included.
	Attempts int
	// Backoff gives the wait before retry n (n ≥ 1), unless the server sent
	// Retry-After.
	Backoff func(n int) time.Duration
	// MaxSize caps a body; larger is refused, declared or not.
	MaxSize int64
	// IdleTimeout fails a body that delivers no byte for this long.
	IdleTimeout time.Duration
	// AnswerTimeout bounds everything before the response headers: the
	// connection, a proxy's CONNECT, the TLS handshake, the server's answer.
	AnswerTimeout time.Duration
	// Deadline bounds a whole download, retries included, however steadily
	// bytes arrive.
	Deadline time.Duration
	// UserAgent names the buildpack to the server.
	UserAgent string
	// OnRetry, when set, hears about each failed attempt that will be retried.
	OnRetry func(attempt int, err error, wait time.Duration)
	// OnProgress, when set, hears every ProgressEvery how far a body that is
	// still arriving has come (total is -1 when the server did not say).
	OnProgress    func(received, total int64, elapsed time.Duration)
	ProgressEvery time.Duration
	// Now is the clock progress is timed with.
	Now func() time.Time
}

// New returns a Client with production timeouts and retries.
func New(userAgent string) *Client {
	dialer := &net.Dialer{Timeout: DefaultConnectTimeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   DefaultConnectTimeout,
		ResponseHeaderTimeout: DefaultHeaderTimeout,
		ForceAttemptHTTP2:     true,
		// The body is hashed as received; a transparently decompressed body
		// would hash different bytes from the ones the checksum pins.
		DisableCompression: true,
	}
	return &Client{
		HTTP:          &http.Client{Transport: transport, CheckRedirect: checkRedirect},
		Attempts:      DefaultAttempts,
		Backoff:       ExponentialBackoff(500 * time.Millisecond),
		MaxSize:       DefaultMaxSize,
		IdleTimeout:   DefaultIdleTimeout,
		AnswerTimeout: DefaultConnectTimeout + DefaultHeaderTimeout,
		Deadline:      DefaultDeadline,
		ProgressEvery: DefaultProgressEvery,
		UserAgent:     userAgent,
		Now:           time.Now,
	}
}

// SetTimeout sets the connect, response-header and idle-body timeouts at
// once.
func (c *Client) SetTimeout(d time.Duration) {
	c.IdleTimeout = d
	c.AnswerTimeout = 2 * d
	if t, ok := c.HTTP.Transport.(*http.Transport); ok {
		t.DialContext = (&net.Dialer{Timeout: d, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = d
		t.ResponseHeaderTimeout = d
	}
}

// ExponentialBackoff doubles base for each retry, with up to 25% jitter so
// that many builds retrying together do not hit the server in step.
func ExponentialBackoff(base time.Duration) func(int) time.Duration {
	return func(n int) time.Duration {
		if base <= 0 {
			return 0
		}
		d := base << (n - 1)
		return d + time.Duration(rand.Int64N(int64(d)/4+1))
	}
}

// checkRedirect follows at most a few redirects and never lets one lower
// the transport's security: a redirect target must be https, or http on a
// loopback host.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return &RedirectError{URL: source.Redact(req.URL.String()), Reason: fmt.Sprintf("more than %d redirects", maxRedirects)}
	}
	if req.URL.Scheme != "https" && !(req.URL.Scheme == "http" && source.IsLoopback(req.URL.Hostname())) {
		return &RedirectError{URL: source.Redact(req.URL.String()), Reason: "redirect to an insecure URL"}
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return &RedirectError{URL: source.Redact(req.URL.String()), Reason: "redirect from https to http"}
	}
	return nil
}

// Result is a download.
type Result struct {
	// Path is a temporary file, mode 0600, in the requested directory. The
	// caller owns it: rename it into place or remove it.
	Path     string
	Size     int64
	Digest   digest.Digest
	Attempts int
}

// Request describes one download.
type Request struct {
	URL string
	// Dir receives the temporary file.
	Dir string
	// Want is the expected digest, checked as the body ends; the zero Digest
	// accepts any body, whose digest the caller must then check by other
	// means (a signature).
	Want digest.Digest
}

var errTooSlow = errors.New("download deadline")

// Get performs a download with the client's retries, within its deadline.
func (c *Client) Get(ctx context.Context, req Request) (Result, error) {
	return c.get(ctx, req, func() (sink, error) { return newFileSink(req.Dir) })
}

// GetBytes downloads a small file (a key or a signature) into memory.
func (c *Client) GetBytes(ctx context.Context, rawURL string, limit int64) ([]byte, error) {
	small := *c
	small.MaxSize = limit
	var buf *memSink
	_, err := small.get(ctx, Request{URL: rawURL}, func() (sink, error) {
		buf = &memSink{}
		return buf, nil
	})
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (c *Client) get(ctx context.Context, req Request, newSink func() (sink, error)) (Result, error) {
	if c.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.Deadline, errTooSlow)
		defer cancel()
	}
	var res Result
	attempts, err := c.retry(ctx, func() error {
		var err error
		res, err = c.once(ctx, req, newSink)
		return err
	})
	res.Attempts = attempts
	if err != nil && errors.Is(context.Cause(ctx), errTooSlow) {
		var slow *TooSlowError
		if !errors.As(err, &slow) {
			err = &TooSlowError{After: c.Deadline}
		}
	}
	return res, err
}

func (c *Client) retry(ctx context.Context, try func() error) (int, error) {
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil {
			return attempt, nil
		}
		wait, retry := c.retryable(err, attempt)
		if !retry || ctx.Err() != nil {
			return attempt, err
		}
		if attempt >= c.Attempts {
			return attempt, &GiveUpError{Attempts: attempt, Err: err}
		}
		if c.OnRetry != nil {
			c.OnRetry(attempt, err, wait)
		}
		if err := sleep(ctx, wait); err != nil {
			return attempt, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) retryable(err error, attempt int) (time.Duration, bool) {
	wait := time.Duration(0)
	if c.Backoff != nil {
		wait = c.Backoff(attempt)
	}
	var status *StatusError
	if errors.As(err, &status) {
		if status.Code == http.StatusTooManyRequests || status.Code >= 500 || status.Code == http.StatusRequestTimeout {
			if status.RetryAfter > 0 {
				wait = min(status.RetryAfter, maxRetryAfter)
			}
			return wait, true
		}
		return 0, false
	}
	var (
		sum      *ChecksumMismatchError
		large    *TooLargeError
		redirect *RedirectError
		empty    *EmptyBodyError
		local    *LocalError
		slow     *TooSlowError
		cert     *TLSError
		page     *WebPageError
	)
	switch {
	case errors.As(err, &sum), errors.As(err, &large), errors.As(err, &redirect), errors.As(err, &empty),
		errors.As(err, &local), errors.As(err, &slow), errors.As(err, &cert), errors.As(err, &page):
		return 0, false
	case errors.Is(err, context.Canceled):
		return 0, false
	}
	// Everything else is the network: refused, reset, timed out, stalled or
	// cut short. All of those are worth another try.
	return wait, true
}

var (
	errStalled  = errors.New("no data received")
	errNoAnswer = errors.New("no answer")
)

func (c *Client) once(ctx context.Context, r Request, newSink func() (sink, error)) (_ Result, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return Result{}, &LocalError{Op: "build request", Err: err}
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	var noAnswer *time.Timer
	if c.AnswerTimeout > 0 {
		// The transport's own timeouts do not cover a proxy that accepts the
		// connection and never answers its CONNECT.
		noAnswer = time.AfterFunc(c.AnswerTimeout, func() { cancel(errNoAnswer) })
	}
	resp, err := c.HTTP.Do(req)
	if noAnswer != nil {
		noAnswer.Stop()
	}
	if err != nil {
		var redirect *RedirectError
		if errors.As(err, &redirect) {
			return Result{}, redirect
		}
		if errors.Is(context.Cause(ctx), errNoAnswer) {
			return Result{}, &NetworkError{Err: fmt.Errorf("no answer in %s (from the server, or a proxy on the way)", seconds(c.AnswerTimeout))}
		}
		return Result{}, c.classify(ctx, err, 0, -1)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		return Result{}, &StatusError{Code: resp.StatusCode, Status: resp.Status, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	}
	if c.MaxSize > 0 && resp.ContentLength > c.MaxSize {
		return Result{}, &TooLargeError{Limit: c.MaxSize, Declared: resp.ContentLength}
	}
	page := &WebPageError{Status: resp.Status, ContentType: resp.Header.Get("Content-Type"), Encoding: resp.Header.Get("Content-Encoding")}
	if isWebPage(page.ContentType) || (page.Encoding != "" && !strings.EqualFold(page.Encoding, "identity")) {
		return Result{}, page
	}

	body := io.Reader(resp.Body)
	if c.IdleTimeout > 0 {
		timer := time.AfterFunc(c.IdleTimeout, func() { cancel(errStalled) })
		defer timer.Stop()
		body = &idleReader{r: body, timer: timer, idle: c.IdleTimeout}
	}
	if c.MaxSize > 0 {
		body = io.LimitReader(body, c.MaxSize+1)
	}
	counted := &countingReader{r: body}
	body = counted
	if c.OnProgress != nil && c.ProgressEvery > 0 && c.Now != nil {
		body = &progressReader{r: body, n: &counted.n, total: resp.ContentLength, every: c.ProgressEvery, now: c.Now, report: c.OnProgress, start: c.Now()}
	}
	// What a misconfigured mirror or a captive proxy answers with 200 is
	// most often an HTML page: say so, rather than call it tampering.
	sniff := bufio.NewReaderSize(body, 512)
	if head, _ := sniff.Peek(512); looksLikeHTML(head) {
		return Result{}, page
	}

	dest, err := newSink()
	if err != nil {
		return Result{}, &LocalError{Op: "create a temporary file", Dir: r.Dir, Err: err}
	}
	defer func() {
		if err != nil {
			dest.discard()
		}
	}()
	got, n, copyErr := digest.Copy(dest, sniff)
	if copyErr != nil {
		var werr *digest.WriteError
		if errors.As(copyErr, &werr) {
			return Result{}, &LocalError{Op: "write the download", Dir: r.Dir, Err: werr.Err}
		}
		if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
			return Result{}, &StalledError{After: c.IdleTimeout, Received: n}
		}
		if ctx.Err() != nil {
			return Result{}, c.classify(ctx, copyErr, n, resp.ContentLength)
		}
		if resp.ContentLength > 0 && n < resp.ContentLength {
			return Result{}, &ShortBodyError{Received: n, Declared: resp.ContentLength, Err: cleanNetError(copyErr)}
		}
		return Result{}, c.classify(ctx, copyErr, n, resp.ContentLength)
	}
	if c.MaxSize > 0 && n > c.MaxSize {
		return Result{}, &TooLargeError{Limit: c.MaxSize}
	}
	if err := dest.finish(); err != nil {
		return Result{}, &LocalError{Op: "write the download", Dir: r.Dir, Err: err}
	}
	if n == 0 {
		return Result{}, &EmptyBodyError{}
	}
	if !r.Want.IsZero() && got != r.Want {
		return Result{}, &ChecksumMismatchError{Want: r.Want, Got: got, Size: n}
	}
	return Result{Path: dest.path(), Size: n, Digest: got}, nil
}

// classify names the true cause of a failed request or body: the
// download's deadline, a certificate the client could not verify, or the
// network.
func (c *Client) classify(ctx context.Context, err error, received, declared int64) error {
	if errors.Is(context.Cause(ctx), errTooSlow) {
		return &TooSlowError{Received: received, Declared: declared, After: c.Deadline}
	}
	if reason, ok := certificateProblem(err); ok {
		return &TLSError{Reason: reason, Err: err}
	}
	return cleanNetError(err)
}

func certificateProblem(err error) (string, bool) {
	var (
		unknown  x509.UnknownAuthorityError
		host     x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		insecure x509.InsecureAlgorithmError
		record   tls.RecordHeaderError
		alert    tls.AlertError
	)
	switch {
	case errors.As(err, &unknown):
		return "the certificate is signed by an unknown authority", true
	case errors.As(err, &host):
		return "the certificate is not valid for " + host.Host, true
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "the certificate has expired or is not yet valid", true
	case errors.As(err, &invalid):
		return "the certificate is not valid (" + invalid.Error() + ")", true
	case errors.As(err, &insecure):
		return "the certificate uses an insecure algorithm", true
	case errors.As(err, &verify):
		return "the certificate could not be verified (" + verify.Err.Error() + ")", true
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http turns the TLS record error into that sentence.
		return "the server does not answer in TLS (a plain http server behind an https URL?)", true
	case errors.As(err, &alert):
		return "the TLS handshake was refused (" + alert.Error() + ")", true
	}
	return "", false
}

func isWebPage(contentType string) bool {
	t, _, err := mime.ParseMediaType(contentType)
	return err == nil && (t == "text/html" || t == "application/xhtml+xml")
}

func looksLikeHTML(head []byte) bool {
	h := bytes.ToLower(bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n"))
	for _, prefix := range []string{"<!doctype html", "<html", "<head", "<body"} {
		if bytes.HasPrefix(h, []byte(prefix)) {
			return true
		}
	}
	return false
}

// A sink receives a body: a private temporary file, or memory.
type sink interface {
	io.Writer
	finish() error
	discard()
	path() string
}

type fileSink struct{ f *os.File }

func newFileSink(dir string) (sink, error) {
	f, err := files.CreateTemp(dir, files.DownloadPrefix)
	if err != nil {
		return nil, err
	}
	return &fileSink{f: f}, nil
}

func (s *fileSink) Write(p []byte) (int, error) { return s.f.Write(p) }
func (s *fileSink) finish() error               { return s.f.Close() }
func (s *fileSink) path() string                { return s.f.Name() }
func (s *fileSink) discard() {
	s.f.Close()
	os.Remove(s.f.Name())
}

type memSink struct{ bytes.Buffer }

func (s *memSink) finish() error { return nil }
func (s *memSink) discard()      { s.Reset() }
func (s *memSink) path() string  { return "" }

type idleReader struct {
	r     io.Reader
	timer *time.Timer
	idle  time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.timer.Reset(r.idle)
	}
	return n, err
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// progressReader reports progress from the reading goroutine itself, so
// the report never races with the rest of the build's output.
type progressReader struct {
	r      io.Reader
	n      *atomic.Int64
	total  int64
	every  time.Duration
	now    func() time.Time
	report func(received, total int64, elapsed time.Duration)
	start  time.Time
	last   time.Duration
}

func (r *progressReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if elapsed := r.now().Sub(r.start); elapsed-r.last >= r.every && err == nil {
		r.last = elapsed
		r.report(r.n.Load(), r.total, elapsed)
	}
	return n, err
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// cleanNetError drops the *url.Error wrapper, whose text repeats the full
// URL: the caller reports the (redacted) URL once.
func cleanNetError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return &NetworkError{Err: uerr.Err}
	}
	return &NetworkError{Err: err}
}
