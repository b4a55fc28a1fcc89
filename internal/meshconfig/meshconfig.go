package meshconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/procfile"
)

// FileName is the only file the mesh reads, from its working directory:
// the app's root on a dyno and in an image.
const FileName = "heroku-applink-service-mesh.yaml"

// oldFileName is what the mesh read before it was renamed for AppLink.
const oldFileName = "heroku-integration-service-mesh.yaml"

// MaxSize bounds the read: real files are a few lines.
const MaxSize = 64 << 10

// DefaultHealthRoute is the health check's route when the file names none.
const DefaultHealthRoute = "/healthcheck"

// config is the shape the mesh reads the file into (the public mesh
// source's conf.YamlConfig): every value a string, a YAML number or
// boolean read as its text.
type config struct {
	App  app  `yaml:"app"`
	Mesh mesh `yaml:"mesh"`
}

type app struct {
	Port string `yaml:"port"`
	Host string `yaml:"host"`
}

type mesh struct {
	Authentication authentication `yaml:"authentication"`
	HealthCheck    healthcheck    `yaml:"healthcheck"`
}

type authentication struct {
	BypassRoutes []string `yaml:"bypassRoutes"`
}

type healthcheck struct {
	Enable string `yaml:"enable"`
	Route  string `yaml:"route"`
}

// sections are the mappings of the file, by the type the decoder's
// errors name: where each is, and the keys it takes.
var sections = map[string]struct{ path, keys string }{
	"meshconfig.config":         {"", "app and mesh"},
	"meshconfig.app":            {"app", "port and host"},
	"meshconfig.mesh":           {"mesh", "authentication and healthcheck"},
	"meshconfig.authentication": {"mesh.authentication", "bypassRoutes"},
	"meshconfig.healthcheck":    {"mesh.healthcheck", "enable and route"},
}

// Kind names a finding, for the build report.
type Kind string

// What a check finds.
const (
	Invalid      Kind = "mesh-config-invalid"
	UnknownKey   Kind = "mesh-config-unknown-key"
	WrongShape   Kind = "mesh-config-wrong-shape"
	Duplicate    Kind = "mesh-config-duplicate-key"
	BadRoute     Kind = "mesh-config-route"
	OpenRoute    Kind = "mesh-config-bypasses-everything"
	Placeholder  Kind = "mesh-config-route-placeholder"
	BadEnable    Kind = "mesh-config-healthcheck-enable"
	BadHost      Kind = "mesh-config-app-host"
	RemoteHost   Kind = "mesh-config-app-host-remote"
	BadPort      Kind = "mesh-config-app-port"
	PortOverride Kind = "mesh-config-app-port-overridden"
	ManyDocs     Kind = "mesh-config-documents"
	Misplaced    Kind = "mesh-config-misplaced"
	Unreadable   Kind = "mesh-config-unreadable"
)

// Finding is one thing wrong with the file, or with where it is.
type Finding struct {
	Kind Kind
	// Line is where in the file, or 0.
	Line int
	Text string
}

// Route is a path that skips authentication.
type Route struct {
	Path string
	// Health is set for the health check's route.
	Health bool
}

// Result is what the check found.
type Result struct {
	// Path is where the mesh reads the file, relative to the app's root.
	Path string
	// Found: the app has the file where the mesh reads it. Read: it could
	// be read, so the findings below say what the mesh will make of it.
	Found, Read bool
	// Fatal is set when the mesh cannot load the file: it exits at boot,
	// or, for a Null first document, crashes.
	Fatal, Null bool
	// Structure are what the mesh's decoder reports, which make it exit.
	Structure []Finding
	// Warnings are findings the mesh survives but the user should hear.
	Warnings []Finding
	// Bypass are the routes that skip authentication, when not Fatal.
	Bypass []Route
	// AppPort is app.port when it is a port number: where the mesh
	// forwards when APP_PORT is unset.
	AppPort string
}

// AppPort is what else sets the port the mesh forwards to, which wins
// over app.port.
type AppPort struct {
	// Procfile is APP_PORT's value where the web process assigns it.
	Procfile string
	// ConfigVar is set when the app has an APP_PORT config var.
	ConfigVar bool
}

