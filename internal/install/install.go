package install

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
)

// Fetcher downloads: Get for a release file (conditional or not), GetBytes
// for small files (a key, a signature).
type Fetcher interface {
	Get(ctx context.Context, req fetch.Request) (fetch.Result, error)
	GetBytes(ctx context.Context, url string, limit int64) ([]byte, error)
}

// Copy is a copy of a release an earlier build left: an entry of the
// classic build cache, or the binary of a restored CNB layer.
type Copy struct {
	Record Record
	// Path holds the bytes.
	Path string
	// InPlace means Path is the installed binary itself (a restored layer):
	// keeping it needs no copy.
	InPlace bool
	// Name is what the log calls it: "cached copy", "cached layer".
	Name string
}

// Store holds copies of releases between builds.
type Store interface {
	// Lookup returns the copy the store holds for rel; nil and nil when it
	// holds none; nil and the reason when what it holds cannot be used.
	Lookup(rel Release) (*Copy, *Discard)
	// Drop removes what Lookup found, once it will not be kept.
	Drop(rel Release) error
	// Name is what the log calls the store's copy.
	Name() string
}

// Installer runs the pipeline.
type Installer struct {
	Fetcher Fetcher
	Out     *output.Printer
	// Now is the clock used for the timings in the log.
	Now func() time.Time
}

// Installed is what an install put on PATH.
type Installed struct {
	Record Record
	// Path is the binary.
	Path string
	Size int64
	// Reused means an earlier build's copy was kept.
	Reused bool
}

// obtained is verified-to-be bytes on their way to PATH: a temporary file
// in the bin directory (or the binary itself, for a copy kept in place).
type obtained struct {
	path    string
	size    int64
	sum     digest.Digest
	inPlace bool
	// kept is the earlier copy's record when the bytes are that copy's.
	kept *Record
	// etag and lastModified are the source's validators for fresh bytes.
	etag, lastModified string
}

// Install puts rel's verified binary at root/binRel/heroku-applink-service-mesh,
// mode 0755, with the legacy arch-specific symlink beside it, keeping the
// store's copy when this build's trust rules accept it. binRel is created
// under root without following a link. On error, neither name exists and
// no unverified byte is left.
func (i *Installer) Install(ctx context.Context, rel Release, root, binRel string, store Store) (res Installed, err error) {
	i.Out.Step("Installing Heroku AppLink Service Mesh %s", i.Out.Value(rel.String()))
	i.announce(rel)
	// Ask the store before the bin directory exists: creating it must not
	// look like a copy an earlier build left.
	var (
		prev    *Copy
		problem *Discard
	)
	if store != nil {
		prev, problem = store.Lookup(rel)
	}
	binDir, err := files.MkdirUnder(root, binRel)
	if err != nil {
		return Installed{}, err
	}
	dest := filepath.Join(binDir, source.MeshBinary)
	legacy := filepath.Join(binDir, LegacyName(rel.Arch))
	var got obtained
	defer func() {
		if err != nil {
			if got.path != "" && !got.inPlace {
				os.Remove(got.path)
			}
			os.Remove(dest)
			os.Remove(legacy)
		}
	}()

	got, err = i.obtain(ctx, rel, binDir, store, prev, problem)
	if err != nil {
		return Installed{}, err
	}
	signer := ""
	switch {
	case got.kept != nil:
		signer = got.kept.Signer
	case !rel.Pinned():
		if signer, err = i.verifySignature(ctx, rel, got.path); err != nil {
			return Installed{}, err
		}
	}
	// From here on the bytes are verified; only now may they become
	// executable and take the name on PATH.
	if err := place(got, dest); err != nil {
		return Installed{}, err
	}
	if err := replaceSymlink(source.MeshBinary, legacy); err != nil {
		return Installed{}, err
	}
	rec := rel.record(got.sum, signer)
	// An unpinned release keeps the validators that let a later build ask
	// its source whether it changed; a pinned one needs none.
	switch {
	case rel.Pinned():
	case got.kept != nil:
		rec.ETag, rec.LastModified = got.kept.ETag, got.kept.LastModified
	default:
		rec.ETag, rec.LastModified = got.etag, got.lastModified
	}
	i.reportVerified(rel, rec, got.kept != nil)
	return Installed{Record: rec, Path: dest, Size: got.size, Reused: got.kept != nil}, nil
}

// obtain gets the bytes: the store's copy when it may be kept, after the
// one conditional request an unpinned release needs; else a download.
func (i *Installer) obtain(ctx context.Context, rel Release, binDir string, store Store, c *Copy, problem *Discard) (obtained, error) {
	var prev *obtained
	if store != nil {
		if c != nil && problem == nil {
			problem = rel.check(c.Record)
		}
		if c != nil && problem == nil {
			o, p := rehash(c, binDir)
			prev, problem = o, p
		}
		if problem != nil {
			i.Out.Detail("Discarding the %s: %s", store.Name(), problem)
			if err := store.Drop(rel); err != nil {
				return obtained{}, err
			}
		}
	}
	req := fetch.Request{URL: rel.URL, Dir: binDir, Want: rel.Pin}
	switch {
	case prev != nil && rel.Pinned():
		i.Out.Detail("Using the %s (%s)", store.Name(), output.Size(prev.size))
		return *prev, nil
	case prev != nil:
		req.ETag, req.LastModified = prev.kept.ETag, prev.kept.LastModified
	}
	i.Out.Detail("Downloading from %s", source.Redact(rel.URL))
	start := i.Now()
	r, err := i.Fetcher.Get(ctx, req)
	if err != nil {
		if prev != nil && !prev.inPlace {
			os.Remove(prev.path)
		}
		return obtained{}, &DownloadError{Label: rel.Version, Arch: rel.Arch, URL: source.Redact(rel.URL), Source: rel.Source.String(), Err: err}
	}
	if r.NotModified {
		i.Out.Detail("Unchanged at its source (304 Not Modified): using the %s (%s)", store.Name(), output.Size(prev.size))
		if r.ETag != "" {
			prev.kept.ETag = r.ETag
		}
		return *prev, nil
	}
	if prev != nil {
		i.Out.Detail("Discarding the %s: %s", store.Name(), &Discard{Problem: ChangedAtSource})
		if !prev.inPlace {
			os.Remove(prev.path)
		}
		if err := store.Drop(rel); err != nil {
			os.Remove(r.Path)
			return obtained{}, err
		}
	}
	i.Out.Detail("Downloaded %s in %s", output.Size(r.Size), output.Duration(i.Now().Sub(start)))
	return obtained{path: r.Path, size: r.Size, sum: r.Digest, etag: r.ETag, lastModified: r.LastModified}, nil
}

