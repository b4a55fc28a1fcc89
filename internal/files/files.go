package files

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
			if err := Mkdir(dir); err != nil {
				return "", err
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

// Mkdir creates one directory, mode 0755 whatever the umask: the slug and
// the image must let the app's user in, as they do the binary.
func Mkdir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return &PathError{Path: dir, Err: err}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return &PathError{Path: dir, Err: err}
	}
	return nil
}

// Write replaces dir/name with data, mode perm, through a temporary file in
// the same directory.
func Write(dir, name string, data []byte, perm fs.FileMode) error {
	return WriteFrom(dir, name, strings.NewReader(string(data)), perm)
}

// WriteFrom is Write with the contents read from r.
func WriteFrom(dir, name string, r io.Reader, perm fs.FileMode) error {
	dest := filepath.Join(dir, name)
	// Best effort: a leftover that cannot be removed is no reason to fail.
	RemoveLeftovers(dir)
	tmp, err := CreateTemp(dir, TempPrefix)
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
	if advice, ok := DiskAdvice(e.Err, filepath.Dir(e.Path)); ok {
		return advice
	}
	return "The buildpack installs into this path. Remove whatever is there from\n" +
		"your app's source (or make the directory writable) and deploy again."
}

// DiskAdvice explains a failed write that the build machine's filesystem
// caused, naming the directory: it is full, over its quota, read-only or
// not writable for the build's user. ok is false for any other error.
func DiskAdvice(err error, dir string) (advice string, ok bool) {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Sprintf("The filesystem that holds %s is full: it has no space or no\n"+
			"inodes left. Free some there and build again. Nothing was installed.", dir), true
	case errors.Is(err, syscall.EDQUOT):
		return fmt.Sprintf("The disk quota on the filesystem that holds %s is used up.\n"+
			"Free some of it, or raise the quota, and build again. Nothing was installed.", dir), true
	case errors.Is(err, syscall.EROFS):
		return fmt.Sprintf("%s is on a read-only filesystem: the build cannot write there.\n"+
			"Nothing was installed.", dir), true
	}
	return "", false
}

// NotRegularError is a path the buildpack will not read because it is not
// a regular file: a link it does not follow, or a pipe, socket, device or
// directory that reading could block on or misread.
type NotRegularError struct {
	Path string
	Kind string
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is not a regular file (it is %s)", e.Path, e.Kind)
}

// TooLargeError is a file over the size a read allows, found before reading.
type TooLargeError struct {
	Path      string
	Size, Max int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is %d bytes, over the %d-byte limit", e.Path, e.Size, e.Max)
}

// OpenRegular opens a regular file for reading without following a
// symlink, without blocking (a named pipe would otherwise wait for a
// writer for ever) and without becoming the controlling terminal of a
// device; anything but a regular file is a *NotRegularError.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, nil, &NotRegularError{Path: path, Kind: "a symbolic link"}
		}
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, Kind: kind(info.Mode())}
	}
	return f, info, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	default:
		return "not a regular file"
	}
}

// ReadRegular reads a whole regular file of at most max bytes, opened as
// OpenRegular does. A larger file is a *TooLargeError and is not read.
func ReadRegular(path string, max int64) ([]byte, error) {
	f, info, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > max {
		return nil, &TooLargeError{Path: path, Size: info.Size(), Max: max}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &TooLargeError{Path: path, Size: int64(len(data)), Max: max}
	}
	return data, nil
}

// Temporary files name the process that made them, by its id and the time
// it started (<prefix><pid>-<start>-<random>), so a later build can tell what
// a build that is gone left behind from what a build still running is
// writing, even when builds run in containers whose process ids repeat.
// The prefixes carry the buildpack's name: some folders it writes in, such
// as .profile.d, are the app's too, and a file of the app's that happens to
// look like .tmp-1-1-1 is not the buildpack's to remove.
const (
	DownloadPrefix = ".heroku-applink-download-"
	CopyPrefix     = ".heroku-applink-cached-"
	TempPrefix     = ".heroku-applink-tmp-"
)

var tempPrefixes = []string{DownloadPrefix, CopyPrefix, TempPrefix}

// oldPrefixes are the names version 0.1.0 gave its temporary files, without
// the buildpack's name: recognised only in folders that are the
// buildpack's alone (its cache), where a killed build of that version may
// have left them.
var oldPrefixes = []string{".download-", ".cached-", ".tmp-"}

// CreateTemp creates a private temporary file in dir, named with prefix
// and this process's identity.
func CreateTemp(dir, prefix string) (*os.File, error) {
	return os.CreateTemp(dir, TempName(prefix)+"*")
}

// TempName is the start of this process's temporary names with prefix;
// CreateTemp appends random digits to it.
func TempName(prefix string) string {
	return prefix + self() + "-"
}

// self is this process's identity: its id and start time.
var self = sync.OnceValue(func() string {
	return strconv.Itoa(os.Getpid()) + "-" + startTime(os.Getpid())
})

// startTime is when process pid started, in clock ticks since boot (the
// 22nd field of /proc/<pid>/stat), or "" when it cannot be read.
func startTime(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return ""
	}
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 20 {
		return ""
	}
	return fields[19]
}

// RemoveLeftovers removes from dir the temporary files of builds that are
// no longer running, and returns their names. It removes only names of the
// buildpack's own temporary form whose process is gone, never follows a
// link, and never descends into a directory.
func RemoveLeftovers(dir string) ([]string, error) { return removeLeftovers(dir, tempPrefixes) }

// RemoveOwnLeftovers is RemoveLeftovers for a folder that is the
// buildpack's alone, where the older form of the names is recognised too.
func RemoveOwnLeftovers(dir string) ([]string, error) {
	return removeLeftovers(dir, append(slices.Clone(tempPrefixes), oldPrefixes...))
}

func removeLeftovers(dir string, prefixes []string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		if e.IsDir() || !leftover(e.Name(), prefixes) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}

// leftover reports whether name is a temporary file, of exactly the form
// this buildpack makes, of a process that no longer runs: its id is gone,
// or it now belongs to a process that started at another time.
func leftover(name string, prefixes []string) bool {
	for _, p := range prefixes {
		rest, ok := strings.CutPrefix(name, p)
		if !ok {
			continue
		}
		parts := strings.SplitN(rest, "-", 3)
		if len(parts) != 3 || !digits(parts[0]) || !digits(parts[1]) || !digits(parts[2]) {
			// Not ours: another tool's, or the app's, file.
			return false
		}
		if parts[0]+"-"+parts[1] == self() {
			return false
		}
		pid, err := strconv.Atoi(parts[0])
		if err != nil || pid <= 0 {
			return false
		}
		started := startTime(pid)
		return started == "" && !alive(pid) || started != "" && started != parts[1]
	}
	return false
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// alive reports whether a process with this id exists (one that belongs to
// another user counts).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Mine reports whether name is a temporary file of this process.
func Mine(name string) bool {
	for _, p := range tempPrefixes {
		if strings.HasPrefix(name, TempName(p)) {
			return true
		}
	}
	return false
}
