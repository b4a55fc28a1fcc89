package config

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

// The config vars this buildpack reads, and the bucket releases come from.
const (
	VarVersion = "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION"
	VarBucket  = "HEROKU_APPLINK_SERVICE_MESH_S3_BUCKET"
	VarMirror  = "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"
	// maxValueLen bounds a config var file: real values are a few dozen bytes.
	maxValueLen = 4096
	// KeyObject is the release signing key's name in the bucket.
	KeyObject = "public-key.asc"
	// OfficialBucket is the bucket Heroku publishes the mesh to.
	OfficialBucket = "heroku-applink-service-mesh-binaries"
	s3Host         = "s3.dualstack.us-east-1.amazonaws.com"
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
	root, err := fsutil.OpenRoot(dir)
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
		default: // without its path: the message names the variable
			return Config{}, &Error{Var: name, Problem: "cannot be read: " + cmp.Or(errors.Unwrap(err), err).Error()}
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

// OfficialURL is an object's URL in the official bucket.
func OfficialURL(object string) string {
	return "https://" + OfficialBucket + "." + s3Host + "/" + object
}

// Source is where release files come from; the zero value is the official bucket.
type Source struct {
	kind string // "bucket" or "mirror"
	base *url.URL
}

// Bucket replaces the official bucket with another one, named by S3's rules.
// Naming the official bucket is the same as naming none.
func Bucket(name string) (Source, error) {
	valid := len(name) >= 3 && len(name) <= 63 && strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789.-") == "" &&
		strings.Trim(name, ".-") == name && !strings.Contains(name, "..") && net.ParseIP(name) == nil
	switch {
	case !valid && len(name) > 70:
		return Source{}, fmt.Errorf("%q is not a valid S3 bucket name", name[:70]+"…")
	case !valid:
		return Source{}, fmt.Errorf("%q is not a valid S3 bucket name", name)
	case strings.Contains(name, "."): // S3's wildcard certificate covers one label
		return Source{}, fmt.Errorf("%q has dots, which S3's https certificate does not cover: set HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL=https://s3.<region>.amazonaws.com/%s instead", name, name)
	case name == OfficialBucket:
		return Source{}, nil
	}
	return Source{kind: "bucket", base: &url.URL{Scheme: "https", Host: name + "." + s3Host}}, nil
}

// Mirror replaces scheme, host and path of every download with a base URL: https, or http
// to a loopback host. Its credentials, if any, are used for requests and never shown.
func Mirror(raw string) (Source, error) {
	u, err := url.Parse(raw)
	switch {
	case !utf8.ValidString(raw) || strings.ContainsAny(raw, " \t\r\n\x00"):
		return Source{}, errors.New("it contains white space or control characters")
	case err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "":
		return Source{}, fmt.Errorf("%s is not an absolute URL", Redact(raw))
	case u.Scheme == "http" && !IsLoopback(u.Hostname()):
		return Source{}, fmt.Errorf("%s uses http to a host that is not loopback", Redact(raw))
	case u.Scheme != "https" && u.Scheme != "http":
		return Source{}, fmt.Errorf("%s uses the scheme %q", Redact(raw), u.Scheme)
	case u.RawQuery != "" || u.Fragment != "":
		return Source{}, fmt.Errorf("%s has a query or fragment", Redact(raw))
	case strings.Contains(u.Path, "@") || strings.Contains(u.Host, "@"):
		// A credential that holds a "/" (a base64 token, say), which
		// url.Parse reads as host and path: refuse it rather than send it.
		return Source{}, fmt.Errorf("%s has an \"@\" after its host, read as the end of credentials: percent-encode a \"/\" or \"@\" in a user name or password (%%2F, %%40); a mirror's path cannot hold an \"@\"", Redact(raw))
	}
	return Source{kind: "mirror", base: u}, nil
}

// URL is where to request an object from. It may carry credentials: hand
// it to the HTTP client, never to a log or a file.
func (s Source) URL(object string) string {
	if s.base == nil {
		return OfficialURL(object)
	}
	u := *s.base
	// Kept encoded: a path's %40 must not become an "@" that Redact reads as credentials.
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/")+"/"+object, strings.TrimSuffix(u.EscapedPath(), "/")+"/"+object
	return u.String()
}

// Overridden reports whether downloads come from another bucket or a mirror.
func (s Source) Overridden() bool { return s.base != nil }

// Kind names the source for the build report, never with a URL.
func (s Source) Kind() string { return cmp.Or(s.kind, "official") }

// IsLoopback reports whether host is loopback, the only one plain http may reach.
func IsLoopback(host string) bool {
	return strings.EqualFold(host, "localhost") || net.ParseIP(host).IsLoopback() // a nil IP is not loopback
}

// Redact is a URL as the build log may show it: whatever precedes its last
// "@", parsed as user info or not (a malformed URL can hold a password in
// a fragment), reads "xxxxx", so the log still says credentials were used.
func Redact(raw string) string { return strip(raw, "xxxxx@") }

// Public is a URL with nothing before its last "@", as the buildpack may store it.
func Public(raw string) string { return strip(raw, "") }

func strip(raw, with string) string {
	at := strings.LastIndex(raw, "@")
	if i := strings.LastIndex(raw, "%40"); i >= 0 && i+2 > at { // an "@" written %40 may end credentials too
		at = i + 2
	}
	if at < 0 {
		return raw
	}
	if scheme := strings.Index(raw, "://"); scheme >= 0 && scheme < at {
		return raw[:scheme+3] + with + raw[at+1:]
	}
	return with + raw[at+1:]
}