// Check reads the mesh's config file where the web process starts the
// mesh, in dir of the app's ("" for its root; unknown when the build cannot
// tell), and looks for copies the mesh will never read. A folder missing at
// this point of the build (a later buildpack may make it), or outside the
// app, cannot be checked: the build says so when the app has a config file
// elsewhere. It never fails: what it cannot read it reports.
func Check(root *os.Root, dir string, unknown bool) Result {
	if unknown {
		return notChecked(root, "", "The Procfile's web process changes directory before it starts the mesh in a\n"+
			"way the build cannot follow, so it cannot tell which "+FileName+"\n"+
			"the mesh reads: none was checked.")
	}
	r := Result{Path: path.Join(dir, FileName)}
	if info, err := root.Stat(path.Join(".", dir)); err != nil || !info.IsDir() {
		return notChecked(root, dir, fmt.Sprintf("%s was not checked: the Procfile's web process starts the mesh in\n%s/, "+
			"which this build cannot look into (it does not exist yet, or it is\noutside the app).", r.Path, dir))
	}
	r.Warnings = misplaced(root, dir)
	data, err := fsutil.ReadFile(root, r.Path, MaxSize)
	if errors.Is(err, fs.ErrNotExist) {
		return r
	}
	r.Found = true
	if err != nil {
		r.Warnings = append(r.Warnings, Finding{Kind: Unreadable, Text: r.Path + " was not checked: " + procfile.Reason(err) + "."})
		return r
	}
	r.Read = true
	r.check(data)
	return r
}

// Against adds what else sets the mesh's port: APP_PORT wins over
// app.port, so an app.port it overrides is a mistake to hear about.
func (r *Result) Against(port AppPort) {
	p := r.AppPort
	switch {
	case p == "":
	case port.Procfile != "" && port.Procfile != p:
		r.Warnings = append(r.Warnings, Finding{Kind: PortOverride, Text: fmt.Sprintf(
			"app.port is %s, but the Procfile sets APP_PORT=%s for the mesh, which wins:\nthe mesh forwards to port %s.", p, port.Procfile, port.Procfile)})
	case port.Procfile == "" && port.ConfigVar:
		r.Warnings = append(r.Warnings, Finding{Kind: PortOverride, Text: fmt.Sprintf(
			"app.port is %s, but the app has an APP_PORT config var, which wins: the\nmesh forwards to that port instead.", p)})
	}
}

// maxStructure bounds the decoder's findings printed: a file that is wrong
// everywhere needs fixing, not a flood.
const maxStructure = 10

// check decodes the file as the mesh does: strictly, into a pointer, which
// a null first document sets to nil (the mesh crashes on that at boot).
func (r *Result) check(data []byte) {
	got := &config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&got)
	var typeErr *yaml.TypeError
	switch {
	case errors.Is(err, io.EOF):
		r.Structure = []Finding{{Kind: Invalid, Text: "the file has no content (the mesh reads an empty file as an error)"}}
	case errors.As(err, &typeErr):
		for _, e := range typeErr.Errors {
			r.Structure = append(r.Structure, finding(e))
		}
	case err != nil:
		r.Structure = []Finding{finding(strings.TrimPrefix(err.Error(), "yaml: "))}
	case got == nil:
		r.Null = true
		r.Structure = []Finding{{Kind: Invalid, Text: "the file's first YAML document is empty (null)"}}
	}
	if r.Fatal = len(r.Structure) > 0; r.Fatal {
		if n := len(r.Structure); n > maxStructure {
			r.Structure = append(r.Structure[:maxStructure], Finding{Kind: r.Structure[maxStructure].Kind, Text: fmt.Sprintf("and %d more", n-maxStructure)})
		}
		return
	}
	n := 0
	for more := (yaml.Node{}); n < 100 && dec.Decode(&more) == nil; n++ {
	}
	if n > 0 {
		r.Warnings = append(r.Warnings, Finding{Kind: ManyDocs, Text: fmt.Sprintf("%s holds %d YAML documents; the mesh reads only the first.", r.Path, n+1)})
	}
	r.values(*got)
}

// finding reads one of the decoder's errors, "line N: …", in the file's
// terms rather than the Go types it decodes into.
func finding(e string) Finding {
	f := Finding{Kind: Invalid, Text: e}
	if rest, ok := strings.CutPrefix(e, "line "); ok {
		n, text, _ := strings.Cut(rest, ": ")
		if line, err := strconv.Atoi(n); err == nil {
			f.Line, f.Text = line, text
		}
	}
	field, typ, unknown := strings.Cut(strings.TrimPrefix(f.Text, "field "), " not found in type ")
	got, want, wrong := strings.Cut(strings.TrimPrefix(f.Text, "cannot unmarshal "), " into ")
	switch s := sections[typ]; {
	case unknown && s.path == "":
		f.Kind, f.Text = UnknownKey, field+" is not a key the mesh knows; the top-level keys are "+s.keys
	case unknown:
		f.Kind, f.Text = UnknownKey, s.path+"."+field+" is not a key the mesh knows; the keys under "+s.path+" are "+s.keys
	case wrong:
		what := map[string]string{"!!seq": "a list", "!!map": "a mapping"}[got]
		if _, value, ok := strings.Cut(got, " `"); ok && what == "" {
			what = fmt.Sprintf("the value %q", strings.TrimSuffix(value, "`"))
		}
		switch want {
		case "string":
			want = "a single value"
		case "[]string":
			want = "a list of routes (- /health)"
		default:
			want = "a mapping of " + sections[want].keys
		}
		f.Kind, f.Text = WrongShape, want+" belongs here, not "+cmp(what, got)
	case strings.Contains(f.Text, " already defined at line "):
		f.Kind = Duplicate
	}
	return f
}

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// local are the hosts that are this dyno, where the app runs beside the
// mesh.
var local = map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "0.0.0.0": true}

