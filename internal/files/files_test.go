package files_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// TestLeftovers: only names of exactly the buildpack's temporary form go,
// and only when the process that made them is gone; the app's look-alikes,
// this process's own files and a live process's stay.
func TestLeftovers(t *testing.T) {
	dir := t.TempDir()
	mine, err := files.CreateTemp(dir, files.DownloadPrefix)
	require.NoError(t, err)
	mine.Close()
	initStarted := procStart(t, 1)
	names := map[string]bool{
		".heroku-applink-download-2147483647-1-123":       true,  // a process id no process has
		".heroku-applink-tmp-1-" + initStarted + "-9":     false, // pid 1, the process that runs now
		".heroku-applink-tmp-1-999999999999-9":            true,  // pid 1 reused since: another start time
		".heroku-applink-cached-2147483647-1-5":           true,
		filepath.Base(mine.Name()):                        false, // this process's
		".heroku-applink-tmp-app-secret":                  false, // not the buildpack's form
		".heroku-applink-download-helper.sh":              false,
		".heroku-applink-tmp-99999-mine":                  false,
		".heroku-applink-tmp-123456":                      false,
		"heroku-applink-service-mesh":                     false,
		".heroku-applink-download-2147483647-1-2-extra.x": false,
		".tmp-1-999999999999-9":                           false, // the form without the buildpack's name: another tool's
		".download-2147483647-1-123":                      false,
	}
	for name := range names {
		if name != filepath.Base(mine.Name()) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o600))
		}
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".heroku-applink-tmp-2147483647-1-7"), 0o755))
	removed, err := files.RemoveLeftovers(dir)
	require.NoError(t, err)
	var want []string
	for name, gone := range names {
		if gone {
			want = append(want, name)
		}
		_, err := os.Lstat(filepath.Join(dir, name))
		require.Equal(t, gone, os.IsNotExist(err), name)
	}
	require.ElementsMatch(t, want, removed)
	_, err = os.Stat(filepath.Join(dir, ".heroku-applink-tmp-2147483647-1-7"))
	require.NoError(t, err, "a directory is never removed")
	require.True(t, files.Mine(filepath.Base(mine.Name())))
	require.False(t, files.Mine(".heroku-applink-tmp-1-"+initStarted+"-9"))
}

func procStart(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return fields[19]
}

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("12345"), 0o600))
	b, err := files.ReadRegular(filepath.Join(dir, "f"), 5)
	require.NoError(t, err)
	require.Equal(t, "12345", string(b))
	_, err = files.ReadRegular(filepath.Join(dir, "f"), 4)
	var large *files.TooLargeError
	require.ErrorAs(t, err, &large)
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600))
	require.NoError(t, os.Symlink(filepath.Join(dir, "f"), filepath.Join(dir, "link")))
	for name, kind := range map[string]string{"pipe": "a named pipe", "link": "a symbolic link", ".": "a directory", "/dev/null": "a device"} {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, name)
		}
		_, err := files.ReadRegular(p, 10)
		var nr *files.NotRegularError
		require.ErrorAs(t, err, &nr, name)
		require.Equal(t, kind, nr.Kind)
	}
}

// TestOwnLeftoversOfTheOlderForm: in a folder that is the buildpack's
// alone, what version 0.1.0 named without the buildpack's name goes too.
func TestOwnLeftoversOfTheOlderForm(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".tmp-2147483647-1-2", ".heroku-applink-tmp-2147483647-1-3", ".tmp-app-notes"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o600))
	}
	removed, err := files.RemoveOwnLeftovers(dir)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{".tmp-2147483647-1-2", ".heroku-applink-tmp-2147483647-1-3"}, removed)
	_, err = os.Stat(filepath.Join(dir, ".tmp-app-notes"))
	require.NoError(t, err)
}
