package install

import (
	"cmp"
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

// Binary is the program the bucket publishes and Procfiles run.
const Binary = "heroku-applink-service-mesh"

// KeyFile is where a buildpack release may ship the release signing key.
const KeyFile = "keys/public-key.asc"

// Object is the bucket's name for a version's file, or latest's.
func Object(version, arch string) string {
	if version != "latest" {
		version = "v" + strings.TrimPrefix(version, "v")
	}
	return Binary + "-" + version + "-" + arch
}

// Names are the binary's own name, then the upstream buildpack's links,
// which published Procfiles use.
func Names(version, arch string) []string {
	names := []string{Binary, Object("latest", arch)}
	if version != "latest" {
		names = append(names, Object(version, arch))
	}
	return names
}

// Release is what to install, from where, and how its bytes are trusted.
type Release struct {
	Version, Arch string // Version may be "latest"
	// URL may carry a mirror's credentials: never print or store it. Public
	// is what records name: the inventory's URL, or URL without credentials.
	URL, Public string
	// Checksum is the pinned sha256, or empty: Key's signature vouches.
	Checksum string
	Request  inventory.Request
	Source   config.Source
	Pins     []string // the versions pinned for Arch
	Key      KeySource
}

// KeySource is which key may sign an unpinned release, and from where: a
// key file in the buildpack, else the official bucket, or an overridden
// source only when the fingerprint is pinned (else it could serve its own).
type KeySource struct{ Fingerprint, File, URL string }

func (k KeySource) String() string {
	if k.File != "" {
		return "the key file " + k.File
	}
	return config.Redact(k.URL)
}

func (r Release) Pinned() bool { return r.Checksum != "" }

func (r Release) String() string { return r.Version + " (linux-" + r.Arch + ")" }

// Resolve reads the config vars in envDir against the buildpack's inventory
// for arch, touching neither the network nor the build: bad input fails first.
func Resolve(envDir, buildpackDir, arch string) (Release, inventory.Inventory, error) {
	cfg, err := config.Read(envDir)
	var inv inventory.Inventory
	if err == nil {
		inv, err = inventory.Load(filepath.Join(buildpackDir, inventory.FileName))
	}
	if err != nil {
		return Release{}, inventory.Inventory{}, err
	}
	rel := Release{Arch: arch, Request: cfg.Request, Source: cfg.Source, Pins: inv.Versions(arch)}
	a, err := inv.Resolve(cfg.Request, arch)
	_, unpinned := errors.AsType[*inventory.NoMatchError](err)
	switch {
	case err == nil:
		rel.Version, rel.Checksum, rel.Public, rel.URL = a.Version.String(), a.Checksum, a.URL, a.URL
	case !unpinned || cfg.Request.Kind() == inventory.Constraint:
		// No pin matches a constraint, and the bucket cannot be listed.
		return Release{}, inventory.Inventory{}, err
	case cfg.Request.ExactVersion() != nil:
		rel.Version = cfg.Request.ExactVersion().String()
	default:
		rel.Version = "latest"
	}
	// The pinned checksum applies wherever the file comes from.
	if !rel.Pinned() || cfg.Source.Overridden() {
		rel.URL = cfg.Source.URL(Object(rel.Version, arch))
	}
	if !rel.Pinned() {
		rel.Public = config.Public(rel.URL)
		rel.Key = Keys(cfg.Source, inv.SigningKey, buildpackDir)
	}
	return rel, inv, nil
}

// Keys applies KeySource's rules; the pin tool trusts the same keys.
func Keys(src config.Source, fingerprint, buildpackDir string) KeySource {
	k := KeySource{Fingerprint: fingerprint, URL: config.OfficialURL(config.KeyObject)}
	if src.Overridden() && fingerprint != "" {
		k.URL = src.URL(config.KeyObject)
	}
	if info, err := os.Lstat(filepath.Join(buildpackDir, KeyFile)); err == nil && info.Mode().IsRegular() {
		k.File = filepath.Join(buildpackDir, KeyFile)
	}
	return k
}

type Installer struct {
	Fetch *fetch.Client
	Out   *output.Printer
	Now   func() time.Time
}

// Kept is a copy an earlier build left: a cache entry, or a restored
// layer's binary (InPlace). Checksum is what its record says it holds;
// Problem, why its owner knows it cannot be kept; What, its name in the log.
type Kept struct {
	Root                          *os.Root
	Name, Checksum, Problem, What string
	InPlace                       bool
}

// Result is what an install put on PATH, and how: Signer is the key that
// signed an unpinned release; Discarded, why a kept copy was not reused.
type Result struct {
	Checksum, Signer, Discarded string
	Size                        int64
	Reused                      bool
	Download                    time.Duration
}

// Install puts rel's verified binary at binDir/heroku-applink-service-mesh
// within dst, mode 0755, with its links: the kept copy when rel is pinned,
// the copy records the pin and its bytes still hash to it; else a download,
// hashed as it is written and verified before it may become executable. On
// error no unverified byte is left, and nothing another build made goes.
func (i *Installer) Install(ctx context.Context, rel Release, dst *os.Root, binDir string, kept *Kept) (res Result, err error) {
	i.Out.Step("Installing Heroku AppLink Service Mesh %s", rel)
	i.announce(rel)
	// A folder where the binary or a link goes must fail before the download.
	names := Names(rel.Version, rel.Arch)
	for _, name := range names {
		if err := fsutil.MustBeFile(dst, path.Join(binDir, name)); err != nil {
			return res, err
		}
	}
	// The bytes are written beside their place, into a temporary file that
	// takes the name once verified (unused when the kept copy stays in place).
	tmp, tmpName, err := fsutil.CreateTemp(dst, binDir)
	if err != nil {
		return res, err
	}
	defer tmp.Close()
	defer dst.Remove(tmpName) // gone once renamed into place
	// f becomes the binary: tmp, or the kept copy in place.
	var f *os.File
	if kept != nil && rel.Pinned() {
		if f, res.Size, res.Discarded, err = reuse(ctx, rel.Checksum, kept, tmp); err != nil {
			return res, err
		} else if f != nil {
			res.Checksum, res.Reused = rel.Checksum, true
			i.Out.Detail("Using the %s (%s)", kept.What, output.Size(res.Size))
		} else {
			i.Out.Detail("Discarding the %s: %s", kept.What, res.Discarded)
		}
	}
	if f == nil {
		if err := i.download(ctx, rel, tmp, &res); err != nil {
			return res, err
		}
		f = tmp
	} else if f != tmp {
		defer f.Close()
	}
	// Only verified bytes become executable, and take the name in one step.
	if err := f.Chmod(0o755); err != nil {
		return res, &fsutil.PathError{Path: f.Name(), Err: err}
	}
	if f == tmp {
		if err := dst.Rename(tmpName, path.Join(binDir, Binary)); err != nil {
			return res, &fsutil.PathError{Path: filepath.Join(dst.Name(), binDir, Binary), Err: err}
		}
	}
	for _, name := range names[1:] {
		if err := fsutil.Symlink(dst, Binary, path.Join(binDir, name)); err != nil {
			for _, name := range names {
				dst.Remove(path.Join(binDir, name))
			}
			return res, err
		}
	}
	how := "pinned checksum"
	if !rel.Pinned() {
		how = "signature by key " + res.Signer + " from " + rel.Key.String()
	}
	i.Out.Detail("Verified %s (%s)", res.Checksum, how)
	return res, nil
}

// reuse returns the kept copy of the pin, open: in place, or copied into tmp. Or it says
// why the copy cannot be kept, which is not an error: its record must name the pin, and it
// must be a regular file within the size cap that still hashes to it, in place only without
// another hard link whose mode it would change. An error is the build's (cancelled, or the
// destination full), not the copy's.
func reuse(ctx context.Context, pin string, k *Kept, tmp *os.File) (f *os.File, n int64, why string, err error) {
	if k.Problem != "" || k.Checksum != pin {
		return nil, 0, cmp.Or(k.Problem, fmt.Sprintf("it holds %s, not the pinned %s", cmp.Or(k.Checksum, "no recorded checksum"), pin)), nil
	}
	src, info, err := fsutil.Open(k.Root, k.Name)
	var notRegular *fsutil.NotRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, 0, "the binary is missing", nil
	case errors.As(err, &notRegular):
		return nil, 0, "the binary is not a regular file (it is " + notRegular.Kind + ")", nil
	case err != nil:
		return nil, 0, "the binary cannot be read: " + err.Error(), nil
	}
	defer func() {
		if f != src { // the result: src stays open only as the copy kept in place
			src.Close()
		}
	}()
	switch {
	case info.Size() > fetch.DefaultMaxSize:
		return nil, 0, fmt.Sprintf("the binary is %d bytes, over the %d-byte limit (not read)", info.Size(), fetch.DefaultMaxSize), nil
	case k.InPlace && info.Sys().(*syscall.Stat_t).Nlink > 1:
		return nil, 0, fmt.Sprintf("the binary has %d hard links", info.Sys().(*syscall.Stat_t).Nlink), nil
	}
	h := sha256.New()
	w, out := io.Writer(h), src
	if !k.InPlace {
		w, out = io.MultiWriter(tmp, h), tmp
	}
	// In 1 MiB reads and writes, not io.Copy's 32 KiB: a 100 MiB copy makes
	// a hundred system calls each way, not thousands.
	n, err = io.CopyBuffer(w, fsutil.Reader(ctx, src), make([]byte, 1<<20))
	sum := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if err == nil && n == info.Size() && sum == pin {
		return out, n, "", nil
	}
	var pe *fs.PathError
	switch {
	case ctx.Err() != nil:
		return nil, 0, "", ctx.Err()
	case errors.As(err, &pe) && pe.Op == "write":
		return nil, 0, "", &fsutil.PathError{Path: pe.Path, Err: pe.Err}
	case err == nil && n == info.Size():
		return nil, 0, fmt.Sprintf("it no longer matches %s (got %s)", pin, sum), nil
	}
	return nil, 0, "the binary cannot be read: " + cmp.Or(err, errors.New("it changed while it was read")).Error(), nil
}

