package install

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
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
	return copyVerified(c.path(sum), sum, dir)
}

func copyVerified(path string, sum inventory.Checksum, dir string) (string, int64, error) {
	src, err := os.Open(path)
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
	n, err := fetch.CopyAndHash(tmp, src, h)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", 0, fmt.Errorf("cannot copy it: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum.Hex() {
		os.Remove(tmp.Name())
		os.Remove(path)
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
	return copyInto(verified, dir, sum.Hex())
}

// copyInto copies src to dir/name through a temporary file.
func copyInto(src, dir, name string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeFrom(in, dir, name)
}

func writeInto(dir, name string, data []byte) error {
	return writeFrom(bytes.NewReader(data), dir, name)
}

func writeFrom(r io.Reader, dir, name string) error {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Prune removes every entry whose digest is not in keep and every unpinned
// release not in keepSigned, and anything that is not an entry at all, so the
// cache holds at most the pinned releases and the unpinned one in use.
func (c *Cache) Prune(keep, keepSigned map[string]bool) ([]string, error) {
	top, err := os.ReadDir(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range top {
		if (e.Name() != "sha256" && e.Name() != "signed") || !e.IsDir() {
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
	signed, err := os.ReadDir(filepath.Join(c.Dir, "signed"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return removed, err
	}
	for _, e := range signed {
		if keepSigned[e.Name()] && e.IsDir() {
			continue
		}
		if err := os.RemoveAll(filepath.Join(c.Dir, "signed", e.Name())); err != nil {
			return removed, err
		}
		removed = append(removed, filepath.Join("signed", e.Name()))
	}
	return removed, nil
}

// An unpinned release is cached under signed/<object>/ with the metadata
// that lets a later build ask whether it changed.
func (c *Cache) signedDir(object string) string { return filepath.Join(c.Dir, "signed", object) }

func (c *Cache) signedEntry(object, url string) *SignedMeta {
	data, err := os.ReadFile(filepath.Join(c.signedDir(object), "meta.json"))
	if err != nil {
		return nil
	}
	var m SignedMeta
	if json.Unmarshal(data, &m) != nil || m.URL != url || m.Object != object || m.SHA256 == "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join(c.signedDir(object), "artifact")); err != nil {
		return nil
	}
	return &m
}

func (c *Cache) copySigned(m *SignedMeta, dir string) (string, int64, error) {
	sum, err := inventory.ChecksumFromHex(m.SHA256)
	if err != nil {
		return "", 0, err
	}
	return copyVerified(filepath.Join(c.signedDir(m.Object), "artifact"), sum, dir)
}

func (c *Cache) storeSigned(verified string, m SignedMeta) error {
	dir := c.signedDir(m.Object)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Drop the old metadata first: an entry is only valid once both files
	// are the new ones.
	os.Remove(filepath.Join(dir, "meta.json"))
	if err := copyInto(verified, dir, "artifact"); err != nil {
		return err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeInto(dir, "meta.json", data)
}
