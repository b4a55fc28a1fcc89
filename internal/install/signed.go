package install

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
)

// KeyFile is where a buildpack release may ship the signing key.
const KeyFile = "keys/public-key.asc"

// KeyObject is the signing key's name in the release bucket.
const KeyObject = "public-key.asc"

// Unpinned is a release the inventory does not pin, verified by signature.
type Unpinned struct {
	// Label is "latest" or a version.
	Label  string
	Arch   string
	Object string
	Trust  Trust
}

// Trust says which key may sign releases and where to get it.
type Trust struct {
	// Fingerprint is the pinned key fingerprint, or empty.
	Fingerprint string
	// KeyFile is a key shipped in the buildpack, or empty.
	KeyFile string
	// KeyURL is where to fetch the key when no file is shipped: the official
	// bucket, or an overridden source only when the fingerprint is pinned,
	// since a source that serves the file could otherwise serve its own key.
	KeyURL string
}

// TrustFor applies that rule to a configuration and a buildpack.
func TrustFor(cfg config.Config, inv inventory.Inventory, buildpackDir string) Trust {
	t := Trust{Fingerprint: inv.SigningKey, KeyURL: config.OfficialURL(KeyObject)}
	if p := filepath.Join(buildpackDir, KeyFile); fileExists(p) {
		t.KeyFile = p
	}
	if cfg.Overridden() && t.Fingerprint != "" {
		t.KeyURL = cfg.ObjectURL(KeyObject)
	}
	return t
}

func fileExists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}

// LoadKey loads the signing key according to the trust rules, from the key
// file or by downloading it, and says where it came from. The buildpack and
// the pin tool both use it, so they trust exactly the same keys.
func LoadKey(ctx context.Context, f Fetcher, t Trust) (*signature.Key, string, error) {
	var (
		data []byte
		from string
		err  error
	)
	if t.KeyFile != "" {
		data, err = os.ReadFile(t.KeyFile)
		from = "the key file " + t.KeyFile
	} else {
		data, err = f.GetBytes(ctx, t.KeyURL, signature.MaxArmoredSize)
		from = config.Redact(t.KeyURL)
	}
	if err != nil {
		return nil, from, &KeyFetchError{From: from, Err: err}
	}
	k, err := signature.ParseKey(data, t.Fingerprint)
	return k, from, err
}

