package install

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// BinaryName is the command users put in their Procfile.
const BinaryName = "heroku-applink-service-mesh"

// LegacyName is the arch-specific name that published sample Procfiles use.
func LegacyName(arch string) string { return BinaryName + "-latest-" + arch }

// Target is a resolved install: which artifact, and from where. Exactly one
// of Artifact (a pinned release, verified by checksum) and Unpinned (a
// release verified by signature) is set.
type Target struct {
	Artifact inventory.Artifact
	Unpinned *Unpinned
	URL      string
	Source   string
	Request  inventory.Request
	// Fallback is set when nothing was requested and the inventory pins no
	// release for the architecture.
	Fallback bool
}

// Plan resolves the user's configuration against the inventory for one
// architecture. It touches neither the network nor the disk.
func Plan(cfg config.Config, inv inventory.Inventory, arch string) (Target, error) {
	a, err := inv.Resolve(cfg.Request, "linux", arch)
	if err == nil {
		return Target{Artifact: a, URL: cfg.URL(a), Source: cfg.Source(), Request: cfg.Request}, nil
	}
	var unknown *inventory.UnknownVersionError
	if !errors.As(err, &unknown) {
		return Target{}, err
	}
	// Not pinned: "latest", an exact version newer than the inventory, or
	// no request on an architecture with no pin go to the signature path.
	// A constraint cannot: the bucket cannot be listed to resolve it.
	label := "latest"
	switch v, exact := cfg.Request.Exact(); {
	case exact:
		label = v.String()
	case cfg.Request.IsLatest(), cfg.Request.IsDefault():
	default:
		return Target{}, err
	}
	u := &Unpinned{Label: label, Arch: arch, Object: UnpinnedObject(label, arch)}
	return Target{Unpinned: u, URL: cfg.ObjectURL(u.Object), Source: cfg.Source(), Request: cfg.Request,
		Fallback: cfg.Request.IsDefault()}, nil
}

// UnpinnedObject is the release bucket's object name for a version label
// ("latest" or a version) and architecture.
func UnpinnedObject(label, arch string) string {
	if label != "latest" {
		label = "v" + label
	}
	return BinaryName + "-" + label + "-" + arch
}

// Resolve is where both contracts start: the three config vars read from
// envDir (an ENV_DIR or <platform>/env), the inventory read from the
// buildpack's buildpack.toml, resolved for one architecture. It touches
// neither the network nor the build's files, so bad input fails before
// anything changes.
func Resolve(envDir, buildpackDir, arch string) (Target, inventory.Inventory, error) {
	vars, err := config.ReadEnvDir(envDir, config.Names)
	if err != nil {
		return Target{}, inventory.Inventory{}, err
	}
	cfg, err := config.Parse(vars)
	if err != nil {
		return Target{}, inventory.Inventory{}, err
	}
	inv, err := inventory.Load(filepath.Join(buildpackDir, "buildpack.toml"))
	if err != nil {
		return Target{}, inventory.Inventory{}, err
	}
	t, err := Plan(cfg, inv, arch)
	if err == nil && t.Unpinned != nil {
		t.Unpinned.Trust = TrustFor(cfg, inv, buildpackDir)
	}
	return t, inv, err
}

// Fetcher downloads: Fetch into a checksum-verified temporary file, Get for
// any download (conditional or not), GetBytes for small files.
type Fetcher interface {
	Fetch(ctx context.Context, url, dir, wantHex string) (fetch.Result, error)
	Get(ctx context.Context, req fetch.Request) (fetch.Result, error)
	GetBytes(ctx context.Context, url string, limit int64) ([]byte, error)
}

// Installer puts verified artifacts in place.
type Installer struct {
	Fetcher Fetcher
	Out     *output.Printer
	// Now is the clock used for the timings in the log.
	Now func() time.Time
}

// Result says what an install did.
type Result struct {
	Path      string
	FromCache bool
	Size      int64
}

