package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
)

// Binary is the program the release bucket publishes, and the command users
// put in their Procfile.
const Binary = "heroku-applink-service-mesh"

// KeyFile is where a buildpack release may ship the release signing key.
const KeyFile = "keys/public-key.asc"

// Object is the bucket's name for a release file: version is "latest" or a
// version, with or without its "v".
func Object(version, arch string) string {
	if version != "latest" {
		version = "v" + strings.TrimPrefix(version, "v")
	}
	return Binary + "-" + version + "-" + arch
}

// Names are every name a build gives the binary: the plain one, then the
// upstream buildpack's links to it, which published Procfiles use: the
// object name of latest for the architecture, and of the version when one
// was installed.
func Names(version, arch string) []string {
	names := []string{Binary, Object("latest", arch)}
	if version != "latest" {
		names = append(names, Object(version, arch))
	}
	return names
}

// Release is one resolved release of the mesh: what to install, where to
// download it from and how its bytes are trusted.
type Release struct {
	// Version is the version, or "latest".
	Version, Arch string
	// URL is where this build downloads the file. It may carry a mirror's
	// credentials: never print or store it.
	URL string
	// Public is the URL records name the release by: the inventory's for a
	// pinned release, else URL without credentials.
	Public string
	// Checksum is the pinned sha256; empty for a release the inventory does
	// not pin, which is verified by its signature instead.
	Checksum string
	Request  inventory.Request
	Source   config.Source
	// Pins are the versions the inventory pins for the architecture.
	Pins []string
	// Key says whose signature an unpinned release needs.
	Key KeySource
}

// KeySource is which key may sign an unpinned release and where it comes
// from: the pinned fingerprint (or none), a key file shipped in the
// buildpack, else a URL: the official bucket's, or an overridden source's
// only when the fingerprint is pinned, since a source that serves the
// release could otherwise serve its own key too.
type KeySource struct {
	Fingerprint, File, URL string
}

func (k KeySource) String() string {
	if k.File != "" {
		return "the key file " + k.File
	}
	return config.Redact(k.URL)
}

// Pinned reports whether the inventory pins the release's checksum.
func (r Release) Pinned() bool { return r.Checksum != "" }

// String identifies the release for the log: "0.2.2 (linux-amd64)".
func (r Release) String() string { return r.Version + " (linux-" + r.Arch + ")" }

// Resolve is where both platforms start: the config vars in envDir (an
// ENV_DIR or <platform>/env) resolved against the buildpack's inventory for
// one architecture. It touches neither the network nor the build's files,
// so bad input fails before anything changes.
func Resolve(envDir, buildpackDir, arch string) (Release, inventory.Inventory, error) {
	cfg, err := config.Read(envDir)
	if err != nil {
		return Release{}, inventory.Inventory{}, err
	}
	inv, err := inventory.Load(filepath.Join(buildpackDir, inventory.FileName))
	if err != nil {
		return Release{}, inventory.Inventory{}, err
	}
	rel := Release{Arch: arch, Request: cfg.Request, Source: cfg.Source, Pins: inv.Versions(arch)}
	a, err := inv.Resolve(cfg.Request, arch)
	var none *inventory.NoMatchError
	switch {
	case err == nil:
		// The pinned checksum applies wherever the file comes from.
		rel.Version, rel.Checksum, rel.Public, rel.URL = a.Version.String(), a.Checksum, a.URL, a.URL
		if cfg.Source.Overridden() {
			rel.URL = cfg.Source.URL(Object(rel.Version, arch))
		}
		return rel, inv, nil
	case !errors.As(err, &none) || cfg.Request.Kind() == inventory.Constraint:
		// A constraint no pin matches cannot be resolved: the bucket
		// cannot be listed.
		return Release{}, inventory.Inventory{}, err
	}
	rel.Version = "latest"
	if v := cfg.Request.ExactVersion(); v != nil {
		rel.Version = v.String()
	}
	rel.URL = cfg.Source.URL(Object(rel.Version, arch))
	rel.Public = config.Public(rel.URL)
	rel.Key = KeySource{Fingerprint: inv.SigningKey, URL: config.OfficialURL(config.KeyObject)}
	if cfg.Source.Overridden() && inv.SigningKey != "" {
		rel.Key.URL = cfg.Source.URL(config.KeyObject)
	}
	if info, err := os.Stat(filepath.Join(buildpackDir, KeyFile)); err == nil && info.Mode().IsRegular() {
		rel.Key.File = filepath.Join(buildpackDir, KeyFile)
	}
	return rel, inv, nil
}