// SignedMeta records an unpinned install so a later build can ask the source
// whether it changed.
type SignedMeta struct {
	Object       string `json:"object"`
	URL          string `json:"url"`
	SHA256       string `json:"sha256"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	Fingerprint  string `json:"fingerprint"`
}

// InstallSigned puts an unpinned release at binDir: downloaded, verified by
// its detached signature against the trusted key, then made executable and
// renamed into place. With a cache holding the object, one conditional
// request decides whether the cached copy is still current.
func (i *Installer) InstallSigned(ctx context.Context, t Target, root, binRel string, cache *Cache) (res Result, meta SignedMeta, err error) {
	u := t.Unpinned
	i.Out.Step("Installing Heroku AppLink Service Mesh %s", i.Out.Value(fmt.Sprintf("%s (linux-%s)", u.Label, u.Arch)))
	i.warnUnpinned(t)
	binDir, err := SafeMkdirAll(root, binRel)
	if err != nil {
		return Result{}, SignedMeta{}, err
	}
	dest := filepath.Join(binDir, BinaryName)
	legacy := filepath.Join(binDir, LegacyName(u.Arch))
	defer func() {
		if err != nil {
			os.Remove(dest)
			os.Remove(legacy)
		}
	}()

	var cached *SignedMeta
	if cache != nil {
		cached = cache.signedEntry(u.Object, t.URL)
	}
	req := fetch.Request{URL: t.URL, Dir: binDir}
	if cached != nil {
		req.ETag, req.LastModified = cached.ETag, cached.LastModified
	}
	i.Out.Detail("Downloading from %s", config.Redact(t.URL))
	start := i.Now()
	r, err := i.Fetcher.Get(ctx, req)
	if err != nil {
		return Result{}, SignedMeta{}, &DownloadError{Label: u.Label, Arch: u.Arch, URL: config.Redact(t.URL), Source: t.Source, Err: err}
	}
	if r.NotModified {
		tmp, size, cerr := cache.copySigned(cached, binDir)
		if cerr == nil {
			i.Out.Detail("Unchanged since it was cached (304 Not Modified); using the cached copy (%s)", output.Size(size))
			if err := placeExecutable(tmp, dest); err != nil {
				return Result{}, SignedMeta{}, err
			}
			if err := replaceSymlink(BinaryName, legacy); err != nil {
				return Result{}, SignedMeta{}, err
			}
			i.Out.Detail("Verified sha256:%s (recorded when its signature by key %s was verified)", cached.SHA256, cached.Fingerprint)
			return Result{Path: dest, FromCache: true, Size: size}, *cached, nil
		}
		i.Out.Detail("Discarding cached copy: %v", cerr)
		r, err = i.Fetcher.Get(ctx, fetch.Request{URL: t.URL, Dir: binDir})
		if err != nil {
			return Result{}, SignedMeta{}, &DownloadError{Label: u.Label, Arch: u.Arch, URL: config.Redact(t.URL), Source: t.Source, Err: err}
		}
	}
	tmp := r.Path
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	i.Out.Detail("Downloaded %s in %s", output.Size(r.Size), output.Duration(i.Now().Sub(start)))

	// The key is needed only now: a release unchanged since it was cached
	// costs the one conditional request above and nothing else.
	key, from, err := LoadKey(ctx, i.Fetcher, u.Trust)
	if err != nil {
		return Result{}, SignedMeta{}, err
	}
	sigURL := t.URL + ".asc"
	sig, err := i.Fetcher.GetBytes(ctx, sigURL, signature.MaxArmoredSize)
	if err != nil {
		return Result{}, SignedMeta{}, &SignatureFetchError{URL: config.Redact(sigURL), Err: err}
	}
	if err := key.Verify(tmp, sig); err != nil {
		return Result{}, SignedMeta{}, err
	}
	if err := placeExecutable(tmp, dest); err != nil {
		return Result{}, SignedMeta{}, err
	}
	if err := replaceSymlink(BinaryName, legacy); err != nil {
		return Result{}, SignedMeta{}, err
	}
	i.Out.Detail("Verified signature by key %s (from %s)", key.Fingerprint, from)
	i.Out.Detail("Digest sha256:%s", r.SHA256)
	if u.Trust.Fingerprint == "" {
		i.Out.Warning(fmt.Sprintf("The signing key %s is not pinned in this buildpack:\n"+
			"the release was verified against an unpinned key.", key.Fingerprint))
	}
	meta = SignedMeta{Object: u.Object, URL: t.URL, SHA256: r.SHA256, ETag: r.ETag, LastModified: r.LastModified, Fingerprint: key.Fingerprint}
	if cache != nil {
		if err := cache.storeSigned(dest, meta); err != nil {
			i.Out.Warning(fmt.Sprintf("The build cache could not be updated, so the next build will\ndownload the service mesh again: %v", err))
		}
	}
	return Result{Path: dest, Size: r.Size}, meta, nil
}

func (i *Installer) warnUnpinned(t Target) {
	u := t.Unpinned
	why := fmt.Sprintf("You asked for %s, which this buildpack does not pin", describeUnpinned(t))
	if t.Fallback {
		why = fmt.Sprintf("This buildpack pins no release for %s, so it installs latest", u.Arch)
	}
	i.Out.Warning(why + ".\nIt is verified by its OpenPGP signature instead of a pinned checksum.\n" +
		"For builds that install exactly the same bytes every time, set\n" +
		"HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION to a pinned version.")
}

func describeUnpinned(t Target) string {
	if t.Unpinned.Label == "latest" {
		return "latest"
	}
	return "version " + t.Unpinned.Label
}

// CheckUnchanged asks the source whether an unpinned release recorded in meta
// is still current, with one conditional request that carries no body when
// it is.
func (i *Installer) CheckUnchanged(ctx context.Context, meta SignedMeta, dir string) (bool, error) {
	if meta.ETag == "" && meta.LastModified == "" {
		return false, nil
	}
	r, err := i.Fetcher.Get(ctx, fetch.Request{URL: meta.URL, Dir: dir, ETag: meta.ETag, LastModified: meta.LastModified})
	if err != nil {
		return false, err
	}
	if r.Path != "" {
		os.Remove(r.Path)
	}
	return r.NotModified, nil
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