// values checks what a file the mesh loads says: what the mesh takes
// without a word but that breaks routing or authentication.
func (r *Result) values(got config) {
	health := got.Mesh.HealthCheck
	switch route := cmp(health.Route, DefaultHealthRoute); health.Enable {
	case "", "true":
		r.Bypass = append(r.Bypass, Route{Path: route, Health: true})
		switch {
		case opensAll(route):
			// The health route bypasses authentication as bypassRoutes do.
			r.warn(OpenRoute, "mesh.healthcheck.route is %q, which matches every path: the health check's\n"+
				"route skips authentication, so no request to the app is authenticated.", route)
		case !strings.HasPrefix(route, "/"):
			r.warn(BadRoute, "mesh.healthcheck.route is %q, which does not start with /: it never matches a\n"+
				"request path, so no health check answers.", route)
		}
	case "false":
	default:
		r.warn(BadEnable, "mesh.healthcheck.enable is %q: the mesh turns the health check on only for\n"+
			"exactly true, so with this value it is off and %s needs\nauthentication like any other route. Write true or false.", health.Enable, route)
	}
	for _, route := range got.Mesh.Authentication.BypassRoutes {
		switch prefix, placeholder := placeholders(route); {
		case !strings.HasPrefix(route, "/") && route != "*":
			r.warn(BadRoute, "mesh.authentication.bypassRoutes has %q, which does not start with /: it\n"+
				"never matches a request path, so that route still needs authentication.", route)
		case placeholder:
			r.warn(Placeholder, "mesh.authentication.bypassRoutes has %q, but the mesh compares routes\n"+
				"literally (only a final * matches more): a request to a real path there still\n"+
				"needs authentication. To skip it for every path under %s, write %s*.", route, prefix, prefix)
		default:
			r.Bypass = append(r.Bypass, Route{Path: route})
			if opensAll(route) {
				r.warn(OpenRoute, "mesh.authentication.bypassRoutes has %q, which matches every path: no\n"+
					"request to the app is authenticated, and anyone can reach every route.", route)
			}
		}
	}
	if host := got.App.Host; host != "" {
		if shown, why := hostProblem(host); why != "" {
			r.warn(BadHost, "app.host is %q: the mesh forwards to app.host, \":\", the port and the path,\n"+
				"so it must be a scheme and a host only, as in http://127.0.0.1; %s.", shown, why)
		} else if u, _ := url.Parse(host); !local[strings.ToLower(u.Hostname())] {
			r.warn(RemoteHost, "app.host is %q, which is not this dyno: the mesh forwards every request\n"+
				"there, while your app runs beside the mesh, so requests fail (502) or reach\n"+
				"another server. Use http://127.0.0.1, or remove app.host.", host)
		}
	}
	if p := got.App.Port; procfile.IsPort(p) {
		r.AppPort = p
	} else if p != "" {
		r.warn(BadPort, "app.port is %q, which is not a port number.", p)
	}
}

func (r *Result) warn(kind Kind, format string, a ...any) {
	r.Warnings = append(r.Warnings, Finding{Kind: kind, Text: fmt.Sprintf(format, a...)})
}

// opensAll reports whether a bypass route matches every path: the mesh
// matches a route ending in * as a prefix.
func opensAll(route string) bool { return route == "*" || route == "/*" || route == "/**" }

// placeholders reports whether a route has a segment that frameworks read
// as a parameter (:id, {id}), and the route up to it.
func placeholders(route string) (string, bool) {
	segments := strings.Split(route, "/")
	for i, s := range segments {
		if len(s) > 1 && s[0] == ':' || len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}' {
			return strings.Join(segments[:i], "/") + "/", true
		}
	}
	return "", false
}

// hostProblem says what is wrong with app.host's form, or "", and how to
// show it: user info in it may be a secret, and is not printed.
func hostProblem(host string) (shown, why string) {
	if at := strings.LastIndex(host, "@"); at >= 0 {
		scheme, _, found := strings.Cut(host[:at], "://")
		if found {
			scheme += "://"
		} else {
			scheme = ""
		}
		return scheme + "xxxxx" + host[at:], "user info here is sent nowhere, and breaks the address"
	}
	if lower := strings.ToLower(host); !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return host, "this one has no scheme"
	}
	u, err := url.Parse(host)
	switch {
	case err != nil || u.Host == "":
		return host, "this one has no host"
	case u.Port() != "":
		return host, "the port goes in app.port or APP_PORT, not here"
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(host, "?") || strings.HasSuffix(host, "#"):
		return host, "a path here ends up before the port"
	}
	return "", ""
}

