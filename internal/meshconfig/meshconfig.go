package meshconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
)

// FileName is the only file the mesh reads, from its working directory:
// the app's root on a dyno and in an image.
const FileName = "heroku-applink-service-mesh.yaml"

// oldFileName is what the mesh read before it was renamed for AppLink.
const oldFileName = "heroku-integration-service-mesh.yaml"

// MaxSize bounds the read: real files are a few lines.
const MaxSize = 64 << 10

// Defaults the mesh applies to what the file leaves out.
const (
	DefaultHealthRoute = "/healthcheck"
	defaultHost        = "http://127.0.0.1"
)

// meshFile is the mesh's own schema: every value a string (a YAML number
// or boolean is read as its text), decoded strictly, as the mesh does.
type meshFile struct {
	App struct {
		Port string `yaml:"port"`
		Host string `yaml:"host"`
	} `yaml:"app"`
	Mesh struct {
		Authentication struct {
			BypassRoutes []string `yaml:"bypassRoutes"`
		} `yaml:"authentication"`
		HealthCheck struct {
			Enable string `yaml:"enable"`
			Route  string `yaml:"route"`
		} `yaml:"healthcheck"`
	} `yaml:"mesh"`
}

// shape is what a key holds.
type shape int

const (
	mapping shape = iota
	scalar
	routes // a list of scalars
)

// key is one key of the schema, with its children for a mapping.
type key struct {
	name  string
	shape shape
	keys  []key
}

var schema = key{shape: mapping, keys: []key{
	{name: "app", shape: mapping, keys: []key{{name: "port", shape: scalar}, {name: "host", shape: scalar}}},
	{name: "mesh", shape: mapping, keys: []key{
		{name: "authentication", shape: mapping, keys: []key{{name: "bypassRoutes", shape: routes}}},
		{name: "healthcheck", shape: mapping, keys: []key{{name: "enable", shape: scalar}, {name: "route", shape: scalar}}},
	}},
}}

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
	BadEnable    Kind = "mesh-config-healthcheck-enable"
	BadHost      Kind = "mesh-config-app-host"
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
	// Fatal is set when the mesh cannot read the file: it exits at boot,
	// or, for a Null first document, crashes.
	Fatal, Null bool
	// Structure are the findings that make the file unreadable to the mesh.
	Structure []Finding
	// Warnings are findings the mesh survives but the user should hear.
	Warnings []Finding
	// Bypass are the routes that skip authentication, when not Fatal.
	Bypass []Route
	// AppPort is app.port when it is a port number and the file is read:
	// where the mesh forwards when APP_PORT is unset.
	AppPort string
	// appPortLine is where app.port is.
	appPortLine int
	// walked are the nodes already compared with the schema, by the path
	// they were compared at.
	walked map[walkedAt]bool
}

// walkedAt is a node compared with the schema at a path. Merge keys and
// aliases can name one node any number of times (each level of a file may
// merge the one before twice, doubling the work per level), and a mapping
// can merge itself: each node is walked once per path, which also bounds
// the walk by the file's size times the schema's.
type walkedAt struct {
	node *yaml.Node
	path string
}

// AppPort is what else sets the port the mesh forwards to, which wins
// over app.port.
type AppPort struct {
	// Procfile is APP_PORT's value where the web process assigns it.
	Procfile string
	// ConfigVar is set when the app has an APP_PORT config var.
	ConfigVar bool
}

// Check reads the mesh's config file in appDir, if any, and looks for
// copies the mesh will never read. It never fails: what it cannot read it
// reports.
func Check(appDir string) Result { return CheckIn(appDir, "") }

