package files

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MkdirUnder creates root/rel and returns its path. It refuses any existing
// component that is a symlink or not a directory: an app must not be able
// to make the buildpack write outside its own tree.
func MkdirUnder(root, rel string) (string, error) {
	dir := root
	for _, part := range strings.Split(filepath.Clean(rel), string(filepath.Separator)) {
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			return "", &PathError{Path: filepath.Join(root, rel), Err: errors.New("it leads outside " + root)}
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

// Write replaces dir/name with data, mode perm, through a temporary file in
// the same directory.
func Write(dir, name string, data []byte, perm fs.FileMode) error {
	return WriteFrom(dir, name, strings.NewReader(string(data)), perm)
}

// WriteFrom is Write with the contents read from r.
func WriteFrom(dir, name string, r io.Reader, perm fs.FileMode) error {
	dest := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return &PathError{Path: dest, Err: err}
	}
	_, err = io.Copy(tmp, r)
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
		return &PathError{Path: dest, Err: Cause(err)}
	}
	return nil
}

// WriteUnder creates root/rel as MkdirUnder does, then writes name in it.
func WriteUnder(root, rel, name string, data []byte, perm fs.FileMode) (string, error) {
	dir, err := MkdirUnder(root, rel)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), Write(dir, name, data, perm)
}

// Cause is the cause of a failed file operation, without the path its
// message repeats: for messages that name the path themselves.
func Cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// PathError is a path the buildpack refuses or fails to use.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string { return fmt.Sprintf("cannot use %s: %v", e.Path, e.Err) }

func (e *PathError) Unwrap() error { return e.Err }

// Help says what to change.
func (e *PathError) Help() string {
	return "The buildpack installs into this path. Remove whatever is there from\n" +
		"your app's source (or make the directory writable) and deploy again."
}