// rehash hashes a kept copy's bytes again: a copy in place where it lies,
// any other into a temporary file beside the destination. Bytes that no
// longer match their record are a Discard.
func rehash(c *Copy, binDir string) (*obtained, *Discard) {
	rec := c.Record
	src, err := os.Open(c.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &Discard{Problem: BadCopy, Was: "the cached binary is missing"}
		}
		return nil, &Discard{Problem: BadCopy, Was: "the cached binary cannot be read: " + files.Cause(err).Error()}
	}
	defer src.Close()
	o := &obtained{path: c.Path, inPlace: c.InPlace, kept: &rec}
	var (
		sum digest.Digest
		n   int64
	)
	if c.InPlace {
		sum, n, err = digest.Copy(discard{}, src)
	} else {
		tmp, terr := os.CreateTemp(binDir, ".cached-*")
		if terr != nil {
			return nil, &Discard{Problem: BadCopy, Was: "it cannot be copied: " + files.Cause(terr).Error()}
		}
		sum, n, err = digest.Copy(tmp, src)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		o.path = tmp.Name()
	}
	if err == nil && sum != rec.Checksum {
		err = fmt.Errorf("it no longer matches %s (got %s)", rec.Checksum, sum)
	}
	if err != nil {
		if !c.InPlace {
			os.Remove(o.path)
		}
		return nil, &Discard{Problem: BadCopy, Was: err.Error()}
	}
	o.size, o.sum = n, sum
	return o, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// verifySignature checks an unpinned release's detached signature against
// the key the trust rules allow, and returns the key's fingerprint.
func (i *Installer) verifySignature(ctx context.Context, rel Release, path string) (string, error) {
	key, err := LoadKey(ctx, i.Fetcher, rel.Trust)
	if err != nil {
		return "", err
	}
	sigURL := rel.URL + ".asc"
	sig, err := i.Fetcher.GetBytes(ctx, sigURL, signature.MaxArmoredSize)
	if err != nil {
		return "", &SignatureFetchError{URL: source.Redact(sigURL), Err: err}
	}
	if err := key.Verify(path, sig); err != nil {
		return "", err
	}
	return key.Fingerprint, nil
}

// announce says what was asked for, and warns when the release is not
// pinned.
func (i *Installer) announce(rel Release) {
	if rel.Pinned() {
		why := "requested " + rel.Request.String()
		if rel.Request.IsDefault() {
			why = "newest pinned release"
		}
		i.Out.Detail("Version %s (%s)", rel.Version, why)
		return
	}
	why := "You asked for version " + rel.Version + ", which this buildpack does not pin"
	switch {
	case rel.Fallback:
		why = "This buildpack pins no release for " + rel.Arch + ", so it installs latest"
	case rel.Version == "latest":
		why = "You asked for latest, which this buildpack does not pin"
	}
	i.Out.Warning(why + ".\nIt is verified by its OpenPGP signature instead of a pinned checksum.\n" +
		"For builds that install exactly the same bytes every time, set\n" +
		"HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION to a pinned version.")
}

func (i *Installer) reportVerified(rel Release, rec Record, kept bool) {
	if rel.Pinned() {
		i.Out.Detail("Verified %s (pinned checksum)", rec.Checksum)
		return
	}
	when := ""
	if kept {
		when = ", checked when it was cached"
	}
	i.Out.Detail("Verified %s (signature by key %s from %s%s)", rec.Checksum, rec.Signer, rel.Trust.from(), when)
	if rel.Trust.Fingerprint == "" {
		i.Out.Warning(fmt.Sprintf("The signing key %s is not pinned in this buildpack:\n"+
			"the release was verified against an unpinned key.", rec.Signer))
	}
}

// place makes verified bytes executable and gives them the name on PATH in
// one step, so that name never holds a partial or unverified file.
func place(got obtained, dest string) error {
	if err := os.Chmod(got.path, 0o755); err != nil {
		return fmt.Errorf("failed to make the service mesh executable: %w", err)
	}
	if got.inPlace {
		return nil
	}
	if err := os.Rename(got.path, dest); err != nil {
		return fmt.Errorf("failed to install the service mesh: %w", err)
	}
	return nil
}

func replaceSymlink(target, link string) error {
	tmp := link + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("failed to link %s: %w", filepath.Base(link), err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to link %s: %w", filepath.Base(link), err)
	}
	return nil
}

// Remove deletes what Install put in binDir, for a build that fails after
// installing: a failed build must not leave a binary behind.
func Remove(binDir, arch string) {
	os.Remove(filepath.Join(binDir, source.MeshBinary))
	os.Remove(filepath.Join(binDir, LegacyName(arch)))
}
