package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/version"
)

// The config vars this buildpack reads.
const (
	VarVersion = "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION"
	VarBucket  = "HEROKU_APPLINK_SERVICE_MESH_S3_BUCKET"
	VarMirror  = "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"
)

// Names lists every variable the buildpack reads, in a stable order.
var Names = []string{VarVersion, VarBucket, VarMirror}

// maxValueLen bounds one config var file. Real values are a few dozen bytes;
// anything this large is a mistake, and reading it whole would be one too.
const maxValueLen = 4096

// Config is the validated user configuration.
type Config struct {
	Request version.Request
	// Source is where release files are downloaded from.
	Source source.Source
}

// Read reads and validates the config vars in dir.
func Read(dir string) (Config, error) {
	vars, err := ReadEnvDir(dir, Names)
	if err != nil {
		return Config{}, err
	}
	return Parse(vars)
}

// ReadEnvDir reads the named variables from dir, one file per variable. A
// missing directory or file means the variable is unset. Other files in dir
// are never opened.
func ReadEnvDir(dir string, names []string) (map[string]string, error) {
	vars := map[string]string{}
	if dir == "" {
		return vars, nil
	}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return vars, nil
	case err != nil:
		return nil, &Error{Reason: fmt.Sprintf("cannot read the config var directory %s: %v", dir, errors.Unwrap(err))}
	case !info.IsDir():
		return nil, &Error{Reason: fmt.Sprintf("the config var directory %s is not a directory", dir)}
	}
	// A directory that cannot be searched would otherwise read as "every
	// variable unreadable": say what is really wrong.
	if d, err := os.Open(dir); err != nil {
		return nil, &Error{Reason: fmt.Sprintf("cannot read the config var directory %s: %v", dir, errors.Unwrap(err)),
			Advice: "The platform passes config vars as files in this directory; the build\nuser must be able to read it."}
	} else {
		d.Close()
	}
	for _, name := range names {
		value, ok, err := readVar(filepath.Join(dir, name))
		var notRegular *files.NotRegularError
		switch {
		case errors.As(err, &notRegular):
			// Not something a user can unset: the platform, or whoever made
			// the directory, wrote it so.
			return nil, &Error{Var: name, Reason: fmt.Sprintf("is not a regular file (it is %s)", notRegular.Kind),
				Advice: "Config vars reach the build as regular files, one per variable, in\n" + dir + ".\n" +
					"The buildpack does not follow links or read pipes there: write the value\ninto a regular file of that name."}
		case err != nil:
			return nil, &Error{Var: name, Reason: err.Error()}
		}
		if ok {
			vars[name] = value
		}
	}
	return vars, nil
}

// readVar reads one variable's file: never through a link, never blocking
// on a pipe, and bounded before it is read.
func readVar(p string) (string, bool, error) {
	b, err := files.ReadRegular(p, maxValueLen)
	var notRegular *files.NotRegularError
	var tooLarge *files.TooLargeError
	switch {
	case err == nil:
		return string(b), true, nil
	case errors.Is(err, fs.ErrNotExist):
		return "", false, nil
	case errors.As(err, &notRegular):
		return "", false, notRegular
	case errors.As(err, &tooLarge):
		return "", false, fmt.Errorf("is longer than %d bytes", maxValueLen)
	default:
		return "", false, fmt.Errorf("cannot be read: %w", files.Cause(err))
	}
}

