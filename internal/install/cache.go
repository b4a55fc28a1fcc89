package install

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/BurntSushi/toml"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
)

// Cache is the classic build cache's folder for this buildpack: verified
// release files named by their sha256 under sha256/, and an index that
// maps an unpinned release (latest, or a version no pin covers) to the
// record of the file it last was. A pinned release needs no index entry:
// its checksum names its file.
type Cache struct {
	Dir string
}

const (
	entriesDir = "sha256"
	indexName  = "index.toml"
)

type index struct {
	Releases []Record `toml:"releases"`
}

func (c *Cache) entry(sum digest.Digest) string { return filepath.Join(c.Dir, entriesDir, sum.Hex()) }

// Name is what the log calls a cached file.
func (c *Cache) Name() string { return "cached copy" }

// Lookup finds rel's cached file: by its pinned checksum, or through the
// index for an unpinned release.
func (c *Cache) Lookup(rel Release) (*Copy, *Discard) {
	if rel.Pinned() {
		p := c.entry(rel.Pin)
		if _, err := os.Lstat(p); err != nil {
			return nil, nil
		}
		return &Copy{Record: rel.record(rel.Pin, ""), Path: p, Name: c.Name()}, nil
	}
	idx, err := c.readIndex()
	if err != nil {
		return nil, &Discard{Problem: BadMetadata, Was: err.Error()}
	}
	i := slices.IndexFunc(idx.Releases, func(r Record) bool { return r.Version == rel.Version && r.Arch == rel.Arch })
	if i < 0 {
		return nil, nil
	}
	r := idx.Releases[i]
	return &Copy{Record: r, Path: c.entry(r.Checksum), Name: c.Name()}, nil
}

// Drop forgets rel's cached file.
func (c *Cache) Drop(rel Release) error {
	if rel.Pinned() {
		os.Remove(c.entry(rel.Pin))
		return nil
	}
	idx, err := c.readIndex()
	if err != nil {
		return c.writeIndex(index{})
	}
	idx.Releases = slices.DeleteFunc(idx.Releases, func(r Record) bool { return r.Version == rel.Version && r.Arch == rel.Arch })
	return c.writeIndex(idx)
}

// Save keeps an installed release for later builds: its bytes under their
// checksum (copied, not linked or renamed, since the cache may be on
// another filesystem), and for an unpinned release its record in the
// index. The index then holds only that record: the cache keeps the pinned
// releases and the one unpinned release in use.
func (c *Cache) Save(inst Installed) error {
	dir := filepath.Join(c.Dir, entriesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if _, err := os.Lstat(c.entry(inst.Record.Checksum)); err != nil || !inst.Reused {
		in, err := os.Open(inst.Path)
		if err != nil {
			return err
		}
		err = files.WriteFrom(dir, inst.Record.Checksum.Hex(), in, 0o600)
		in.Close()
		if err != nil {
			return err
		}
	}
	var idx index
	if inst.Record.Verified == BySignature {
		idx.Releases = []Record{inst.Record}
	}
	return c.writeIndex(idx)
}

func (c *Cache) readIndex() (index, error) {
	var idx index
	data, err := os.ReadFile(filepath.Join(c.Dir, indexName))
	if errors.Is(err, fs.ErrNotExist) {
		return idx, nil
	}
	if err != nil {
		return idx, err
	}
	md, err := toml.Decode(string(data), &idx)
	if err != nil {
		return index{}, err
	}
	if len(md.Undecoded()) > 0 {
		return index{}, fmt.Errorf("unknown key %q", md.Undecoded()[0].String())
	}
	return idx, nil
}

func (c *Cache) writeIndex(idx index) error {
	if len(idx.Releases) == 0 {
		err := os.Remove(filepath.Join(c.Dir, indexName))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(idx); err != nil {
		return err
	}
	return files.Write(c.Dir, indexName, buf.Bytes(), 0o600)
}

// Prune removes every cached file whose digest is neither pinned nor named
// by the index, and everything else that is not part of this layout (an
// older layout's folders), so the cache holds at most the pinned releases
// and the unpinned one in use.
func (c *Cache) Prune(pinned map[digest.Digest]bool) ([]string, error) {
	keep := map[string]bool{}
	for d := range pinned {
		keep[d.Hex()] = true
	}
	if idx, err := c.readIndex(); err == nil {
		for _, r := range idx.Releases {
			keep[r.Checksum.Hex()] = true
		}
	}
	top, err := os.ReadDir(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range top {
		if (e.Name() == entriesDir && e.IsDir()) || (e.Name() == indexName && e.Type().IsRegular()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(c.Dir, e.Name())); err != nil {
			return removed, err
		}
		removed = append(removed, e.Name())
	}
	entries, err := os.ReadDir(filepath.Join(c.Dir, entriesDir))
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
		if err := os.RemoveAll(filepath.Join(c.Dir, entriesDir, e.Name())); err != nil {
			return removed, err
		}
		removed = append(removed, filepath.Join(entriesDir, e.Name()))
	}
	return removed, nil
}