// CheckIn is Check for a mesh the web process starts in dir, a folder of
// the app's given relative to its root ("" for the root): the mesh reads
// its config file from its working directory. A link to another of the
// app's folders is followed. A folder missing at this point of the build
// (a later buildpack may make it), or one outside the app, cannot be
// checked: the build says so when the app has a config file elsewhere.
func CheckIn(appDir, dir string) Result {
	dir, ok := resolve(appDir, dir)
	if !ok {
		return notChecked(appDir, dir, fmt.Sprintf("%s was not checked: the Procfile's web process starts the mesh in\n%s/, which this build cannot look into (it does not exist yet, or it is\noutside the app).", filepath.Join(dir, FileName), dir))
	}
	r := Result{Path: filepath.Join(dir, FileName)}
	r.Warnings = append(r.Warnings, misplaced(appDir, dir)...)
	data, err := readApp(appDir, r.Path, MaxSize)
	var notRegular *fsutil.NotRegularError
	var tooLarge *fsutil.TooLargeError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r
	case errors.As(err, &notRegular):
		r.Found = true
		r.Warnings = append(r.Warnings, Finding{Kind: Unreadable, Text: r.Path + " was not checked: it is " + notRegular.Kind + "."})
		return r
	case errors.As(err, &tooLarge):
		r.Found = true
		r.Warnings = append(r.Warnings, Finding{Kind: Unreadable, Text: fmt.Sprintf("%s was not checked: it is larger than %d KiB.", r.Path, MaxSize>>10)})
		return r
	case err != nil:
		r.Found = true
		r.Warnings = append(r.Warnings, Finding{Kind: Unreadable, Text: r.Path + " was not checked: " + err.Error() + "."})
		return r
	}
	r.Found, r.Read = true, true
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
		r.Warnings = append(r.Warnings, Finding{Kind: PortOverride, Line: r.appPortLine, Text: fmt.Sprintf(
			"app.port is %s, but the Procfile sets APP_PORT=%s for the mesh, which wins:\nthe mesh forwards to port %s.", p, port.Procfile, port.Procfile)})
	case port.Procfile == "" && port.ConfigVar:
		r.Warnings = append(r.Warnings, Finding{Kind: PortOverride, Line: r.appPortLine, Text: fmt.Sprintf(
			"app.port is %s, but the app has an APP_PORT config var, which wins: the\nmesh forwards to that port instead.", p)})
	}
}

// maxStructure bounds the structural findings printed: a file that is
// wrong everywhere needs fixing, not a flood.
const maxStructure = 10

func (r *Result) check(data []byte) {
	// What the mesh does decides whether it boots; the walk below says why.
	// The mesh decodes into a pointer, which a null document sets to nil,
	// and it crashes on that at boot.
	got := &meshFile{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	decodeErr := dec.Decode(&got)
	r.Fatal = decodeErr != nil || got == nil
	r.Null = decodeErr == nil && got == nil

	var doc yaml.Node
	docs := yaml.NewDecoder(bytes.NewReader(data))
	switch err := docs.Decode(&doc); {
	case errors.Is(err, io.EOF):
		r.Structure = append(r.Structure, Finding{Kind: Invalid, Text: "the file has no content (the mesh reads an empty file as an error)"})
		return
	case err != nil:
		r.Structure = append(r.Structure, Finding{Kind: Invalid, Text: errorText(err)})
		return
	}
	if n := countDocuments(docs); n > 0 {
		r.Warnings = append(r.Warnings, Finding{Kind: ManyDocs, Text: fmt.Sprintf(
			"%s holds %d YAML documents; the mesh reads only the first.", r.Path, n+1)})
	}
	if len(doc.Content) > 0 {
		r.walk(doc.Content[0], schema, "")
	}
	if r.Fatal {
		switch {
		case len(r.Structure) > 0:
		case decodeErr != nil:
			r.Structure = append(r.Structure, Finding{Kind: Invalid, Text: errorText(decodeErr)})
		default:
			r.Structure = append(r.Structure, Finding{Kind: Invalid, Text: "the file's first YAML document is empty (null)"})
		}
		if n := len(r.Structure); n > maxStructure {
			r.Structure = append(r.Structure[:maxStructure], Finding{Kind: r.Structure[maxStructure].Kind, Text: fmt.Sprintf("and %d more", n-maxStructure)})
		}
		return
	}
	// A file the mesh reads: check its values, and say what bypasses
	// authentication.
	r.Structure = nil
	r.values(*got, &doc)
}

// errorText is a YAML error on one line: its own lines joined, without
// the library's prefix.
func errorText(err error) string {
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if before, _, found := strings.Cut(line, " in type "); found {
			// The type is the buildpack's Go struct, not the user's file.
			line = before
		}
		if line != "" && line != "yaml: unmarshal errors:" {
			parts = append(parts, strings.TrimPrefix(line, "yaml: "))
		}
	}
	return strings.Join(parts, "; ")
}