// download fetches the release into f and verifies it by the pinned
// checksum, or by the release key's detached signature.
func (i *Installer) download(ctx context.Context, rel Release, f *os.File, res *Result) (err error) {
	var key *signature.Key
	if !rel.Pinned() {
		if key, err = LoadKey(ctx, i.Fetch, rel.Key); err != nil {
			return err
		}
		res.Signer = key.Fingerprint
	}
	i.Out.Detail("Downloading from %s", config.Redact(rel.URL))
	start := i.Now()
	if key != nil {
		res.Checksum, res.Size, err = FetchSigned(ctx, i.Fetch, key, rel.URL, f)
	} else {
		res.Checksum, res.Size, err = i.Fetch.File(ctx, rel.URL, f)
		if err == nil && res.Checksum != rel.Checksum {
			err = &ChecksumError{Want: rel.Checksum, Got: res.Checksum, Size: res.Size}
		}
	}
	if err != nil {
		return fmt.Errorf("failed to download the service mesh %s from %s: %w", rel, config.Redact(rel.URL), err)
	}
	res.Download = i.Now().Sub(start)
	i.Out.Detail("Downloaded %s in %s", output.Size(res.Size), output.Duration(res.Download))
	return nil
}

// announce says what was asked for and, once, that it is not pinned, with
// only advice that can be followed.
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

