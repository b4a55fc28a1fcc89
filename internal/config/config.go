package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

// The config vars this buildpack reads.
const (
	VarVersion = "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION"
	VarBucket  = "HEROKU_APPLINK_SERVICE_MESH_S3_BUCKET"
	VarMirror  = "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"
)

// Names lists every variable the buildpack reads, in a stable order.
var Names = []string{VarVersion, VarBucket, VarMirror}

// DefaultBucket is the release bucket the mesh is published to.
const DefaultBucket = "heroku-applink-service-mesh-binaries"

// s3Host is the dual-stack endpoint the release bucket is served from.
const s3Host = "s3.dualstack.us-east-1.amazonaws.com"

// maxValueLen bounds one config var file. Real values are a few dozen bytes;
// anything this large is a mistake, and reading it whole would be one too.
const maxValueLen = 4096

// Config is the validated user configuration.
type Config struct {
	Request inventory.Request
	// Bucket overrides the release bucket; empty means the official one.
	Bucket string
	// Mirror replaces scheme, host and path of every download; nil means none.
	Mirror *url.URL
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
		if err != nil {
			return nil, &Error{Var: name, Reason: err.Error()}
		}
		if ok {
			vars[name] = value
		}
	}
	return vars, nil
}

func readVar(p string) (string, bool, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("cannot be read: %w", errors.Unwrap(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", false, fmt.Errorf("cannot be read: %w", err)
	}
	if !info.Mode().IsRegular() {
		return "", false, errors.New("is not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxValueLen+1))
	if err != nil {
		return "", false, fmt.Errorf("cannot be read: %w", err)
	}
	if len(b) > maxValueLen {
		return "", false, fmt.Errorf("is longer than %d bytes", maxValueLen)
	}
	return string(b), true, nil
}

// Parse validates the variables. Every error names the variable and says
// what a valid value looks like.
func Parse(vars map[string]string) (Config, error) {
	var c Config
	req, err := inventory.ParseRequest(vars[VarVersion])
	if err != nil {
		return Config{}, err
	}
	c.Request = req
	if raw := strings.TrimSpace(vars[VarBucket]); raw != "" {
		if !validBucket(raw) {
			return Config{}, &Error{Var: VarBucket, Reason: fmt.Sprintf("%s is not a valid S3 bucket name", quote(raw)),
				Advice: "A bucket name is 3 to 63 lowercase letters, digits, dots and hyphens,\nstarting and ending with a letter or digit."}
		}
		if raw != DefaultBucket {
			c.Bucket = raw
		}
	}
	if raw := strings.TrimSpace(vars[VarMirror]); raw != "" {
		u, err := parseMirror(raw)
		if err != nil {
			return Config{}, err
		}
		c.Mirror = u
	}
	return c, nil
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func validBucket(s string) bool {
	if !bucketName.MatchString(s) || strings.Contains(s, "..") {
		return false
	}
	// S3 forbids names formatted as IP addresses.
	return net.ParseIP(s) == nil
}

func parseMirror(raw string) (*url.URL, error) {
	mirrorErr := func(reason string) error {
		return &Error{Var: VarMirror, Reason: reason,
			Advice: "Use an https:// base URL such as https://mirror.example.com/applink;\n" +
				"http:// is accepted only for a loopback host (127.0.0.1, ::1, localhost)."}
	}
	if !utf8.ValidString(raw) || strings.ContainsAny(raw, " \t\r\n\x00") {
		return nil, mirrorErr("it contains white space or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return nil, mirrorErr(fmt.Sprintf("%s is not an absolute URL", redactRaw(raw)))
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !fetch.IsLoopback(u.Hostname()) {
			return nil, mirrorErr(fmt.Sprintf("%s uses http to a host that is not loopback", redactRaw(raw)))
		}
	default:
		return nil, mirrorErr(fmt.Sprintf("%s uses the scheme %q", redactRaw(raw), u.Scheme))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, mirrorErr(fmt.Sprintf("%s has a query or fragment", redactRaw(raw)))
	}
	return u, nil
}

// redactRaw hides anything that looks like credentials in a value the user
// gave, parsed or not: everything before its last "@" (after the scheme).
// Error messages echo the value through it, because a malformed URL can
// carry a password where url.Parse finds no user info (in a fragment, say).
func redactRaw(raw string) string {
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		if scheme := strings.Index(raw, "://"); scheme >= 0 && scheme < at {
			return raw[:scheme+3] + "xxxxx@" + raw[at+1:]
		}
		return "xxxxx@" + raw[at+1:]
	}
	return raw
}

// URL is where the artifact is downloaded from under this configuration. The
// pinned checksum applies whatever the source.
func (c Config) URL(a inventory.Artifact) string {
	if !c.Overridden() {
		return a.URL
	}
	return c.ObjectURL(path.Base(mustParse(a.URL).Path))
}

// ObjectURL is where a release bucket object is downloaded from: the mirror,
// the overridden bucket, or the official bucket.
func (c Config) ObjectURL(object string) string {
	switch {
	case c.Mirror != nil:
		u := *c.Mirror
		u.Path = strings.TrimSuffix(u.Path, "/") + "/" + object
		u.RawPath = ""
		return u.String()
	case c.Bucket != "":
		return "https://" + c.Bucket + "." + s3Host + "/" + object
	default:
		return OfficialURL(object)
	}
}

// OfficialURL is an object's URL in the official release bucket.
func OfficialURL(object string) string {
	return "https://" + DefaultBucket + "." + s3Host + "/" + object
}

// Overridden reports whether downloads come from somewhere other than the
// official release bucket.
func (c Config) Overridden() bool { return c.Mirror != nil || c.Bucket != "" }

// Source describes where downloads come from, for the build log.
func (c Config) Source() string {
	switch {
	case c.Mirror != nil:
		return "mirror " + redactURL(c.Mirror)
	case c.Bucket != "":
		return "bucket " + c.Bucket
	default:
		return "official release bucket"
	}
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		// Inventory URLs are validated when the inventory is parsed.
		panic(fmt.Sprintf("inventory URL %q did not parse: %v", s, err))
	}
	return u
}

// Redact returns a URL with any password replaced, safe for a build log.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactRaw(raw)
	}
	return redactURL(u)
}

// redactURL hides the whole user info, not just the password: a token is
// often passed as the user name.
func redactURL(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = url.User("xxxxx")
	return c.String()
}

func quote(s string) string {
	if len(s) > 70 {
		return fmt.Sprintf("%q… (%d bytes)", s[:70], len(s))
	}
	return fmt.Sprintf("%q", s)
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
