package config

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

// The config vars this buildpack reads.
const (
	VarVersion = "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION"
	VarBucket  = "HEROKU_APPLINK_SERVICE_MESH_S3_BUCKET"
	VarMirror  = "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"
	// maxValueLen bounds a config var file: real values are a few dozen bytes.
	maxValueLen = 4096
)

// Config is the validated user configuration.
type Config struct {
	Request inventory.Request
	Source  Source
}

// Read reads and validates the three config vars in dir. A missing
// directory or file means the variable is unset; no other file is opened.
func Read(dir string) (Config, error) {
	vars := map[string]string{}
	root, err := os.OpenRoot(dir)
	switch {
	case dir == "" || errors.Is(err, fs.ErrNotExist):
		return Parse(vars)
	case err != nil:
		return Config{}, &Error{Problem: fmt.Sprintf("cannot read the config var directory %s: %v", dir, errors.Unwrap(err)),
			Advice: "The platform passes config vars as files in this directory; the build\nuser must be able to read it."}
	}
	defer root.Close()
	for _, name := range []string{VarVersion, VarBucket, VarMirror} {
		b, err := fsutil.ReadFile(root, name, maxValueLen)
		notRegular, isNotRegular := errors.AsType[*fsutil.NotRegularError](err)
		switch {
		case err == nil:
			vars[name] = string(b)
		case errors.Is(err, fs.ErrNotExist):
		case isNotRegular:
			return Config{}, &Error{Var: name, Problem: "is not a regular file (it is " + notRegular.Kind + ")",
				Advice: "Config vars reach the build as regular files, one per variable, in\n" + dir + ".\n" +
					"The buildpack does not follow links out of it or read pipes: write the\nvalue into a regular file of that name."}
		case errors.As(err, new(*fsutil.TooLargeError)):
			return Config{}, &Error{Var: name, Problem: fmt.Sprintf("is longer than %d bytes", maxValueLen)}
		default:
			if pe, ok := errors.AsType[*fs.PathError](err); ok {
				err = pe.Err
			}
			return Config{}, &Error{Var: name, Problem: "cannot be read: " + err.Error()}
		}
	}
	return Parse(vars)
}

// Parse validates the variables; every error names its variable.
func Parse(vars map[string]string) (Config, error) {
	req, err := inventory.ParseRequest(vars[VarVersion])
	if err != nil {
		return Config{}, &Error{Var: VarVersion, Problem: err.Error(), reason: "config::invalid-version",
			Advice: "Use an exact version (0.2.2 or v0.2.2), a semver constraint (~0.2, ^1,\n" +
				"\">=1.0, <2\") or latest, or unset it to use the newest pinned release."}
	}
	c := Config{Request: req}
	if raw := strings.TrimSpace(vars[VarBucket]); raw != "" {
		if c.Source, err = Bucket(raw); err != nil {
			return Config{}, &Error{Var: VarBucket, Problem: err.Error(),
				Advice: "A bucket name is 3 to 63 lowercase letters, digits, dots and hyphens,\nstarting and ending with a letter or digit."}
		}
	}
	if raw := strings.TrimSpace(vars[VarMirror]); raw != "" {
		if c.Source, err = Mirror(raw); err != nil {
			return Config{}, &Error{Var: VarMirror, Problem: err.Error(),
				Advice: "Use an https:// base URL such as https://mirror.example.com/applink;\n" +
					"http:// is accepted only for a loopback host (127.0.0.1, ::1, localhost)."}
		}
	}
	return c, nil
}

// Error is a configuration problem the user can fix.
type Error struct {
	Var, Problem, Advice string
	reason               string
}

func (e *Error) Error() string {
	if e.Var == "" {
		return e.Problem
	}
	return fmt.Sprintf("invalid %s: %s", e.Var, e.Problem)
}
func (e *Error) Help() string {
	if e.Advice == "" && e.Var != "" {
		return fmt.Sprintf("Fix or unset the config var:\n  heroku config:unset %s", e.Var)
	}
	return e.Advice
}
func (e *Error) Reason() string { return cmp.Or(e.reason, "config::invalid") }
