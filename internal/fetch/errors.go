package fetch

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Every error a download can end in is one of these types, and each says
// in one place whether another attempt could succeed (Retryable), what the
// user can do (Help) and how the build report names it (Reason).

// StatusError is an HTTP answer other than 200 OK.
type StatusError struct {
	URL        string
	Code       int
	Status     string
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return "server answered " + cmpOr(e.Status, fmt.Sprintf("%d %s", e.Code, http.StatusText(e.Code)))
}

// Retryable: a server error, a timeout, or being told to slow down.
func (e *StatusError) Retryable() bool {
	return e.Code >= 500 || e.Code == http.StatusTooManyRequests || e.Code == http.StatusRequestTimeout
}

// Help explains the answer in terms of what the user can do about it.
func (e *StatusError) Help() string {
	switch {
	case e.Code == http.StatusNotFound || e.Code == http.StatusForbidden:
		// S3 answers 403 for a missing key when listing is not public.
		dir, file := e.URL[:strings.LastIndex(e.URL, "/")], e.URL[strings.LastIndex(e.URL, "/")+1:]
		return fmt.Sprintf("%s was not found at %s\n(%s). Check the version; if you use a mirror or bucket\n"+
			"override, check that it holds that file. Nothing was installed.", file, dir, e.Status)
	case e.Code == http.StatusUnauthorized:
		return "The server asked for credentials, or refused the ones in\n" +
			"HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL (user:password@, or a token as the\n" +
			"user name). Check them. Nothing was installed."
	case e.Code == http.StatusProxyAuthRequired:
		return "A proxy between the build and the server requires authentication: check\n" +
			"the proxy settings (HTTPS_PROXY). Nothing was installed."
	case e.Retryable():
		return "The server kept failing. This is usually temporary: retry the build.\nNothing was installed."
	}
	return "The server refused the request; retrying will not change that. Check the\nmirror or bucket, and its URL. Nothing was installed."
}

// Reason names the failure for the build report.
func (e *StatusError) Reason() string { return "download::http-status" }

// NotAFileError is a 200 answer that cannot be the file: a web page (a
// proxy's or a portal's), a compressed or differently encoded body, or no
// body at all, whose bytes could never be the release.
type NotAFileError struct {
	URL, What string
}

func (e *NotAFileError) Error() string {
	return "the server sent " + e.What + ", not the file"
}

// Retryable: the next answer would be the same.
func (e *NotAFileError) Retryable() bool { return false }

// Help names the usual culprits.
func (e *NotAFileError) Help() string {
	return "The address answered with something other than the file: a wrong mirror\n" +
		"URL, a login or error page, or a proxy that rewrites downloads. Check\n" +
		"the mirror URL and the proxy settings (HTTPS_PROXY, NO_PROXY).\n" +
		"Nothing was installed."
}

// Reason names the failure for the build report.
func (e *NotAFileError) Reason() string { return "download::not-the-file" }

// TooLargeError is a body over the size cap.
type TooLargeError struct {
	URL             string
	Limit, Declared int64
}

func (e *TooLargeError) Error() string {
	if e.Declared > 0 {
		return fmt.Sprintf("response of %d bytes is over the %d-byte limit", e.Declared, e.Limit)
	}
	return fmt.Sprintf("response is over the %d-byte limit", e.Limit)
}

// Retryable: the file will not shrink.
func (e *TooLargeError) Retryable() bool { return false }

// Help says what to check.
func (e *TooLargeError) Help() string {
	return "The server sent far more data than the file can be. Check the source\n(the mirror or bucket, and its URL); nothing was installed."
}

// Reason names the failure for the build report.
func (e *TooLargeError) Reason() string { return "download::too-large" }

// NetworkError is a failure to connect or to read: refused, reset, timed
// out, stalled or cut short.
type NetworkError struct{ Err error }

func (e *NetworkError) Error() string { return "network error: " + e.Err.Error() }

func (e *NetworkError) Unwrap() error { return e.Err }

// Retryable: all of those are worth another try.
func (e *NetworkError) Retryable() bool { return true }

// Help says what usually helps.
func (e *NetworkError) Help() string {
	return "This is usually a temporary network problem: retry the build.\nNothing was installed."
}

// Reason names the failure for the build report.
func (e *NetworkError) Reason() string { return "download::network" }

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
	}
	return fmt.Sprintf("too slow: no answer in %s", seconds(e.After))
}

// Retryable: the deadline covers every attempt.
func (e *TooSlowError) Retryable() bool { return false }

// Help names the knob.
func (e *TooSlowError) Help() string {
	return "The download did not finish in time. The build platform can allow\n" +
		"longer with HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE (seconds) in the\n" +
		"build's environment. Nothing was installed."
}

// Reason names the failure for the build report.
func (e *TooSlowError) Reason() string { return "download::too-slow" }

// TLSError is a server whose certificate could not be verified.
type TLSError struct {
	Cause string
	Err   error
}

func (e *TLSError) Error() string { return "TLS certificate problem: " + e.Cause }

func (e *TLSError) Unwrap() error { return e.Err }

// Retryable: the next attempt would meet the same certificate.
func (e *TLSError) Retryable() bool { return false }

// Help names the way to trust a private authority.
func (e *TLSError) Help() string {
	return "The server's TLS certificate could not be verified, so nothing was\n" +
		"downloaded from it; retrying will not help. If the mirror's certificate\n" +
		"comes from a private authority, add that authority to the build's\n" +
		"environment with SSL_CERT_FILE (a PEM file) or SSL_CERT_DIR. Nothing was\n" +
		"installed."
}

// Reason names the failure for the build report.
func (e *TLSError) Reason() string { return "download::tls" }

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
		return "the server does not answer in TLS (a plain http server behind an https URL?)", true
	case errors.As(err, &alert):
		return "the TLS handshake was refused (" + alert.Error() + ")", true
	}
	return "", false
}

// RedirectError is a redirect (or a URL) the client refused to follow.
type RedirectError struct {
	URL, Why string
}

func (e *RedirectError) Error() string { return fmt.Sprintf("refused %s (%s)", e.Why, e.URL) }

// Retryable: the server would redirect the same way.
func (e *RedirectError) Retryable() bool { return false }

// Help says what to check.
func (e *RedirectError) Help() string {
	return "The server sent the download somewhere the buildpack does not follow.\n" +
		"Check the mirror URL and its redirects. Nothing was installed."
}

// Reason names the failure for the build report.
func (e *RedirectError) Reason() string { return "download::redirect" }

// KnobError is an operator knob that is not a usable number of seconds.
type KnobError struct{ Name, Value string }

func (e *KnobError) Error() string {
	return fmt.Sprintf("%s=%q: want a number of seconds from 0.001 to 3600", e.Name, e.Value)
}

// Help says where the knob lives.
func (e *KnobError) Help() string {
	return "This is a setting of the build platform, not a config var: fix it where\nthe build's environment is set."
}

// Reason names the failure for the build report.
func (e *KnobError) Reason() string { return "config::invalid" }