// Installer runs the pipeline and narrates it.
type Installer struct {
	Fetch *fetch.Client
	Out   *output.Printer
	// Now is the clock the log's timings come from.
	Now func() time.Time
}

// Kept is a copy of a release an earlier build left: a classic cache entry,
// or the binary of a restored CNB layer.
type Kept struct {
	Root *os.Root
	// Name is the file within Root.
	Name string
	// Checksum is what its record says it holds.
	Checksum string
	// InPlace means Name is the installed binary itself (a restored layer):
	// keeping it needs no copy.
	InPlace bool
	// What is what the log calls it: "cached copy", "cached layer".
	What string
	// Problem is why its owner already knows it cannot be kept.
	Problem string
}

// Result is what an install put on PATH, and how.
type Result struct {
	Checksum string
	Size     int64
	// Signer is the fingerprint of the key that signed an unpinned release.
	Signer string
	// Reused means the earlier build's copy was kept; Discarded is why it
	// was not, when there was one.
	Reused    bool
	Discarded string
	// Download is how long the download took; zero when none was made.
	Download time.Duration
}

// Install puts rel's verified binary at binDir/heroku-applink-service-mesh
// within dst, mode 0755, with its links beside it: the kept copy when rel is
// pinned, the copy records the pinned checksum and its bytes still hash to
// it; else a download, hashed while it is written and verified before it
// may become executable. On error no unverified byte is left, and nothing
// this build did not make is removed.
func (i *Installer) Install(ctx context.Context, rel Release, dst *os.Root, binDir string, kept *Kept) (res Result, err error) {
	i.Out.Step("Installing Heroku AppLink Service Mesh %s", rel)
	i.announce(rel)
	// Every name the binary takes must be free for a file before a byte is
	// fetched: a folder there would fail the build only after the download.
	if err := dst.MkdirAll(binDir, 0o755); err != nil {
		return res, &fsutil.PathError{Path: filepath.Join(dst.Name(), binDir), Err: err}
	}
	names := Names(rel.Version, rel.Arch)
	for _, name := range names {
		if err := fsutil.MustBeFile(dst, path.Join(binDir, name)); err != nil {
			return res, err
		}
	}
	// f holds the bytes on their way to PATH: a temporary file named tmp,
	// or the kept binary itself.
	var (
		f      *os.File
		tmp    string
		placed bool
	)
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil && tmp != "" {
			dst.Remove(tmp)
		}
		if err != nil && placed {
			for _, name := range names {
				dst.Remove(path.Join(binDir, name))
			}
		}
	}()
	if kept != nil {
		if f, tmp, res, err = i.keep(ctx, rel, dst, binDir, kept); err != nil {
			return res, err
		}
	}
	if f == nil {
		discarded := res.Discarded
		if f, tmp, res, err = i.download(ctx, rel, dst, binDir); err != nil {
			return res, err
		}
		res.Discarded = discarded
	}
	// Only now, verified, may the bytes become executable and take the
	// name on PATH, in one step.
	if err := f.Chmod(0o755); err != nil {
		return res, &fsutil.PathError{Path: f.Name(), Err: err}
	}
	if tmp != "" {
		if err := dst.Rename(tmp, path.Join(binDir, Binary)); err != nil {
			return res, &fsutil.PathError{Path: filepath.Join(dst.Name(), binDir, Binary), Err: err}
		}
		tmp = ""
	}
	placed = true
	for _, name := range names[1:] {
		if err := fsutil.Symlink(dst, Binary, path.Join(binDir, name)); err != nil {
			return res, err
		}
	}
	if rel.Pinned() {
		i.Out.Detail("Verified %s (pinned checksum)", res.Checksum)
	} else {
		i.Out.Detail("Verified %s (signature by key %s from %s)", res.Checksum, res.Signer, rel.Key)
	}
	return res, nil
}

