package install

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

// Cache is a directory of verified artifacts named by their sha256. Its
// layout is versioned by the "sha256" folder name: anything else found in it
// is from another layout and is pruned.
type Cache struct {
	Dir string
}

func (c *Cache) path(sum inventory.Checksum) string {
	return filepath.Join(c.Dir, "sha256", sum.Hex())
}

// CopyVerified copies the cached artifact into a temporary file in dir,
// hashing it on the way. A missing entry is fs.ErrNotExist; an entry that no
// longer matches its name is removed and reported.
func (c *Cache) CopyVerified(sum inventory.Checksum, dir string) (string, int64, error) {
	src, err := os.Open(c.path(sum))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", 0, fs.ErrNotExist
		}
		return "", 0, fmt.Errorf("cannot read it: %w", err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(dir, ".cached-*")
	if err != nil {
		return "", 0, fmt.Errorf("cannot copy it: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", 0, fmt.Errorf("cannot copy it: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum.Hex() {
		os.Remove(tmp.Name())
		os.Remove(c.path(sum))
		return "", 0, fmt.Errorf("it no longer matches %s (got sha256:%s)", sum, got)
	}
	return tmp.Name(), n, nil
}

// Store copies a verified file into the cache. It copies rather than links
// or renames because the cache may be on another filesystem, and it writes a
// temporary file first so that a full disk never leaves a partial entry.
func (c *Cache) Store(verified string, sum inventory.Checksum) error {
	dir := filepath.Join(c.Dir, "sha256")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src, err := os.Open(verified)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path(sum))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Prune removes every entry whose digest is not in keep, and anything that is
// not an entry at all, so the cache holds at most the pinned releases.
func (c *Cache) Prune(keep map[string]bool) ([]string, error) {
	top, err := os.ReadDir(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range top {
		if e.Name() != "sha256" || !e.IsDir() {
			if err := os.RemoveAll(filepath.Join(c.Dir, e.Name())); err != nil {
				return removed, err
			}
			removed = append(removed, e.Name())
		}
	}
	entries, err := os.ReadDir(filepath.Join(c.Dir, "sha256"))
	if errors.Is(err, fs.ErrNotExist) {
		return removed, nil
	}
	if err != nil {
		return removed, err
	}
	for _, e := range entries {
		if keep[e.Name()] && e.Type().IsRegular() {
			continue
		}
		if err := os.RemoveAll(filepath.Join(c.Dir, "sha256", e.Name())); err != nil {
			return removed, err
		}
		removed = append(removed, filepath.Join("sha256", e.Name()))
	}
	return removed, nil
}
