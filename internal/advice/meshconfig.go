package advice

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// configName is the only file the mesh reads, from where it starts.
const configName = "heroku-applink-service-mesh.yaml"

// meshConfig is the mesh's conf.YamlConfig; a key is its field's name in lower case.
type meshConfig struct {
	App  struct{ Port, Host string }
	Mesh struct {
		Authentication struct {
			BypassRoutes []string `yaml:"bypassRoutes"`
		}
		HealthCheck struct{ Enable, Route string }
	}
}

type finding struct {
	Kind string
	Line int
	Text string
}

func (f finding) String() string {
	return strings.TrimPrefix(fmt.Sprintf("line %d: %s", f.Line, f.Text), "line 0: ")
}

// config is the check's verdict: fatal when the mesh exits at boot (null: crashes).
type config struct {
	path, appPort            string
	found, read, fatal, null bool
	decoded, warnings        []finding
	bypass                   []string // the routes that skip authentication, as the report lists them
}

// checkConfig reads the file where web starts the mesh, and looks for copies it never reads.
func checkConfig(root *os.Root, dir string, unknown bool) config {
	c := config{path: path.Join(dir, configName)}
	if !unknown {
		c.misplaced(root, dir)
	}
	if info, err := root.Stat(path.Join(".", dir)); unknown || err != nil || !info.IsDir() {
		why := c.path + " was not checked: the Procfile's web process starts the mesh in\n" + dir + "/, which this build cannot look into (it does not exist yet, or it is\noutside the app)."
		if unknown {
			c.path, why = configName, "The Procfile's web process changes directory before it starts the mesh in a\nway the build cannot follow, so it cannot tell which "+configName+"\nthe mesh reads: none was checked."
		}
		if c.found = len(copies(root, "")) > 0; c.found {
			c.warn("mesh-config-unreadable", "%s", why)
		}
		return c
	}
	data, err := fsutil.ReadFile(root, c.path, 64<<10)
	if c.found, c.read = !errors.Is(err, fs.ErrNotExist), err == nil; c.found && !c.read {
		c.warn("mesh-config-unreadable", "%s was not checked: %s.", c.path, reason(err))
	} else if c.read {
		c.decode(data)
	}
	return c
}

func (c *config) against(procfile string, configVar bool) {
	switch {
	case c.appPort == "":
	case procfile != "" && procfile != c.appPort:
		c.warn("mesh-config-app-port-overridden", "app.port is %s, but the Procfile sets APP_PORT=%s for the mesh, which wins:\nthe mesh forwards to port %s.", c.appPort, procfile, procfile)
	case procfile == "" && configVar:
		c.warn("mesh-config-app-port-overridden", "app.port is %s, but the app has an APP_PORT config var, which wins: the\nmesh forwards to that port instead.", c.appPort)
	}
}

// decode reads as the mesh does: strictly, into a pointer, which a null document makes nil.
func (c *config) decode(data []byte) *config {
	// The decoder compares each key of a mapping with every other, at each use
	// of an alias: thousands cost gigabytes. A file the mesh loads has 9 at most.
	if tree, n := (yaml.Node{}), (size{}); yaml.Unmarshal(data, &tree) == nil && n.over(&tree) {
		c.fatal, c.decoded = true, []finding{{"mesh-config-invalid", 0, "the file holds over 200 keys or 100000 values once its aliases " +
			"are expanded, where a file the mesh loads holds 9 keys at most"}}
		return c
	}
	got, dec := &meshConfig{}, yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&got)
	switch typeErr, isType := errors.AsType[*yaml.TypeError](err); {
	case errors.Is(err, io.EOF):
		c.decoded = []finding{{"mesh-config-invalid", 0, "the file has no content (the mesh reads an empty file as an error)"}}
	case isType:
		for _, e := range typeErr.Errors {
			c.decoded = append(c.decoded, decoderFinding(e))
		}
	case err != nil:
		c.decoded = []finding{decoderFinding(strings.TrimPrefix(err.Error(), "yaml: "))}
	case got == nil:
		c.null, c.decoded = true, []finding{{"mesh-config-invalid", 0, "the file's first YAML document is empty (null)"}}
	}
	if c.fatal = len(c.decoded) > 0; c.fatal {
		if n := len(c.decoded); n > 10 { // a file wrong everywhere needs fixing, not a flood
			c.decoded = append(c.decoded[:10], finding{c.decoded[10].Kind, 0, fmt.Sprintf("and %d more", n-10)})
		}
		return c
	}
	n := 0
	for more := (yaml.Node{}); n < 100 && dec.Decode(&more) == nil; n++ {
	}
	if n > 0 {
		c.warn("mesh-config-documents", "%s holds %d YAML documents; the mesh reads only the first.", c.path, n+1)
	}
	c.values(*got)
	return c
}

// size counts a document's keys and nodes as a decoder meets them.
type size struct{ keys, nodes int }