func countDocuments(dec *yaml.Decoder) int {
	n := 0
	for n < 100 {
		var more yaml.Node
		if err := dec.Decode(&more); err != nil {
			break
		}
		n++
	}
	return n
}

// walk compares a node with the schema, collecting structural findings.
func (r *Result) walk(n *yaml.Node, k key, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	at := walkedAt{n, path}
	if r.walked[at] {
		return
	}
	if r.walked == nil {
		r.walked = map[walkedAt]bool{}
	}
	r.walked[at] = true
	name := path
	if name == "" {
		name = "the file"
	}
	switch k.shape {
	case mapping:
		if n.Kind != yaml.MappingNode {
			r.Structure = append(r.Structure, Finding{Kind: WrongShape, Line: n.Line, Text: fmt.Sprintf(
				"%s must be a mapping of %s, not %s", name, keyList(k.keys), describe(n))})
			return
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Value == "<<" {
				// A merge brings another mapping's keys into this one.
				for _, m := range merged(vn) {
					r.walk(m, k, path)
				}
				continue
			}
			full := join(path, kn.Value)
			if line, dup := seen[kn.Value]; dup {
				r.Structure = append(r.Structure, Finding{Kind: Duplicate, Line: kn.Line, Text: fmt.Sprintf(
					"%s is defined again (first on line %d)", full, line)})
				continue
			}
			seen[kn.Value] = kn.Line
			child := slices.IndexFunc(k.keys, func(c key) bool { return c.name == kn.Value })
			if child < 0 {
				where := "the top-level keys are"
				if path != "" {
					where = "the keys under " + path + " are"
				}
				r.Structure = append(r.Structure, Finding{Kind: UnknownKey, Line: kn.Line, Text: fmt.Sprintf(
					"%s is not a key the mesh knows; %s %s", full, where, keyList(k.keys))})
				continue
			}
			r.walk(vn, k.keys[child], full)
		}
	case scalar:
		if n.Kind != yaml.ScalarNode {
			r.Structure = append(r.Structure, Finding{Kind: WrongShape, Line: n.Line, Text: fmt.Sprintf(
				"%s must be a single value, not %s", name, describe(n))})
		}
	case routes:
		if n.Kind != yaml.SequenceNode {
			r.Structure = append(r.Structure, Finding{Kind: WrongShape, Line: n.Line, Text: fmt.Sprintf(
				"%s must be a list of routes (- /health), not %s", name, describe(n))})
			return
		}
		for _, item := range n.Content {
			if item.Kind == yaml.AliasNode && item.Alias != nil {
				item = item.Alias
			}
			if item.Kind != yaml.ScalarNode {
				r.Structure = append(r.Structure, Finding{Kind: WrongShape, Line: item.Line, Text: fmt.Sprintf(
					"each of %s must be a route, not %s", name, describe(item))})
			}
		}
	}
}

// merged are the mappings a merge key's value names: one, or a list.
func merged(n *yaml.Node) []*yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.SequenceNode {
		return []*yaml.Node{n}
	}
	var out []*yaml.Node
	for _, item := range n.Content {
		if item.Kind == yaml.AliasNode && item.Alias != nil {
			item = item.Alias
		}
		out = append(out, item)
	}
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func keyList(keys []key) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("the value %q", n.Value)
}