// The search for misplaced copies covers the app's own tree a few levels
// deep, never dependencies or links.
const (
	maxDepth   = 3
	maxEntries = 20000
)

var skipDirs = map[string]bool{"node_modules": true, "vendor": true, "target": true, "build": true, "dist": true}

// notChecked is a result that says why no file was checked, when there is
// one to check: in dir, or anywhere the mesh's names appear.
func notChecked(root *os.Root, dir, why string) Result {
	r := Result{Path: path.Join(dir, FileName)}
	if len(copies(root, "")) == 0 {
		return r
	}
	r.Found = true
	if dir != "" {
		r.Warnings = misplaced(root, dir)
	}
	r.Warnings = append(r.Warnings, Finding{Kind: Unreadable, Text: why})
	return r
}

// same reports whether two of the app's paths are one file or folder.
func same(root *os.Root, a, b string) bool {
	x, errA := root.Stat(path.Join(".", a))
	y, errB := root.Stat(path.Join(".", b))
	return errA == nil && errB == nil && os.SameFile(x, y)
}

// misplaced finds files the mesh will never read: the config under another
// name where the mesh reads it (in dir), or under its name elsewhere. A
// pre-AppLink file is worth renaming only when the AppLink mesh would load
// it.
func misplaced(root *os.Root, dir string) []Finding {
	var found []Finding
	where := "the app's root directory"
	if dir != "" {
		where = dir + "/, where the Procfile's web process starts it"
	}
	for _, rel := range copies(root, dir) {
		text := rel + " is not read by the mesh, which reads only " + FileName
		switch lower := strings.ToLower(path.Base(rel)); {
		case rel == path.Join(dir, FileName) || same(root, rel, path.Join(dir, FileName)):
			continue // the one the mesh reads
		case !same(root, path.Dir(rel), dir):
			text += ",\nunder that exact name, from " + where + ". Move it there."
		case lower == oldFileName || lower == "heroku-integration-service-mesh.yml":
			text = rel + " is the name from before AppLink: the AppLink mesh reads\n" + FileName + ". Rename it."
			var old Result
			if data, err := fsutil.ReadFile(root, rel, MaxSize); err == nil {
				if old.check(data); old.Fatal {
					text = rel + " is the name from before AppLink: the AppLink mesh reads\n" + FileName +
						", but would not load this file once renamed, and would exit at\nboot: " + describe(old.Structure[0]) +
						".\nFix it before you rename it, or remove it."
				}
			}
		default:
			text += ", with\nthat exact name. Rename it."
		}
		found = append(found, Finding{Kind: Misplaced, Text: text})
	}
	return found
}

func describe(f Finding) string {
	if f.Line > 0 {
		return fmt.Sprintf("line %d: %s", f.Line, f.Text)
	}
	return f.Text
}

// meshName reports whether a file's name is one of the mesh's config
// file's, in any case, with .yml, or from before AppLink.
func meshName(name string) bool {
	lower := strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(name), ".yaml"), ".yml")
	return len(lower) < len(name) && (lower == "heroku-applink-service-mesh" || lower == "heroku-integration-service-mesh")
}

// copies lists the app's files under the mesh's names, relative to its
// root: in dir, then at the root, then in the rest of the app's own tree a
// few levels deep, never in dependencies or hidden folders, nor through
// links.
func copies(root *os.Root, dir string) []string {
	fsys := root.FS()
	var out []string
	entries, _ := fs.ReadDir(fsys, path.Join(".", dir))
	for _, e := range entries {
		if !e.IsDir() && meshName(e.Name()) {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	seen := 0
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		seen++
		switch {
		case seen > maxEntries:
			return fs.SkipAll
		case err != nil && d != nil && d.IsDir():
			return fs.SkipDir // a folder the build cannot read hides only itself
		case err != nil:
		case d.IsDir() && p != "." && (strings.HasPrefix(d.Name(), ".") || skipDirs[d.Name()] || strings.Count(p, "/") >= maxDepth):
			return fs.SkipDir
		case !d.IsDir() && meshName(d.Name()) && !slices.ContainsFunc(out, func(q string) bool { return q == p || same(root, q, p) }):
			out = append(out, p)
		}
		return nil
	})
	rank := func(p string) int {
		switch path.Dir(p) {
		case path.Join(".", dir):
			return 0
		case ".":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}