// over counts n and under it, aliases expanded (a cycle too), and stops once past its bounds.
func (s *size) over(n *yaml.Node) bool {
	if s.nodes++; n.Kind == yaml.AliasNode {
		n = n.Alias // an anchored node, never an alias itself
	}
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			s.keys++
		}
		if s.keys > 200 || s.nodes > 100_000 || s.over(c) {
			return true
		}
	}
	return false
}

// decoderFinding is a decoder's error, without the Go types, not the user's.
func decoderFinding(e string) finding {
	f := finding{"mesh-config-invalid", 0, e}
	n, text, _ := strings.Cut(strings.TrimPrefix(e, "line "), ": ")
	if line, err := strconv.Atoi(n); err == nil {
		f.Line, f.Text = line, text
	}
	if text, _, ok := strings.Cut(f.Text, " in type "); ok {
		f.Kind, f.Text = "mesh-config-unknown-key", text
	} else if text, into, ok := strings.Cut(f.Text, " into "); ok {
		if into != "string" && into != "[]string" {
			into = "a mapping"
		}
		f.Kind, f.Text = "mesh-config-wrong-shape", text+" into "+into
	} else if strings.Contains(f.Text, " already defined at line ") {
		f.Kind = "mesh-config-duplicate-key"
	}
	return f
}

// values checks what the mesh loads without a word but mis-routes.
func (c *config) values(got meshConfig) {
	switch route := cmp.Or(got.Mesh.HealthCheck.Route, "/healthcheck"); got.Mesh.HealthCheck.Enable {
	case "", "true":
		c.bypass = append(c.bypass, route+" (the health check)")
		if opensAll(route) { // it skips authentication as bypassRoutes do
			c.warn("mesh-config-bypasses-everything", "mesh.healthcheck.route is %q, which matches every path: the health check's\nroute skips authentication, so no request to the app is authenticated.", route)
		} else if !strings.HasPrefix(route, "/") {
			c.warn("mesh-config-route", "mesh.healthcheck.route is %q, which does not start with /: it never matches a\nrequest path, so no health check answers.", route)
		}
	case "false":
	default:
		c.warn("mesh-config-healthcheck-enable", "mesh.healthcheck.enable is %q: the mesh turns the health check on only for\nexactly true, so with this value it is off and %s needs\nauthentication like any other route. Write true or false.", got.Mesh.HealthCheck.Enable, route)
	}
	seen := map[string]bool{} // an alias repeats a route at no cost to the file: checked and listed once
	for _, r := range got.Mesh.Authentication.BypassRoutes {
		if seen[r] {
			continue
		}
		seen[r] = true
		switch m := placeholder.FindStringSubmatch(r); {
		case !strings.HasPrefix(r, "/") && r != "*":
			c.warn("mesh-config-route", "mesh.authentication.bypassRoutes has %q, which does not start with /: it\nnever matches a request path, so that route still needs authentication.", r)
		case m != nil:
			c.warn("mesh-config-route-placeholder", "mesh.authentication.bypassRoutes has %q, but the mesh compares routes\nliterally (only a final * matches more): a request to a real path there still\nneeds authentication. To skip it for every path under %s, write %s*.", r, m[1], m[1])
		default:
			c.bypass = append(c.bypass, r)
			if opensAll(r) {
				c.warn("mesh-config-bypasses-everything", "mesh.authentication.bypassRoutes has %q, which matches every path: no\nrequest to the app is authenticated, and anyone can reach every route.", r)
			}
		}
	}
	if host := got.App.Host; host != "" {
		why, lower := "", strings.ToLower(host)
		switch u, err := url.Parse(host); {
		case err == nil && u.User != nil: // may be a secret: not printed
			host, why = u.Scheme+"://xxxxx@"+u.Host, "user info here is sent nowhere, and breaks the address"
		case err != nil || !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://"):
			why = "this one has no scheme"
		case u.Host == "":
			why = "this one has no host"
		case u.Port() != "":
			why = "the port goes in app.port or APP_PORT, not here"
		case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(host, "?") || strings.HasSuffix(host, "#"):
			why = "a path here ends up before the port"
		case !slices.Contains([]string{"localhost", "127.0.0.1", "::1", "0.0.0.0"}, strings.ToLower(u.Hostname())):
			c.warn("mesh-config-app-host-remote", "app.host is %q, which is not this dyno: the mesh forwards every request\nthere, while your app runs beside the mesh, so requests fail (502) or reach\nanother server. Use http://127.0.0.1, or remove app.host.", host)
		}
		if why != "" {
			c.warn("mesh-config-app-host", "app.host is %q: the mesh forwards to app.host, \":\", the port and the path,\nso it must be a scheme and a host only, as in http://127.0.0.1; %s.", host, why)
		}
	}
	if p := got.App.Port; isPort(p) {
		c.appPort = p
	} else if p != "" {
		c.warn("mesh-config-app-port", "app.port is %q, which is not a port number.", p)
	}
}

