package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/BurntSushi/toml"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
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

// entriesProblem says why sha256/ is not the cache's own folder, or "" when
// it is one or is missing: a path through a link there would reach, and
// let Drop delete, whatever the link points to.
func (c *Cache) entriesProblem() string {
	info, err := os.Lstat(filepath.Join(c.Dir, entriesDir))
	switch {
	case err != nil:
		return ""
	case info.Mode()&fs.ModeSymlink != 0:
		return "the cache's " + entriesDir + " folder is a symbolic link"
	case !info.IsDir():
		return "the cache's " + entriesDir + " folder is not a folder"
	}
	return ""
}

// Name is what the log calls a cached file.
func (c *Cache) Name() string { return "cached copy" }

// Lookup finds rel's cached file: by its pinned checksum, or through the
// index for an unpinned release.
func (c *Cache) Lookup(rel Release) (*Copy, *Discard) {
	if why := c.entriesProblem(); why != "" {
		return nil, &Discard{Problem: BadCopy, Was: why}
	}
	if rel.Pinned() {
		p := c.entry(rel.Pin)
		if _, err := os.Lstat(p); err != nil {
			return nil, nil
		}
		return &Copy{Record: rel.record(rel.Pin, "", ""), Path: p}, nil
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
	return &Copy{Record: r, Path: c.entry(r.Checksum)}, nil
}

// Drop forgets rel's cached file.
func (c *Cache) Drop(rel Release) error {
	if c.entriesProblem() != "" {
		// The name goes, whatever it points to stays; the index then names
		// nothing, so it goes too.
		if err := os.Remove(filepath.Join(c.Dir, entriesDir)); err != nil {
			return err
		}
		return c.writeIndex(index{})
	}
	if rel.Pinned() {
		// The entry's own name, in the cache's own folder: whatever it is
		// (a file, a planted link or folder), nothing outside goes with it.
		os.RemoveAll(c.entry(rel.Pin))
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
func (c *Cache) Save(ctx context.Context, inst Installed) error {
	dir, err := files.MkdirUnder(c.Dir, entriesDir)
	if err != nil {
		return err
	}
	if info, err := os.Lstat(c.entry(inst.Record.Checksum)); err != nil || !info.Mode().IsRegular() || !inst.Reused {
		os.RemoveAll(c.entry(inst.Record.Checksum))
		in, _, err := files.OpenRegular(inst.Path)
		if err != nil {
			return err
		}
		err = files.WriteFrom(dir, inst.Record.Checksum.Hex(), &ctxReader{ctx: ctx, r: in}, 0o600)
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

// maxIndexSize bounds the index: it holds one record, with its signature.
const maxIndexSize = 4 * signature.MaxArmoredSize

func (c *Cache) readIndex() (index, error) {
	var idx index
	data, err := files.ReadRegular(filepath.Join(c.Dir, indexName), maxIndexSize)
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
		err := os.RemoveAll(filepath.Join(c.Dir, indexName))
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

// oldLayout is what version 0.1.0 of the buildpack kept beside sha256/:
// the unpinned release it last installed, under signed/<object>/.
const oldLayout = "signed"

// Prune removes the cached files whose digest is neither pinned nor named
// by the index, the older layout's folder, and temporary files that builds
// no longer running left, so the cache holds at most the pinned releases
// and the unpinned one in use. It removes only names it recognises, only
// inside the cache's own folder, and never follows a link: a name that is
// a link is removed as a link.
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
	removed, err := files.RemoveOwnLeftovers(c.Dir)
	if err != nil {
		return removed, err
	}
	if _, err := os.Lstat(filepath.Join(c.Dir, oldLayout)); err == nil {
		if err := os.RemoveAll(filepath.Join(c.Dir, oldLayout)); err != nil {
			return removed, err
		}
		removed = append(removed, oldLayout)
	}
	dir := filepath.Join(c.Dir, entriesDir)
	info, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return removed, nil
	case err != nil:
		return removed, err
	case !info.IsDir():
		// Not a folder this buildpack made: the name goes, whatever it
		// points to stays.
		if err := os.Remove(dir); err != nil {
			return removed, err
		}
		return append(removed, entriesDir), nil
	}
	leftovers, err := files.RemoveOwnLeftovers(dir)
	for _, l := range leftovers {
		removed = append(removed, filepath.Join(entriesDir, l))
	}
	if err != nil {
		return removed, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return removed, err
	}
	for _, e := range entries {
		if _, err := digest.FromHex(e.Name()); err != nil || (keep[e.Name()] && e.Type().IsRegular()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return removed, err
		}
		removed = append(removed, filepath.Join(entriesDir, e.Name()))
	}
	return removed, nil
}
