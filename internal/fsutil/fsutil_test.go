package fsutil_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
)

func openRoot(t *testing.T, dir string) *os.Root {
	t.Helper()
	r, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

func TestReadFile(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ok"), []byte("hello"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("theirs"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "out")))
	require.NoError(t, os.Symlink("ok", filepath.Join(dir, "in")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "folder"), 0o755))
	root := openRoot(t, dir)

	got, err := fsutil.ReadFile(root, "ok", 5)
	require.NoError(t, err)
	require.Equal(t, "hello", string(got))
	got, err = fsutil.ReadFile(root, "in", 5)
	require.NoError(t, err, "a link within the root is followed")
	require.Equal(t, "hello", string(got))

	var tooLarge *fsutil.TooLargeError
	_, err = fsutil.ReadFile(root, "ok", 4)
	require.ErrorAs(t, err, &tooLarge)

	for name, kind := range map[string]string{"pipe": "a named pipe", "folder": "a directory", "out": "a symbolic link out of " + dir} {
		var notRegular *fsutil.NotRegularError
		_, err := fsutil.ReadFile(root, name, 5)
		require.ErrorAs(t, err, &notRegular, name)
		require.Equal(t, kind, notRegular.Kind)
	}
	_, err = fsutil.ReadFile(root, "missing", 5)
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	root := openRoot(t, dir)
	held, heldName, err := fsutil.CreateTemp(root, ".")
	require.NoError(t, err)
	defer held.Close()
	gone, goneName, err := fsutil.CreateTemp(root, ".")
	require.NoError(t, err)
	gone.Close() // as the kernel does for a killed build
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".tmp-app-secret"), []byte("the app's"), 0o644))

	fsutil.RemoveLeftovers(root, ".")
	_, err = os.Stat(filepath.Join(dir, heldName))
	require.NoError(t, err, "a running build's file stays")
	_, err = os.Stat(filepath.Join(dir, goneName))
	require.ErrorIs(t, err, fs.ErrNotExist, "a gone build's file goes")
	_, err = os.Stat(filepath.Join(dir, ".tmp-app-secret"))
	require.NoError(t, err, "a name without the buildpack's prefix is not its own")
	info, err := held.Stat()
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestWriteFileAndSymlink(t *testing.T) {
	dir := t.TempDir()
	root := openRoot(t, dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("old"), 0o600))
	require.NoError(t, fsutil.WriteFile(root, "f", strings.NewReader("new"), 0o644))
	got, err := os.ReadFile(filepath.Join(dir, "f"))
	require.NoError(t, err)
	require.Equal(t, "new", string(got))
	info, err := os.Stat(filepath.Join(dir, "f"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), info.Mode().Perm())

	require.NoError(t, fsutil.Symlink(root, "f", "l"))
	require.NoError(t, fsutil.Symlink(root, "f", "l"), "a link is replaced")
	target, err := os.Readlink(filepath.Join(dir, "l"))
	require.NoError(t, err)
	require.Equal(t, "f", target)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temporary name is left")
}

func TestMustBeFileAndPathError(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "folder"), 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "away")))
	root := openRoot(t, dir)
	require.NoError(t, fsutil.MustBeFile(root, "missing"))
	err := fsutil.MustBeFile(root, "folder")
	require.EqualError(t, err, "cannot use "+filepath.Join(dir, "folder")+": it is a directory, where the buildpack puts a file")
	var pe *fsutil.PathError
	require.ErrorAs(t, err, &pe)
	require.Contains(t, pe.Help(), "Remove whatever is there from\nyour app's source")
	require.Equal(t, "filesystem::unusable", pe.Reason())

	err = fsutil.WriteFile(root, "away/x", strings.NewReader("x"), 0o644)
	require.ErrorContains(t, err, "a link on the way leads outside the folder the buildpack writes in")
	entries, _ := os.ReadDir(outside)
	require.Empty(t, entries, "nothing is written through the link")

	full := &fsutil.PathError{Path: "/build/vendor/bin/x", Err: &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}}
	require.Equal(t, "filesystem::no-space", full.Reason())
	require.Contains(t, full.Help(), "The filesystem that holds /build/vendor/bin is full")
	require.True(t, errors.Is(full, syscall.ENOSPC))
}
