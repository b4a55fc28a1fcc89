package fsutil

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// OpenRoot opens dir as an os.Root, refusing first a non-folder: a named pipe would block.
func OpenRoot(dir string) (*os.Root, error) {
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: syscall.ENOTDIR}
	}
	return os.OpenRoot(dir)
}

// Open opens a regular file within root for reading, without blocking (a named pipe
// would wait for ever) or taking a terminal. Links are followed only within root.
func Open(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		if info, lerr := root.Lstat(name); lerr == nil && info.Mode()&fs.ModeSymlink != 0 && !errors.Is(err, fs.ErrNotExist) {
			err = &NotRegularError{Path: filepath.Join(root.Name(), name), Kind: "a symbolic link out of " + root.Name()}
		}
		return nil, nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = &NotRegularError{Path: f.Name(), Kind: Kind(info.Mode())}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// ReadFile reads a file as Open opens it, of at most limit bytes.
func ReadFile(root *os.Root, name string, limit int64) ([]byte, error) {
	f, info, err := Open(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && (info.Size() > limit || int64(len(data)) > limit) {
		err = &TooLargeError{Path: f.Name(), Size: max(info.Size(), int64(len(data))), Max: limit}
	}
	return data, err
}

// Kind names a file's type for a message: "a named pipe".
func Kind(m fs.FileMode) string {
	return map[fs.FileMode]string{0: "a regular file", fs.ModeDir: "a directory", fs.ModeSymlink: "a symbolic link",
		fs.ModeNamedPipe: "a named pipe", fs.ModeSocket: "a socket", fs.ModeDevice: "a device",
		fs.ModeDevice | fs.ModeCharDevice: "a device", fs.ModeIrregular: "a file of unknown type"}[m.Type()]
}

// tempPrefix names the buildpack: some folders it writes in are the app's.
const tempPrefix = ".heroku-applink-tmp-"

func tempName(dir string) string { return path.Join(dir, tempPrefix+rand.Text()) }

// CreateTemp creates a private temporary file in dir within root (made when missing),
// locked until closed: the kernel drops a dead build's locks, so a later build can tell
// its leftovers from a running build's, and removes them first.
func CreateTemp(root *os.Root, dir string) (*os.File, string, error) {
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return nil, "", &PathError{Path: filepath.Join(root.Name(), dir), Err: err}
	}
	RemoveLeftovers(root, dir)
	for {
		name := tempName(dir)
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, "", &PathError{Path: filepath.Join(root.Name(), dir), Err: err}
		}
		var st syscall.Stat_t
		if err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err == nil {
			err = syscall.Fstat(int(f.Fd()), &st)
		}
		if err == nil && st.Nlink > 0 {
			return f, name, nil
		}
		f.Close()
		if err != nil { // a filesystem without locks: no leftover either
			root.Remove(name)
			return nil, "", &PathError{Path: filepath.Join(root.Name(), dir), Err: err}
		}
		// A sweeper that locked the file first removed it: start again.
	}
}

// RemoveLeftovers removes the temporary files in dir no process holds.
func RemoveLeftovers(root *os.Root, dir string) {
	entries, _ := fs.ReadDir(root.FS(), dir)
	for _, e := range entries {
		name := path.Join(dir, e.Name())
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		if f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				root.Remove(name)
			}
			f.Close()
		}
	}
}

// WriteFile atomically replaces name within root with what r yields.
func WriteFile(root *os.Root, name string, r io.Reader, perm fs.FileMode) error {
	f, tmp, err := CreateTemp(root, path.Dir(name))
	if err != nil {
		return err
	}
	if _, err = io.Copy(f, r); err == nil {
		err = f.Chmod(perm)
	}
	if err = cmp.Or(err, f.Close()); err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		root.Remove(tmp)
		return &PathError{Path: filepath.Join(root.Name(), name), Err: err}
	}
	return nil
}

// Symlink atomically points name within root at target.
func Symlink(root *os.Root, target, name string) error {
	err := root.Symlink(target, name)
	if errors.Is(err, fs.ErrExist) {
		tmp := tempName(path.Dir(name))
		if err = root.Symlink(target, tmp); err == nil {
			if err = root.Rename(tmp, name); err != nil {
				root.Remove(tmp)
			}
		}
	}
	if err != nil {
		return &PathError{Path: filepath.Join(root.Name(), name), Err: err}
	}
	return nil
}

// MustBeFile fails when name within root, or the way to it, is something a
// file or a link cannot replace.
func MustBeFile(root *os.Root, name string) error {
	info, err := root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && (info.Mode().IsRegular() || info.Mode()&fs.ModeSymlink != 0)):
		return nil
	case err == nil:
		err = fmt.Errorf("it is %s, where the buildpack puts a file", Kind(info.Mode()))
	}
	return &PathError{Path: filepath.Join(root.Name(), name), Err: err}
}

// Reader reads r until ctx is done: a cancelled build stops local copies too.
func Reader(ctx context.Context, r io.Reader) io.Reader { return &ctxReader{ctx, r} }

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

// PathError is a path the buildpack cannot write or must not use.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string {
	err := e.Err
	for pe := (*fs.PathError)(nil); errors.As(err, &pe); {
		err = pe.Err // its path is the one this message names
	}
	if err.Error() == "path escapes from parent" {
		return fmt.Sprintf("cannot use %s: a link on the way leads outside the folder the buildpack writes in", e.Path)
	}
	return fmt.Sprintf("cannot use %s: %v", e.Path, err)
}

func (e *PathError) Unwrap() error { return e.Err }

func (e *PathError) Help() string {
	dir := filepath.Dir(e.Path)
	switch {
	case errors.Is(e.Err, syscall.ENOSPC):
		return "The filesystem that holds " + dir + " is full: it has no space or no\ninodes left. Free some there and build again. Nothing was installed."
	case errors.Is(e.Err, syscall.EDQUOT):
		return "The disk quota on the filesystem that holds " + dir + " is used up.\nFree some of it, or raise the quota, and build again. Nothing was installed."
	case errors.Is(e.Err, syscall.EROFS):
		return dir + " is on a read-only filesystem: the build cannot write there.\nNothing was installed."
	case errors.Is(e.Err, fs.ErrPermission):
		return "The build's user cannot write there. Make the directory writable for it,\nand build again. Nothing was installed."
	}
	return "The buildpack installs into this path. Remove whatever is there from\nyour app's source and deploy again (in the build cache or a layer: clear\nthe build cache). Nothing was installed."
}

func (e *PathError) Reason() string {
	if errors.Is(e.Err, syscall.ENOSPC) || errors.Is(e.Err, syscall.EDQUOT) {
		return "filesystem::no-space"
	}
	return "filesystem::unusable"
}

// NotRegularError is a path the buildpack will not read.
type NotRegularError struct{ Path, Kind string }

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is not a regular file (it is %s)", e.Path, e.Kind)
}

// TooLargeError is a file over the size a read allows.
type TooLargeError struct {
	Path      string
	Size, Max int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is %d bytes, over the %d-byte limit", e.Path, e.Size, e.Max)
}