// values checks what a readable file says.
func (r *Result) values(got meshFile, doc *yaml.Node) {
	line := func(path ...string) int { return lineOf(doc, path) }
	health := got.Mesh.HealthCheck
	switch health.Enable {
	case "", "true":
		route := health.Route
		if route == "" {
			route = DefaultHealthRoute
		}
		r.Bypass = append(r.Bypass, Route{Path: route, Health: true})
		switch {
		case opensAll(route):
			// The health route bypasses authentication as bypassRoutes do.
			r.Warnings = append(r.Warnings, Finding{Kind: OpenRoute, Line: line("mesh", "healthcheck", "route"), Text: fmt.Sprintf(
				"mesh.healthcheck.route is %q, which matches every path: the health check's\nroute skips authentication, so no request to the app is authenticated.", route)})
		case !strings.HasPrefix(route, "/"):
			r.Warnings = append(r.Warnings, Finding{Kind: BadRoute, Line: line("mesh", "healthcheck", "route"), Text: fmt.Sprintf(
				"mesh.healthcheck.route is %q, which does not start with /: it never matches a\nrequest path, so no health check answers.", route)})
		}
	case "false":
	default:
		r.Warnings = append(r.Warnings, Finding{Kind: BadEnable, Line: line("mesh", "healthcheck", "enable"), Text: fmt.Sprintf(
			"mesh.healthcheck.enable is %q: the mesh turns the health check on only for\nexactly true, so with this value it is off and %s needs\nauthentication like any other route. Write true or false.",
			health.Enable, orDefault(health.Route, DefaultHealthRoute))})
	}
	for i, route := range got.Mesh.Authentication.BypassRoutes {
		at := lineOfItem(doc, []string{"mesh", "authentication", "bypassRoutes"}, i)
		switch {
		case !strings.HasPrefix(route, "/") && route != "*":
			r.Warnings = append(r.Warnings, Finding{Kind: BadRoute, Line: at, Text: fmt.Sprintf(
				"mesh.authentication.bypassRoutes has %q, which does not start with /: it\nnever matches a request path, so that route still needs authentication.", route)})
		default:
			r.Bypass = append(r.Bypass, Route{Path: route})
			if opensAll(route) {
				r.Warnings = append(r.Warnings, Finding{Kind: OpenRoute, Line: at, Text: fmt.Sprintf(
					"mesh.authentication.bypassRoutes has %q, which matches every path: no\nrequest to the app is authenticated, and anyone can reach every route.", route)})
			}
		}
	}
	if host := got.App.Host; host != "" {
		if shown, why := hostProblem(host); why != "" {
			r.Warnings = append(r.Warnings, Finding{Kind: BadHost, Line: line("app", "host"), Text: fmt.Sprintf(
				"app.host is %q: the mesh forwards to app.host, \":\", the port and the path,\nso it must be a scheme and a host only, as in %s; %s.", shown, defaultHost, why)})
		}
	}
	if p := got.App.Port; p != "" {
		if procfileIsPort(p) {
			r.AppPort, r.appPortLine = p, line("app", "port")
		} else {
			r.Warnings = append(r.Warnings, Finding{Kind: BadPort, Line: line("app", "port"), Text: fmt.Sprintf(
				"app.port is %q, which is not a port number.", p)})
		}
	}
}

// opensAll reports whether a bypass route matches every path: the mesh
// matches a route ending in * as a prefix.
func opensAll(route string) bool { return route == "*" || route == "/*" || route == "/**" }