// LoadKey loads the release signing key by the rules of ks. A key file
// (the pin tool takes any) is read regular-only, non-blocking and bounded.
func LoadKey(ctx context.Context, c *fetch.Client, ks KeySource) (key *signature.Key, err error) {
	var data []byte
	var root *os.Root
	if ks.File == "" {
		data, err = c.Bytes(ctx, ks.URL, signature.MaxSize)
	} else if root, err = fsutil.OpenRoot(filepath.Dir(ks.File)); err == nil {
		data, err = fsutil.ReadFile(root, filepath.Base(ks.File), signature.MaxSize)
		root.Close()
	}
	if err == nil {
		key, err = signature.ParseKey(data, ks.Fingerprint)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to get the release signing key from %s: %w", ks, err)
	}
	return key, nil
}

// FetchSigned downloads url into f and verifies it with key and the detached signature
// url+".asc", fetched first; it returns the sha256 and the size of the verified bytes.
func FetchSigned(ctx context.Context, c *fetch.Client, key *signature.Key, url string, f *os.File) (string, int64, error) {
	sig, err := c.Bytes(ctx, url+".asc", signature.MaxSize)
	if err != nil {
		return "", 0, fmt.Errorf("failed to download the signature %s.asc: %w", config.Redact(url), err)
	}
	sum, n, err := c.File(ctx, url, f)
	if err == nil {
		err = key.Verify(fsutil.Reader(ctx, io.NewSectionReader(f, 0, n)), sig)
	}
	return sum, n, err
}

// ChecksumError is a complete download whose sha256 is not the pinned one.
type ChecksumError struct {
	Want, Got string
	Size      int64
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("checksum mismatch: expected %s, got %s (%d bytes)", e.Want, e.Got, e.Size)
}

func (e *ChecksumError) Help() string {
	return "The downloaded file does not match the checksum pinned in this buildpack.\n" +
		"The file may have been tampered with, or the source serves other bytes\n" +
		"than the release. Nothing was installed. Do not retry with another\n" +
		"source until you know why."
}

func (e *ChecksumError) Reason() string { return "verify::checksum-mismatch" }
