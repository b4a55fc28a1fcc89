package fetch

import (
	"fmt"
	"net/http"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
)

// StatusError is an HTTP answer other than 200 OK.
type StatusError struct {
	Code       int
	Status     string
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	text := e.Status
	if text == "" {
		text = fmt.Sprintf("%d %s", e.Code, http.StatusText(e.Code))
	}
	return "server answered " + text
}

// NotFound reports whether the server says the file does not exist. S3
// answers 403 rather than 404 for a missing key when listing is not public.
func (e *StatusError) NotFound() bool {
	return e.Code == http.StatusNotFound || e.Code == http.StatusForbidden
}

// ChecksumMismatchError is a complete body whose digest is not the pinned one.
type ChecksumMismatchError struct {
	Want, Got digest.Digest
	Size      int64
}

func (e *ChecksumMismatchError) Error() string {
	return fmt.Sprintf("checksum mismatch: expected %s, got %s (%d bytes)", e.Want, e.Got, e.Size)
}

// TooLargeError is a body over the size cap.
type TooLargeError struct {
	Limit    int64
	Declared int64
}

func (e *TooLargeError) Error() string {
	if e.Declared > 0 {
		return fmt.Sprintf("response of %d bytes is over the %d-byte limit", e.Declared, e.Limit)
	}
	return fmt.Sprintf("response is over the %d-byte limit", e.Limit)
}

// EmptyBodyError is a 200 answer with no content.
type EmptyBodyError struct{}

func (e *EmptyBodyError) Error() string { return "server answered 200 OK with an empty body" }

// ShortBodyError is a body that ended before its declared length.
type ShortBodyError struct {
	Received, Declared int64
	Err                error
}

func (e *ShortBodyError) Error() string {
	return fmt.Sprintf("body ended after %d of %d bytes: %v", e.Received, e.Declared, e.Err)
}

func (e *ShortBodyError) Unwrap() error { return e.Err }

// StalledError is a body that stopped arriving.
type StalledError struct {
	After    time.Duration
	Received int64
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("no data received for %s after %d bytes", e.After, e.Received)
}

// RedirectError is a redirect the client refused to follow.
type RedirectError struct {
	URL    string
	Reason string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refused %s (%s)", e.Reason, e.URL)
}

// NetworkError is a failure to connect or to read.
type NetworkError struct {
	Err error
}

func (e *NetworkError) Error() string { return "network error: " + e.Err.Error() }

func (e *NetworkError) Unwrap() error { return e.Err }

// LocalError is a failure on this machine (a full or read-only disk).
type LocalError struct {
	Op string
	// Dir is the directory the download was written to, if any.
	Dir string
	Err error
}

func (e *LocalError) Error() string { return fmt.Sprintf("failed to %s: %v", e.Op, e.Err) }

func (e *LocalError) Unwrap() error { return e.Err }

// GiveUpError wraps the last error once the retry budget is spent.
type GiveUpError struct {
	Attempts int
	Err      error
}

func (e *GiveUpError) Error() string {
	return fmt.Sprintf("gave up after %d attempts: %v", e.Attempts, e.Err)
}

func (e *GiveUpError) Unwrap() error { return e.Err }

// TooSlowError is a download that did not finish within its deadline,
// however steadily bytes arrived.
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
	default:
		return fmt.Sprintf("too slow: no answer in %s", seconds(e.After))
	}
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// TLSError is a server whose certificate could not be verified. It is
// not retried: the next attempt would meet the same certificate.
type TLSError struct {
	Reason string
	Err    error
}

func (e *TLSError) Error() string { return "TLS certificate problem: " + e.Reason }

func (e *TLSError) Unwrap() error { return e.Err }

// WebPageError is a 200 answer that is not a release file: an HTML page
// (a proxy's or a portal's) or a compressed body, whose bytes could never
// hash to a release.
type WebPageError struct {
	Status, ContentType, Encoding string
}

func (e *WebPageError) Error() string {
	what := "content type " + orUnset(e.ContentType)
	if e.Encoding != "" {
		what += ", content encoding " + e.Encoding
	}
	return fmt.Sprintf("the server sent a web page (or a compressed body), not the release file (%s, %s)", e.Status, what)
}

func orUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}
