package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
)

// maxReleaseSize is the largest release file the buildpack handles, cached
// or downloaded.
const maxReleaseSize = fetch.DefaultMaxSize

// Fetcher downloads: Get for a release file, GetBytes
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
	// Discarded is why an earlier build's copy was not kept, if there was
	// one and it was not.
	Discarded *Discard
	// Download is how long the download took; zero when none was made.
	Download time.Duration
}

// obtained is bytes on their way to PATH: a temporary file in the bin
// directory, or the binary itself for a copy kept in place.
type obtained struct {
	path    string
	size    int64
	sum     digest.Digest
	inPlace bool
	// kept is the earlier copy's record when the bytes are that copy's.
	kept *Record
	// sig is the signature the source publishes now, when it was fetched
	// to judge the earlier copy: fresh bytes are verified against it.
	sig []byte
	// discarded is why the earlier copy was not kept; took is how long the
	// download took.
	discarded *Discard
	took      time.Duration
}

// trust is what this build accepts for an unpinned release, established
// once: the signer's fingerprint, and the key itself once it was loaded.
type trust struct {
	signer string
	key    *signature.Key
}

// Install puts rel's verified binary at root/binRel/heroku-applink-service-mesh,
// mode 0755, with the upstream's other names for it (source.LinkNames) as
// relative symlinks beside it, keeping the
// store's copy when this build's trust rules accept it. binRel is created
// under root without following a link. On error, no unverified byte is left
// and nothing this build did not make is removed.
func (i *Installer) Install(ctx context.Context, rel Release, root, binRel string, store Store) (res Installed, err error) {
	i.Out.Step("Installing Heroku AppLink Service Mesh %s", rel.String())
	i.announce(rel)
	var tr trust
	if !rel.Pinned() {
		if tr, err = i.allowed(ctx, rel, store); err != nil {
			return Installed{}, err
		}
	}
	// The earlier copy is judged before the bin directory is made: making it
	// must not look like a copy, and a copy's broken directory must go first.
	var (
		prev      *Copy
		discarded *Discard
	)
	if store != nil {
		prev, discarded = store.Lookup(rel)
		if prev != nil && discarded == nil {
			discarded = rel.check(prev.Record, tr.signer)
		}
		if discarded != nil {
			if err := i.discard(store, rel, discarded); err != nil {
				return Installed{}, err
			}
			prev = nil
		}
	}
	binDir, err := files.MkdirUnder(root, binRel)
	if err != nil {
		return Installed{}, err
	}
	// What a build that was killed left behind (best effort); a build still
	// running beside this one keeps its files.
	files.RemoveLeftovers(binDir)
	dest := filepath.Join(binDir, source.MeshBinary)
	var (
		got    obtained
		placed bool
	)
	// A failed install removes only what it made: its temporary files, and
	// the names it gave the binary in this run. A binary another build put
	// there stays.
	defer func() {
		if err != nil {
			if got.path != "" && !got.inPlace {
				os.Remove(got.path)
			}
			if placed {
				Remove(binDir, rel)
			}
		}
	}()

	got, err = i.obtain(ctx, rel, &tr, binDir, store, prev)
	if err != nil {
		return Installed{}, err
	}
	var signer, sig string
	switch {
	case got.kept != nil:
		signer, sig = got.kept.Signer, got.kept.Signature
	case !rel.Pinned():
		if signer, sig, err = i.verifySignature(ctx, rel, &tr, got.path, got.sig); err != nil {
			return Installed{}, err
		}
	}
	// From here on the bytes are verified; only now may they become
	// executable and take the name on PATH.
	if err := place(got, dest); err != nil {
		return Installed{}, err
	}
	placed = true
	for _, name := range source.LinkNames(rel.Version, rel.Arch) {
		if err := replaceSymlink(source.MeshBinary, filepath.Join(binDir, name)); err != nil {
			return Installed{}, err
		}
	}
	rec := rel.record(got.sum, signer, sig)
	i.reportVerified(rel, rec)
	if got.discarded != nil {
		discarded = got.discarded
	}
	return Installed{Record: rec, Path: dest, Size: got.size, Reused: got.kept != nil, Discarded: discarded, Download: got.took}, nil
}

// allowed establishes whose signature this build accepts for an unpinned
// release: the pinned fingerprint, else the key file's, else (with an
// earlier copy to judge) that of the key the official bucket serves now.
func (i *Installer) allowed(ctx context.Context, rel Release, store Store) (trust, error) {
	switch {
	case rel.Trust.Fingerprint != "":
		return trust{signer: rel.Trust.Fingerprint}, nil
	case rel.Trust.KeyFile != "" || store != nil:
		key, err := LoadKey(ctx, i.Fetcher, rel.Trust)
		if err != nil {
			return trust{}, err
		}
		return trust{signer: key.Fingerprint, key: key}, nil
	}
	return trust{}, nil
}