// Install puts t's artifact at binDir/BinaryName, mode 0755, with the legacy
// arch-specific symlink beside it. binDir is created under root and no
// directory between them may be a symlink: an app must not be able to make
// the buildpack write outside its own tree. On error, neither name exists.
func (i *Installer) Install(ctx context.Context, t Target, root, binRel string, cache *Cache) (res Result, err error) {
	a := t.Artifact
	i.Out.Step("Installing Heroku AppLink Service Mesh %s", i.Out.Value(a.String()))
	i.Out.Detail("Version %s (%s)", a.Version, describeRequest(t.Request))

	binDir, err := SafeMkdirAll(root, binRel)
	if err != nil {
		return Result{}, err
	}
	dest := filepath.Join(binDir, BinaryName)
	legacy := filepath.Join(binDir, LegacyName(a.Arch))
	defer func() {
		if err != nil {
			os.Remove(dest)
			os.Remove(legacy)
		}
	}()

	tmp, size, fromCache := i.fromCache(cache, a, binDir)
	if tmp == "" {
		i.Out.Detail("Downloading from %s", config.Redact(t.URL))
		start := i.Now()
		r, err := i.Fetcher.Fetch(ctx, t.URL, binDir, a.Checksum.Hex())
		if err != nil {
			return Result{}, downloadError(a, config.Redact(t.URL), t.Source, err)
		}
		tmp, size = r.Path, r.Size
		i.Out.Detail("Downloaded %s in %s", output.Size(size), output.Duration(i.Now().Sub(start)))
	}
	// From here on tmp holds verified bytes; only now may it become
	// executable and take the name on PATH.
	if err := placeExecutable(tmp, dest); err != nil {
		return Result{}, err
	}
	if err := replaceSymlink(BinaryName, legacy); err != nil {
		return Result{}, err
	}
	i.Out.Detail("Verified %s (pinned checksum)", a.Checksum)
	if cache != nil && !fromCache {
		if err := cache.Store(dest, a.Checksum); err != nil {
			i.Out.Warning(fmt.Sprintf("The build cache could not be updated, so the next build will\ndownload the service mesh again: %v", err))
		}
	}
	return Result{Path: dest, FromCache: fromCache, Size: size}, nil
}

func (i *Installer) fromCache(cache *Cache, a inventory.Artifact, dir string) (string, int64, bool) {
	if cache == nil {
		return "", 0, false
	}
	tmp, size, err := cache.CopyVerified(a.Checksum, dir)
	switch {
	case err == nil:
		i.Out.Detail("Using cached copy (%s)", output.Size(size))
		return tmp, size, true
	case errors.Is(err, fs.ErrNotExist):
		return "", 0, false
	default:
		i.Out.Detail("Discarding cached copy: %v", err)
		return "", 0, false
	}
}

func describeRequest(r inventory.Request) string {
	switch {
	case r.IsDefault():
		return "newest pinned release"
	default:
		return "requested " + r.String()
	}
}

// placeExecutable makes a verified temporary file executable and renames it
// over dest in one step, so dest is never a partial or unverified file.
func placeExecutable(tmp, dest string) error {
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to make the service mesh executable: %w", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.Remove(tmp)
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

// SafeMkdirAll creates root/rel and returns its path, refusing any existing
// component that is a symlink or not a directory.
func SafeMkdirAll(root, rel string) (string, error) {
	dir := root
	for _, part := range strings.Split(filepath.Clean(rel), string(filepath.Separator)) {
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			return "", fmt.Errorf("refusing to write outside %s", root)
		}
		dir = filepath.Join(dir, part)
		info, err := os.Lstat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(dir, 0o755); err != nil {
				return "", &PathError{Path: dir, Err: err}
			}
		case err != nil:
			return "", &PathError{Path: dir, Err: err}
		case info.Mode()&fs.ModeSymlink != 0:
			return "", &PathError{Path: dir, Err: errors.New("it is a symlink; the buildpack does not write through links")}
		case !info.IsDir():
			return "", &PathError{Path: dir, Err: errors.New("it is not a directory")}
		}
	}
	return dir, nil
}

// Remove deletes what Install put in binDir, for a build that fails after
// installing: a failed build must not leave a binary behind.
func Remove(binDir, arch string) {
	os.Remove(filepath.Join(binDir, BinaryName))
	os.Remove(filepath.Join(binDir, LegacyName(arch)))
}

// WriteFile writes root/rel/name atomically through a temporary file, with
// the same refusal of symlinked directories as Install.
func WriteFile(root, rel, name string, data []byte, perm fs.FileMode) (string, error) {
	dir, err := SafeMkdirAll(root, rel)
	if err != nil {
		return "", err
	}
	dest := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", &PathError{Path: dest, Err: err}
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), perm)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dest)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", &PathError{Path: dest, Err: err}
	}
	return dest, nil
}