// keep decides about an earlier build's copy: kept, with its bytes open
// (copied beside the destination unless it is in place); or discarded,
// saying why, with f nil. An error says nothing against the copy: the
// build was cancelled, or the destination cannot take it.
func (i *Installer) keep(ctx context.Context, rel Release, dst *os.Root, binDir string, k *Kept) (f *os.File, tmp string, res Result, err error) {
	why := k.Problem
	switch {
	case !rel.Pinned():
		// An unpinned release is whatever its source publishes now: it is
		// downloaded and verified on every build, never reused.
		return nil, "", res, nil
	case why == "" && k.Checksum != rel.Checksum:
		why = fmt.Sprintf("it holds %s, not the pinned %s", cmpOr(k.Checksum, "no recorded checksum"), rel.Checksum)
	case why == "":
		var sum string
		if f, tmp, sum, res.Size, why, err = rehash(ctx, k, dst, binDir); err != nil {
			return nil, "", Result{}, err
		}
		if why == "" && sum == rel.Checksum {
			i.Out.Detail("Using the %s (%s)", k.What, output.Size(res.Size))
			return f, tmp, Result{Checksum: sum, Size: res.Size, Reused: true}, nil
		}
		if why == "" {
			f.Close()
			if tmp != "" {
				dst.Remove(tmp)
			}
			why = fmt.Sprintf("it no longer matches %s (got %s)", rel.Checksum, sum)
		}
	}
	i.Out.Detail("Discarding the %s: %s", k.What, why)
	return nil, "", Result{Discarded: why}, nil
}

// rehash hashes a kept copy's bytes again: in place, or while copying them
// into a temporary file beside the destination. Only a regular file within
// the size cap, with no other link to it, is read. Bytes that cannot be
// kept come back as a reason; a cancellation or a destination that cannot
// take the copy as an error.
func rehash(ctx context.Context, k *Kept, dst *os.Root, binDir string) (f *os.File, tmp, sum string, n int64, why string, err error) {
	src, info, err := fsutil.Open(k.Root, k.Name)
	var notRegular *fsutil.NotRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", "", 0, "the binary is missing", nil
	case errors.As(err, &notRegular):
		return nil, "", "", 0, "the binary is not a regular file (it is " + notRegular.Kind + ")", nil
	case err != nil:
		return nil, "", "", 0, "the binary cannot be read: " + err.Error(), nil
	case info.Size() > fetch.DefaultMaxSize:
		src.Close()
		return nil, "", "", 0, fmt.Sprintf("the binary is %d bytes, over the %d-byte limit (not read)", info.Size(), fetch.DefaultMaxSize), nil
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && k.InPlace && st.Nlink > 1 {
		// Making it executable would change every file it is linked to.
		src.Close()
		return nil, "", "", 0, fmt.Sprintf("the binary has %d hard links", st.Nlink), nil
	}
	h := sha256.New()
	w := io.Writer(h)
	f = src
	if !k.InPlace {
		defer src.Close()
		if f, tmp, err = fsutil.CreateTemp(dst, binDir); err != nil {
			return nil, "", "", 0, "", err
		}
		w = io.MultiWriter(f, h)
	}
	n, err = io.Copy(w, &ctxReader{ctx: ctx, r: src})
	if err == nil && n != info.Size() {
		err = errors.New("it changed while it was read")
	}
	if err != nil {
		f.Close()
		if tmp != "" {
			dst.Remove(tmp)
		}
		if ctx.Err() != nil {
			return nil, "", "", 0, "", ctx.Err()
		}
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Op == "write" {
			return nil, "", "", 0, "", &fsutil.PathError{Path: pe.Path, Err: pe.Err}
		}
		return nil, "", "", 0, "the binary cannot be read: " + err.Error(), nil
	}
	return f, tmp, "sha256:" + hex.EncodeToString(h.Sum(nil)), n, "", nil
}

// download fetches the release into a temporary file beside the
// destination and verifies it: by the pinned checksum, or by the detached
// signature the release key made.
func (i *Installer) download(ctx context.Context, rel Release, dst *os.Root, binDir string) (f *os.File, tmp string, res Result, err error) {
	var key *signature.Key
	if !rel.Pinned() {
		if key, err = LoadKey(ctx, i.Fetch, rel.Key); err != nil {
			return nil, "", res, err
		}
	}
	if f, tmp, err = fsutil.CreateTemp(dst, binDir); err != nil {
		return nil, "", res, err
	}
	i.Out.Detail("Downloading from %s", config.Redact(rel.URL))
	start := i.Now()
	if rel.Pinned() {
		res.Checksum, res.Size, err = i.Fetch.File(ctx, rel.URL, f)
		if err == nil && res.Checksum != rel.Checksum {
			err = &ChecksumError{Want: rel.Checksum, Got: res.Checksum, Size: res.Size}
		}
	} else {
		res.Checksum, res.Size, err = FetchSigned(ctx, i.Fetch, key, rel.URL, f)
		res.Signer = key.Fingerprint
	}
	if err != nil {
		return f, tmp, res, fmt.Errorf("failed to download the service mesh %s from %s: %w", rel, config.Redact(rel.URL), err)
	}
	res.Download = i.Now().Sub(start)
	i.Out.Detail("Downloaded %s in %s", output.Size(res.Size), output.Duration(res.Download))
	return f, tmp, res, nil
}