func (i *Installer) discard(store Store, rel Release, why *Discard) error {
	i.Out.Detail("Discarding the %s: %s", store.Name(), why)
	return store.Drop(rel)
}

// obtain gets the bytes: the store's copy when it may be kept (for an
// unpinned release, while its source publishes the signature kept with
// it); else a download.
func (i *Installer) obtain(ctx context.Context, rel Release, tr *trust, binDir string, store Store, c *Copy) (obtained, error) {
	var (
		discarded *Discard
		sig       []byte
	)
	if c != nil && !rel.Pinned() {
		// An unpinned release is whatever its source publishes under its
		// name now. The kept copy's signature proves the key signed those
		// bytes once, not that they are what the name stands for today (an
		// older signed release would pass): the copy stands only while the
		// source publishes the very signature kept with it. Asked first, so
		// a release that moved on costs no read of the old bytes.
		var err error
		if sig, err = i.signatureAt(ctx, rel); err != nil {
			return obtained{}, err
		}
		if string(sig) != c.Record.Signature {
			discarded, c = &Discard{Problem: ChangedAtSource}, nil
			if err := i.discard(store, rel, discarded); err != nil {
				return obtained{}, err
			}
		}
	}
	if c != nil {
		o, problem, err := rehash(ctx, c, binDir)
		if err == nil && problem == nil && !rel.Pinned() {
			if problem, err = i.recheck(ctx, rel, tr, o); problem != nil || err != nil {
				if !o.inPlace {
					os.Remove(o.path)
				}
			}
		}
		if err != nil {
			// A cancelled build, or a build directory that cannot take the
			// copy: no evidence against the cached file, which stays.
			return obtained{}, err
		}
		if problem == nil {
			what := "Using the %s (%s)"
			if !rel.Pinned() {
				what = "Unchanged at its source (the same signature): using the %s (%s)"
			}
			i.Out.Detail(what, store.Name(), output.Size(o.size))
			return *o, nil
		}
		discarded = problem
		if err := i.discard(store, rel, problem); err != nil {
			return obtained{}, err
		}
	}
	i.Out.Detail("Downloading from %s", source.Redact(rel.URL))
	start := i.Now()
	r, err := i.Fetcher.Get(ctx, fetch.Request{URL: rel.URL, Dir: binDir, Want: rel.Pin})
	if err != nil {
		return obtained{}, &DownloadError{Label: rel.Version, Arch: rel.Arch, URL: source.Redact(rel.URL), Source: rel.Source.String(), Err: err}
	}
	took := i.Now().Sub(start)
	i.Out.Detail("Downloaded %s in %s", output.Size(r.Size), output.Duration(took))
	return obtained{path: r.Path, size: r.Size, sum: r.Digest, sig: sig, discarded: discarded, took: took}, nil
}

// signatureAt fetches the detached signature an unpinned release's source
// publishes beside it.
func (i *Installer) signatureAt(ctx context.Context, rel Release) ([]byte, error) {
	sigURL := rel.URL + ".asc"
	sig, err := i.Fetcher.GetBytes(ctx, sigURL, signature.MaxArmoredSize)
	if err != nil {
		return nil, &SignatureFetchError{URL: source.Redact(sigURL), Err: err}
	}
	return sig, nil
}

// rehash hashes a kept copy's bytes again: a copy in place where it lies,
// any other into a temporary file beside the destination. Only a regular
// file within the size cap is read, and the read stops when the build is
// cancelled. Bytes that no longer match their record are a Discard; a
// cancellation, or a bin directory that cannot take the copy, is an error
// that says nothing against the copy.
func rehash(ctx context.Context, c *Copy, binDir string) (*obtained, *Discard, error) {
	rec := c.Record
	src, info, err := files.OpenRegular(c.Path)
	var notRegular *files.NotRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &Discard{Problem: BadCopy, Was: "the cached binary is missing"}, nil
	case errors.As(err, &notRegular):
		return nil, &Discard{Problem: BadCopy, Was: "the cached binary is not a regular file (it is " + notRegular.Kind + ")"}, nil
	case err != nil:
		return nil, &Discard{Problem: BadCopy, Was: "the cached binary cannot be read: " + files.Cause(err).Error()}, nil
	}
	defer src.Close()
	if info.Size() > maxReleaseSize {
		return nil, &Discard{Problem: BadCopy, Was: fmt.Sprintf("the cached binary is %d bytes, over the %d-byte limit (not read)", info.Size(), maxReleaseSize)}, nil
	}
	o := &obtained{path: c.Path, inPlace: c.InPlace, kept: &rec}
	in := &ctxReader{ctx: ctx, r: io.LimitReader(src, maxReleaseSize+1)}
	var (
		sum digest.Digest
		n   int64
	)
	if c.InPlace {
		sum, n, err = digest.Copy(io.Discard, in)
	} else {
		tmp, terr := files.CreateTemp(binDir, files.CopyPrefix)
		if terr != nil {
			return nil, nil, &files.PathError{Path: filepath.Join(binDir, source.MeshBinary), Err: files.Cause(terr)}
		}
		sum, n, err = digest.Copy(tmp, in)
		if cerr := tmp.Close(); err == nil && cerr != nil {
			err = &digest.WriteError{Err: cerr}
		}
		o.path = tmp.Name()
	}
	var werr *digest.WriteError
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case errors.As(err, &werr):
		err = &files.PathError{Path: filepath.Join(binDir, source.MeshBinary), Err: files.Cause(werr.Err)}
	case err != nil:
		err = fmt.Errorf("it cannot be read: %w", err)
	case sum != rec.Checksum:
		err = fmt.Errorf("it no longer matches %s (got %s)", rec.Checksum, sum)
	}
	if err != nil {
		if !c.InPlace {
			os.Remove(o.path)
		}
		if ctx.Err() != nil || werr != nil {
			return nil, nil, err
		}
		return nil, &Discard{Problem: BadCopy, Was: err.Error()}, nil
	}
	o.size, o.sum = n, sum
	return o, nil, nil
}