// hostProblem says what is wrong with app.host, or "", and how to show it:
// user info in it may be a secret, and is not printed.
func hostProblem(host string) (shown, why string) {
	if at := strings.LastIndex(host, "@"); at >= 0 {
		scheme, _, found := strings.Cut(host[:at], "://")
		if !found {
			scheme = ""
		} else {
			scheme += "://"
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

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// lookup finds the value node at path in a document.
func lookup(doc *yaml.Node, path []string) *yaml.Node {
	if len(doc.Content) == 0 {
		return nil
	}
	n := doc.Content[0]
	for _, name := range path {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

func lineOf(doc *yaml.Node, path []string) int {
	if n := lookup(doc, path); n != nil {
		return n.Line
	}
	return 0
}

func lineOfItem(doc *yaml.Node, path []string, i int) int {
	if n := lookup(doc, path); n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i].Line
	}
	return 0
}

// maxWalk bounds the search for misplaced copies: the app's own tree, a
// few levels deep, never into dependencies or through links.
const (
	maxDepth   = 3
	maxEntries = 20000
)

var skipDirs = map[string]bool{"node_modules": true, "vendor": true, "target": true, "build": true, "dist": true}

// Unknown is the check for a web process that changes directory in a way
// the build cannot follow before it starts the mesh: no file can be said to
// be the one the mesh reads. It says so when the app has a config file.
func Unknown(appDir string) Result {
	return notChecked(appDir, "", "The Procfile's web process changes directory before it starts the mesh in a\n"+
		"way the build cannot follow, so it cannot tell which "+FileName+"\n"+
		"the mesh reads: none was checked.")
}

// notChecked is a result that says why no file was checked, when there is
// one to check: at dir, or anywhere the mesh's names appear.
func notChecked(appDir, dir, why string) Result {
	r := Result{Path: filepath.Join(dir, FileName)}
	if len(copies(appDir, "")) == 0 {
		return r
	}
	r.Found = true
	if dir != "" {
		r.Warnings = misplaced(appDir, dir)
	}
	r.Warnings = append(r.Warnings, Finding{Kind: Unreadable, Text: why})
	return r
}

// resolve turns the folder the web process starts the mesh in into one of
// the app's, relative to its root, following links that stay inside it;
// ok is false for one that does not exist or leaves the app.
func resolve(appDir, dir string) (string, bool) {
	if dir == "" {
		return "", true
	}
	if filepath.IsAbs(dir) || !filepath.IsLocal(dir) {
		return dir, false
	}
	root, err := filepath.EvalSymlinks(appDir)
	if err != nil {
		return dir, false
	}
	real, err := filepath.EvalSymlinks(filepath.Join(appDir, dir))
	if err != nil {
		return dir, false
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || !filepath.IsLocal(rel) {
		return dir, false
	}
	if info, err := os.Stat(real); err != nil || !info.IsDir() {
		return dir, false
	}
	if rel == "." {
		rel = ""
	}
	return rel, true
}

// misplaced finds files the mesh will never read: the config under another
// name where the mesh reads it (in dir), or under its name elsewhere.
func misplaced(appDir, dir string) []Finding {
	var found []Finding
	where := "the app's root directory"
	if dir != "" {
		where = dir + "/, where the Procfile's web process starts it"
	}
	for _, rel := range copies(appDir, dir) {
		base := filepath.Base(rel)
		lower := strings.ToLower(base)
		switch {
		case rel == filepath.Join(dir, FileName):
			// The one the mesh reads.
		case filepath.Dir(rel) != filepath.Clean(dir):
			found = append(found, Finding{Kind: Misplaced, Text: fmt.Sprintf(
				"%s is not read by the mesh, which reads only %s,\nunder that exact name, from %s. Move it there.", rel, FileName, where)})
		case lower == oldFileName || lower == "heroku-integration-service-mesh.yml":
			found = append(found, Finding{Kind: Misplaced, Text: fmt.Sprintf(
				"%s is the name from before AppLink: the AppLink mesh reads\n%s. Rename it.", rel, FileName)})
		default:
			found = append(found, Finding{Kind: Misplaced, Text: fmt.Sprintf(
				"%s is not read by the mesh, which reads only %s, with\nthat exact name. Rename it.", rel, FileName)})
		}
	}
	return found
}

// meshName reports whether a file's name is one of the mesh's config
// file's, in any case, with .yml, or from before AppLink.
func meshName(name string) bool {
	lower := strings.ToLower(name)
	return lower == strings.ToLower(FileName) || lower == "heroku-applink-service-mesh.yml" ||
		lower == oldFileName || lower == "heroku-integration-service-mesh.yml"
}

// copies lists the app's files under the mesh's names, relative to its
// root: in dir, the root, and the app's own tree a few levels deep, never
// into dependencies, hidden folders or through links. Those in dir come
// first, then the root's, then the rest in the walk's order.
func copies(appDir, dir string) []string {
	var out []string
	add := func(rel string) {
		if !slices.Contains(out, rel) {
			out = append(out, rel)
		}
	}
	for _, d := range []string{dir, ""} {
		entries, _ := os.ReadDir(filepath.Join(appDir, d))
		for _, e := range entries {
			if !e.IsDir() && meshName(e.Name()) {
				add(filepath.Join(d, e.Name()))
			}
		}
	}
	seen := 0
	filepath.WalkDir(appDir, func(path string, d fs.DirEntry, err error) error {
		seen++
		switch {
		case seen > maxEntries:
			return fs.SkipAll
		case err != nil && d != nil && d.IsDir():
			// A folder the build cannot read hides only itself.
			return fs.SkipDir
		case err != nil:
			return nil
		}
		rel, _ := filepath.Rel(appDir, path)
		depth := strings.Count(rel, string(filepath.Separator))
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || skipDirs[d.Name()] || depth >= maxDepth) {
				return fs.SkipDir
			}
			return nil
		}
		if meshName(d.Name()) {
			add(rel)
		}
		return nil
	})
	return out
}

func readApp(appDir, name string, max int64) ([]byte, error) {
	root, err := os.OpenRoot(appDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return fsutil.ReadFile(root, name, max)
}

func procfileIsPort(s string) bool {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return false
	}
	n, _ := strconv.Atoi(s)
	return n >= 1 && n <= 65535
}
