package install

import (
	"errors"
	"fmt"
	"path"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

// DownloadError is a failed download of a resolved artifact.
type DownloadError struct {
	// Label is the version, or "latest".
	Label  string
	Arch   string
	URL    string
	Source string
	Err    error
}

func downloadError(a inventory.Artifact, url, source string, err error) *DownloadError {
	return &DownloadError{Label: a.Version.String(), Arch: a.Arch, URL: url, Source: source, Err: err}
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

// PathError is a path the buildpack refuses or fails to create.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string { return fmt.Sprintf("cannot use %s: %v", e.Path, e.Err) }

func (e *PathError) Unwrap() error { return e.Err }

// Help says what to change.
func (e *PathError) Help() string {
	return "The buildpack installs into this path. Remove whatever is there from\n" +
		"your app's source (or make the directory writable) and deploy again."
}