func (c *config) warn(kind, format string, a ...any) {
	c.warnings = append(c.warnings, finding{kind, 0, fmt.Sprintf(format, a...)})
}

// opensAll: a route matching every path (a final * matches a prefix).
func opensAll(route string) bool { return route == "*" || route == "/*" || route == "/**" }

// placeholder finds a route's first placeholder segment (:id, {id}), after its prefix.
var placeholder = regexp.MustCompile(`(?s)^(.*?/)(?::[^/]+|\{[^/]+\})(?:/|$)`)

func same(root *os.Root, a, b string) bool {
	x, errA := root.Stat(path.Join(".", a))
	y, errB := root.Stat(path.Join(".", b))
	return errA == nil && errB == nil && os.SameFile(x, y)
}

// misplaced: a pre-AppLink file is worth renaming only if the AppLink mesh loads it.
func (c *config) misplaced(root *os.Root, dir string) {
	where := "the app's root directory"
	if dir != "" {
		where = dir + "/, where the Procfile's web process starts it"
	}
	for _, rel := range copies(root, dir) {
		text := rel + " is not read by the mesh, which reads only " + configName
		var old config
		switch data, err := fsutil.ReadFile(root, rel, 64<<10); {
		case rel == path.Join(dir, configName) || same(root, rel, path.Join(dir, configName)):
			continue // the one the mesh reads
		case !same(root, path.Dir(rel), dir):
			text += ",\nunder that exact name, from " + where + ". Move it there."
		case !strings.HasPrefix(strings.ToLower(path.Base(rel)), "heroku-integration-"):
			text += ", with\nthat exact name. Rename it."
		case err == nil && old.decode(data).fatal:
			text = rel + " is the name from before AppLink: the AppLink mesh reads\n" + configName + ", but would not load this file once renamed, and would exit at\nboot: " + old.decoded[0].String() + ".\nFix it before you rename it, or remove it."
		default:
			text = rel + " is the name from before AppLink: the AppLink mesh reads\n" + configName + ". Rename it."
		}
		c.warn("mesh-config-misplaced", "%s", text)
	}
}

// copies lists files under the mesh's names (any case, .yml, pre-AppLink) in the app's tree.
func copies(root *os.Root, dir string) []string {
	out, seen := []string{}, 0
	fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		name := strings.ToLower(path.Base(p))
		base := strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml")
		switch seen++; {
		case seen > 20000:
			return fs.SkipAll
		case err != nil, // a folder the build cannot read hides only itself
			d.IsDir() && p != "." && (name[0] == '.' || strings.Count(p, "/") >= 3 ||
				slices.Contains([]string{"node_modules", "vendor", "target", "build", "dist"}, name)):
			return fs.SkipDir
		case !d.IsDir() && base != name && (base == "heroku-applink-service-mesh" || base == "heroku-integration-service-mesh"):
			out = append(out, p)
		}
		return nil
	})
	rank := func(p string) int { // where the mesh starts, the root, deeper
		if same(root, path.Dir(p), dir) {
			return 0
		}
		return 1 + min(strings.Count(p, "/"), 1)
	}
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

func (c config) report(p *output.Printer) []string {
	if !c.found && len(c.warnings) == 0 {
		return nil
	}
	var kinds, lines []string
	p.Step("Checking %s", c.path)
	for _, f := range c.decoded {
		kinds, lines = append(kinds, f.Kind), append(lines, "  "+f.String())
	}
	if c.fatal {
		how := map[bool]string{false: "reads the\nfile strictly, and exits at boot with \"Invalid YAML config\"",
			true: "reads the\nfile as no config at all, and crashes at boot (a nil pointer dereference)"}[c.null]
		if slices.Contains(kinds, "mesh-config-unknown-key") {
			lines = append(lines, "", "The mesh knows app.port, app.host, mesh.authentication.bypassRoutes,\nmesh.healthcheck.enable and mesh.healthcheck.route.")
		}
		p.Warning(fmt.Sprintf("The service mesh will not start with %s: it %s:\n\n%s\n\nFix the file, or remove it to use the mesh's defaults.", c.path, how, strings.Join(lines, "\n")))
	}
	for _, f := range c.warnings {
		kinds = append(kinds, f.Kind)
		p.Warning(f.Text)
	}
	switch {
	case !c.read || c.fatal: // nothing is known of the routes of a file not read
	case len(c.bypass) == 0:
		p.Detail("No route skips AppLink authentication: every request must come from\nSalesforce through AppLink.")
	default:
		p.Detail("Routes that skip AppLink authentication:\n  %s\nEvery other route answers 401 unless the request comes from Salesforce\nthrough AppLink.", strings.Join(c.bypass, "\n  "))
	}
	return kinds
}
