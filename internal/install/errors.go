package install

import (
	"errors"
	"fmt"
	"path"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
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
		local  *fetch.LocalError
	)
	switch {
	case errors.As(e.Err, &status) && status.NotFound():
		return fmt.Sprintf("Version %s for %s was not found at %s\n(%s). If you use a mirror or bucket override, check that it holds\n%s. Nothing was installed.",
			e.Label, e.Arch, e.Source, e.URL, path.Base(e.URL))
	case errors.As(e.Err, &sum):
		return "The downloaded file does not match the checksum pinned in this buildpack.\n" +
			"The file may have been tampered with, or the source serves other bytes\n" +
			"than the release. Nothing was installed. Do not retry with another\n" +
			"source until you know why."
	case errors.As(e.Err, &large):
		return "The server sent far more data than a service mesh release. Check the\nsource; nothing was installed."
	case errors.As(e.Err, &local):
		return "This is a problem on the build machine (disk full or not writable).\nNothing was installed."
	default:
		return "This is usually a temporary network problem: retry the build.\n" +
			"Nothing was installed."
	}
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
	return "Retry the build. Nothing was installed."
}