// VerifyFile checks an armoured detached signature with key over the
// regular file at path, read without following a link and stopping when
// ctx is done. The buildpack and the pin tool verify files with it.
func VerifyFile(ctx context.Context, key *signature.Key, path string, armoredSig []byte) error {
	f, _, err := files.OpenRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return key.Verify(&ctxReader{ctx: ctx, r: f}, armoredSig)
}

// ctxReader stops a local copy when the build is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// key is the signing key this build accepts, loaded once.
func (i *Installer) key(ctx context.Context, rel Release, tr *trust) (*signature.Key, error) {
	if tr.key == nil {
		key, err := LoadKey(ctx, i.Fetcher, rel.Trust)
		if err != nil {
			return nil, err
		}
		tr.key = key
	}
	return tr.key, nil
}

// verifySignature checks an unpinned release's detached signature (sig,
// or when nil the one its source publishes) against the key the trust
// rules allow, and returns the key's fingerprint and the signature, which
// the record keeps.
func (i *Installer) verifySignature(ctx context.Context, rel Release, tr *trust, path string, sig []byte) (string, string, error) {
	key, err := i.key(ctx, rel, tr)
	if err != nil {
		return "", "", err
	}
	if sig == nil {
		if sig, err = i.signatureAt(ctx, rel); err != nil {
			return "", "", err
		}
	}
	if err := VerifyFile(ctx, key, path, sig); err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		return "", "", err
	}
	return key.Fingerprint, string(sig), nil
}

// recheck verifies the signature an earlier build recorded over the kept
// bytes, the ones that will be placed, with the key this build accepts:
// the record lies beside the bytes, so whoever could change the one could
// change the other, and only the signature ties them to the release key.
// The check needs no request.
func (i *Installer) recheck(ctx context.Context, rel Release, tr *trust, o *obtained) (*Discard, error) {
	key, err := i.key(ctx, rel, tr)
	if err != nil {
		return nil, err
	}
	err = VerifyFile(ctx, key, o.path, []byte(o.kept.Signature))
	var bad *signature.BadSignatureError
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &bad):
		return &Discard{Problem: BadSignature, Was: bad.Reason}, nil
	case err != nil:
		return &Discard{Problem: BadCopy, Was: "the cached binary cannot be read: " + files.Cause(err).Error()}, nil
	}
	return nil, nil
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

func (i *Installer) reportVerified(rel Release, rec Record) {
	if rel.Pinned() {
		i.Out.Detail("Verified %s (pinned checksum)", rec.Checksum)
		return
	}
	i.Out.Detail("Verified %s (signature by key %s from %s)", rec.Checksum, rec.Signer, rel.Trust.from())
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
	tmp := filepath.Join(filepath.Dir(link), files.TempName(files.TempPrefix)+strconv.FormatUint(rand.Uint64(), 10))
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("failed to link %s: %w", filepath.Base(link), err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to link %s: %w", filepath.Base(link), err)
	}
	return nil
}

// Remove deletes what Install put in binDir for rel, for a build that fails
// after installing: a failed build must not leave a binary behind.
func Remove(binDir string, rel Release) {
	for _, name := range Names(rel) {
		os.Remove(filepath.Join(binDir, name))
	}
}

// Names are every name Install gives rel's binary: the plain one first,
// then its links.
func Names(rel Release) []string {
	return append([]string{source.MeshBinary}, source.LinkNames(rel.Version, rel.Arch)...)
}