// Parse validates the variables. Every error names the variable and says
// what a valid value looks like.
func Parse(vars map[string]string) (Config, error) {
	req, err := version.ParseRequest(vars[VarVersion])
	if err != nil {
		return Config{}, err
	}
	c := Config{Request: req, Source: source.Official()}
	if raw := strings.TrimSpace(vars[VarBucket]); raw != "" {
		s, err := source.Bucket(raw)
		if err != nil {
			return Config{}, &Error{Var: VarBucket, Reason: err.Error(),
				Advice: "A bucket name is 3 to 63 lowercase letters, digits, dots and hyphens,\nstarting and ending with a letter or digit."}
		}
		c.Source = s
	}
	if raw := strings.TrimSpace(vars[VarMirror]); raw != "" {
		s, err := source.Mirror(raw)
		if err != nil {
			return Config{}, &Error{Var: VarMirror, Reason: err.Error(),
				Advice: "Use an https:// base URL such as https://mirror.example.com/applink;\n" +
					"http:// is accepted only for a loopback host (127.0.0.1, ::1, localhost)."}
		}
		c.Source = s
	}
	return c, nil
}

// Error is a configuration problem the user can fix.
type Error struct {
	Var    string
	Reason string
	Advice string
}

func (e *Error) Error() string {
	if e.Var == "" {
		return e.Reason
	}
	return fmt.Sprintf("invalid %s: %s", e.Var, e.Reason)
}

// Help says how to fix it.
func (e *Error) Help() string {
	if e.Advice != "" {
		return e.Advice
	}
	if e.Var != "" {
		return fmt.Sprintf("Fix or unset the config var:\n  heroku config:unset %s", e.Var)
	}
	return ""
}

// Operator knobs, read from the build's process environment (never from
// config vars): platforms on slow networks may need longer timeouts, and the
// tests need shorter ones.
const (
	KnobTimeout    = "HEROKU_APPLINK_BUILDPACK_TIMEOUT"
	KnobRetryDelay = "HEROKU_APPLINK_BUILDPACK_RETRY_DELAY"
	KnobDeadline   = "HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE"
)

// Knobs are the operator's settings; a zero duration means the default.
type Knobs struct {
	// Timeout is the connect, response-header and idle-body timeout.
	Timeout time.Duration
	// RetryDelay is the first retry's backoff.
	RetryDelay time.Duration
	// Deadline bounds each download as a whole.
	Deadline time.Duration
}

// ReadKnobs validates the knobs in the build's environment.
func ReadKnobs(getenv func(string) string) (Knobs, error) {
	var k Knobs
	for _, knob := range []struct {
		name string
		into *time.Duration
	}{{KnobTimeout, &k.Timeout}, {KnobRetryDelay, &k.RetryDelay}, {KnobDeadline, &k.Deadline}} {
		d, err := seconds(knob.name, getenv(knob.name))
		if err != nil {
			return Knobs{}, err
		}
		*knob.into = d
	}
	return k, nil
}

// seconds accepts only a finite positive number of seconds up to an hour:
// NaN, infinities, zero and negatives would switch a bound off.
func seconds(name, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f > 3600 {
		return 0, &Error{Reason: fmt.Sprintf("%s=%q: want a number of seconds greater than 0 and at most 3600", name, v),
			Advice: "This is a setting of the build platform, not a config var: fix it where\nthe build's environment is set."}
	}
	return time.Duration(f * float64(time.Second)), nil
}

// maxVars bounds how many names VarNames lists: an app has dozens.
const maxVars = 10000

// VarNames lists the names of the config vars in dir, opening no file:
// only names, never values. ok is false when the build cannot see the
// app's config (dir is missing or unreadable).
func VarNames(dir string) (names []string, ok bool) {
	if dir == "" {
		return nil, false
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, false
	}
	defer d.Close()
	entries, err := d.ReadDir(maxVars)
	if err != nil && len(entries) == 0 && !errors.Is(err, io.EOF) {
		return nil, false
	}
	names = []string{}
	for _, e := range entries {
		// Mounted secrets are often links: a name is a name.
		if !e.IsDir() && validName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, true
}

// validName is an environment variable name a platform would export.
func validName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

// IsPort reports whether s is a TCP port number as a Procfile or a config
// file spells one: digits only, 1 to 65535.
func IsPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	n, _ := strconv.Atoi(s)
	return n >= 1 && n <= 65535
}
