package files_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
)

func TestMkdirUnder(t *testing.T) {
	root := t.TempDir()
	dir, err := files.MkdirUnder(root, "vendor/heroku-applink/bin")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(root, "vendor/heroku-applink/bin"), dir)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.True(t, info.IsDir())

	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "linked")))
	_, err = files.MkdirUnder(root, "linked/bin")
	var perr *files.PathError
	require.ErrorAs(t, err, &perr)
	require.EqualError(t, err, "cannot use "+filepath.Join(root, "linked")+": it is a symlink; the buildpack does not write through links")
	entries, _ := os.ReadDir(outside)
	require.Empty(t, entries)

	require.NoError(t, os.WriteFile(filepath.Join(root, "file"), nil, 0o644))
	_, err = files.MkdirUnder(root, "file/bin")
	require.ErrorContains(t, err, "it is not a directory")

	_, err = files.MkdirUnder(root, "../escape")
	require.ErrorContains(t, err, "it leads outside "+root)
}

func TestWriteIsAtomic(t *testing.T) {
	root := t.TempDir()
	p, err := files.WriteUnder(root, ".profile.d", "x.sh", []byte("echo hi\n"), 0o644)
	require.NoError(t, err)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "echo hi\n", string(b))
	info, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), info.Mode().Perm())
	entries, err := os.ReadDir(filepath.Dir(p))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left")

	require.NoError(t, os.Symlink(t.TempDir(), filepath.Join(root, ".evil")))
	_, err = files.WriteUnder(root, ".evil", "x.sh", nil, 0o644)
	require.ErrorContains(t, err, "symlink")

	err = files.Write(filepath.Join(root, "missing"), "x", nil, 0o644)
	var perr *files.PathError
	require.ErrorAs(t, err, &perr)
}
