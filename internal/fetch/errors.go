package fetch

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const nothing = "Nothing was installed."

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
	return e.Code >= 500 || e.Code == http.StatusTooManyRequests || e.Code == http.StatusRequestTimeout
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

func (e *NetworkError) Error() string   { return "network error: " + e.Err.Error() }
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

// certificateProblem is what a TLS error says about the server, or "".
func certificateProblem(err error) string {
	var (
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		verify  *tls.CertificateVerificationError
		alert   tls.AlertError
	)
	switch {
	case errors.As(err, new(x509.UnknownAuthorityError)):
		return "the certificate is signed by an unknown authority"
	case errors.As(err, &host):
		return "the certificate is not valid for " + host.Host
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "the certificate has expired or is not yet valid"
	case errors.As(err, &invalid):
		return "the certificate is not valid (" + invalid.Error() + ")"
	case errors.As(err, new(x509.InsecureAlgorithmError)):
		return "the certificate uses an insecure algorithm"
	case errors.As(err, &verify):
		return "the certificate could not be verified (" + verify.Err.Error() + ")"
	case errors.As(err, new(tls.RecordHeaderError)), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "the server does not answer in TLS (a plain http server behind an https URL?)"
	case errors.As(err, &alert):
		return "the TLS handshake was refused (" + alert.Error() + ")"
	}
	return ""
}

// RedirectError is a redirect (or a URL) the client refused to follow.
type RedirectError struct{ URL, Why string }

func (e *RedirectError) Error() string   { return fmt.Sprintf("refused %s (%s)", e.Why, e.URL) }
func (e *RedirectError) Retryable() bool { return false }
func (e *RedirectError) Reason() string  { return "download::redirect" }
func (e *RedirectError) Help() string {
	return "The server sent the download somewhere the buildpack does not follow.\nCheck the mirror URL and its redirects. " + nothing
}

// KnobError is an operator knob that is not a usable number of seconds.
type KnobError struct{ Name, Value string }

func (e *KnobError) Error() string {
	return fmt.Sprintf("%s=%q: want a number of seconds from 0.001 to 3600", e.Name, e.Value)
}
func (e *KnobError) Reason() string { return "config::invalid" }
func (e *KnobError) Help() string {
	return "This is a setting of the build platform, not a config var: fix it where\nthe build's environment is set."
}
