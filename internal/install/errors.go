package install

import (
	"errors"
	"fmt"
	"path"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
)

// DownloadError is a failed download of a resolved release.
type DownloadError struct {
	// Label is the version, or "latest".
	Label  string
	Arch   string
	URL    string
	Source string
	Err    error
}

func (e *DownloadError) Error() string {
	return fmt.Sprintf("failed to download the service mesh %s (linux-%s) from %s: %v", e.Label, e.Arch, e.URL, e.Err)
}

func (e *DownloadError) Unwrap() error { return e.Err }

// Help explains the failure in terms of what the user can do about it.
func (e *DownloadError) Help() string {
	var (
		status *fetch.StatusError
		sum    *fetch.ChecksumMismatchError
		large  *fetch.TooLargeError
	)
	switch {
	case errors.As(e.Err, &status) && status.NotFound():
		return fmt.Sprintf("Version %s for %s was not found at %s\n(%s). If you use a mirror or bucket override, check that it holds\n%s. Nothing was installed.",
			e.Label, e.Arch, e.Source, e.URL, path.Base(e.URL))
	case errors.As(e.Err, &status) && status.Code == 401:
		return "The server asked for credentials, or refused the ones in\n" +
			"HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL (user:password@, or a token as the\n" +
			"user name). Check them. Nothing was installed."
	case errors.As(e.Err, &status) && status.Code == 407:
		return "A proxy between the build and the server requires authentication: check\n" +
			"the proxy settings (HTTPS_PROXY). Nothing was installed."
	case errors.As(e.Err, &status) && status.Code < 500 && status.Code != 429 && status.Code != 408:
		return fmt.Sprintf("The server refused the request (%s); retrying will not change that.\n"+
			"Check the mirror or bucket, and its URL. Nothing was installed.", status.Status)
	case errors.As(e.Err, &sum):
		return "The downloaded file does not match the checksum pinned in this buildpack.\n" +
			"The file may have been tampered with, or the source serves other bytes\n" +
			"than the release. Nothing was installed. Do not retry with another\n" +
			"source until you know why."
	case errors.As(e.Err, &large):
		return "The server sent far more data than a service mesh release. Check the\nsource; nothing was installed."
	}
	if advice, ok := fetchAdvice(e.Err); ok {
		return advice
	}
	return "This is usually a temporary network problem: retry the build.\n" +
		"Nothing was installed."
}

// fetchAdvice explains the failures of any download whose cause is not the
// network: they need a fix, not a retry.
func fetchAdvice(err error) (string, bool) {
	var (
		cert  *fetch.TLSError
		page  *fetch.WebPageError
		slow  *fetch.TooSlowError
		local *fetch.LocalError
	)
	switch {
	case errors.As(err, &cert):
		return "The server's TLS certificate could not be verified, so nothing was\n" +
			"downloaded from it; retrying will not help. If the mirror's certificate\n" +
			"comes from a private authority, add that authority to the build's\n" +
			"environment with SSL_CERT_FILE (a PEM file) or SSL_CERT_DIR. Nothing was\n" +
			"installed.", true
	case errors.As(err, &page):
		return "The address answered with a page instead of the file: a wrong mirror\n" +
			"URL, a login or error page, or a proxy that rewrites downloads. Check\n" +
			"the mirror URL and the proxy settings (HTTPS_PROXY, NO_PROXY).\n" +
			"Nothing was installed.", true
	case errors.As(err, &slow):
		return "The download did not finish in time. The build platform can allow\n" +
			"longer with HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE (seconds) in the\n" +
			"build's environment. Nothing was installed.", true
	case errors.As(err, &local):
		if advice, ok := files.DiskAdvice(local.Err, local.Dir); ok {
			return advice, true
		}
		return "This is a problem on the build machine (a directory that is not\n" +
			"writable). Nothing was installed.", true
	}
	return "", false
}

// KeyFetchError is a signing key that could not be read or downloaded.
type KeyFetchError struct {
	From string
	Err  error
}

func (e *KeyFetchError) Error() string {
	return fmt.Sprintf("failed to get the release signing key from %s: %v", e.From, e.Err)
}

func (e *KeyFetchError) Unwrap() error { return e.Err }

// Help says what to do.
func (e *KeyFetchError) Help() string {
	if advice, ok := fetchAdvice(e.Err); ok {
		return advice
	}
	return "An unpinned release is verified by its signature, which needs the release\n" +
		"signing key. Retry the build, or set HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION\n" +
		"to a version this buildpack pins. Nothing was installed."
}

// SignatureFetchError is a missing or unreachable detached signature.
type SignatureFetchError struct {
	URL string
	Err error
}

func (e *SignatureFetchError) Error() string {
	return fmt.Sprintf("failed to download the signature %s: %v", e.URL, e.Err)
}

func (e *SignatureFetchError) Unwrap() error { return e.Err }

// Help says what to do.
func (e *SignatureFetchError) Help() string {
	var status *fetch.StatusError
	if errors.As(e.Err, &status) && status.NotFound() {
		return "The release has no signature at that address, so it cannot be verified\n" +
			"and was not installed. Check the mirror or bucket, or use a pinned version."
	}
	if advice, ok := fetchAdvice(e.Err); ok {
		return advice
	}
	return "Retry the build. Nothing was installed."
}