// announce says what was asked for, and, once, when the release is not
// pinned, with only the advice that can be followed.
func (i *Installer) announce(rel Release) {
	if rel.Pinned() {
		why := "requested " + rel.Request.String()
		if rel.Request.Kind() == inventory.Default {
			why = "newest pinned release"
		}
		i.Out.Detail("Version %s (%s)", rel.Version, why)
		return
	}
	text := "You asked for " + rel.Version + ", which this buildpack does not pin"
	if rel.Request.Kind() == inventory.Default {
		text = "This buildpack pins no release of the service mesh for " + rel.Arch + " yet, so it installs latest"
	}
	text += ".\nIt is downloaded on every build and verified by its OpenPGP signature\ninstead of a pinned checksum."
	if len(rel.Pins) > 0 {
		text += "\nFor the same bytes on every build, set HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION\nto a pinned version: " + strings.Join(rel.Pins, ", ") + "."
	}
	if rel.Key.Fingerprint == "" {
		text += "\nThe signing key's fingerprint is not pinned in this buildpack either: the\nkey is trusted as " + rel.Key.String() + " serves it."
	}
	i.Out.Warning(text)
}

// LoadKey loads the release signing key by the trust rules of ks. The
// buildpack and the pin tool both use it, so they trust the same keys.
func LoadKey(ctx context.Context, c *fetch.Client, ks KeySource) (*signature.Key, error) {
	var (
		data []byte
		err  error
	)
	if ks.File != "" {
		var root *os.Root
		if root, err = os.OpenRoot(filepath.Dir(ks.File)); err == nil {
			data, err = fsutil.ReadFile(root, filepath.Base(ks.File), signature.MaxSize)
			root.Close()
		}
		var large *fsutil.TooLargeError
		if errors.As(err, &large) {
			err = &signature.KeyError{Problem: "the key file is too large"}
		}
	} else {
		data, err = c.Bytes(ctx, ks.URL, signature.MaxSize)
	}
	if err == nil {
		var key *signature.Key
		if key, err = signature.ParseKey(data, ks.Fingerprint); err == nil {
			return key, nil
		}
	}
	return nil, fmt.Errorf("failed to get the release signing key from %s: %w", ks, err)
}

// FetchSigned downloads url into f and verifies it with its detached
// signature, url + ".asc", by key; it returns the sha256 and the size of
// the verified bytes. The buildpack and the pin tool both use it.
func FetchSigned(ctx context.Context, c *fetch.Client, key *signature.Key, url string, f *os.File) (string, int64, error) {
	sig, err := c.Bytes(ctx, url+".asc", signature.MaxSize)
	if err != nil {
		return "", 0, fmt.Errorf("failed to download the signature %s.asc: %w", config.Redact(url), err)
	}
	sum, n, err := c.File(ctx, url, f)
	if err != nil {
		return "", n, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", n, &fsutil.PathError{Path: f.Name(), Err: err}
	}
	if err := key.Verify(&ctxReader{ctx: ctx, r: io.LimitReader(f, n)}, sig); err != nil {
		return "", n, err
	}
	return sum, n, nil
}

// ctxReader stops a local read when the build is cancelled.
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

// ChecksumError is a complete download whose sha256 is not the pinned one.
type ChecksumError struct {
	Want, Got string
	Size      int64
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("checksum mismatch: expected %s, got %s (%d bytes)", e.Want, e.Got, e.Size)
}

// Help says what this means.
func (e *ChecksumError) Help() string {
	return "The downloaded file does not match the checksum pinned in this buildpack.\n" +
		"The file may have been tampered with, or the source serves other bytes\n" +
		"than the release. Nothing was installed. Do not retry with another\n" +
		"source until you know why."
}

// Reason names the failure for the build report.
func (e *ChecksumError) Reason() string { return "verify::checksum-mismatch" }

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
