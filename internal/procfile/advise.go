package procfile

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
)

func template(m Mesh) string {
	return "web: APP_PORT=" + m.forwardPort() + " " + m.Name + " <your app's start command>"
}

// Advise checks the web process of p.
func Advise(p Procfile, m Mesh) Advice {
	a := Advice{Mesh: m, BOM: p.BOM}
	if lines := p.Lines["web"]; len(lines) > 1 {
		a.WebLines = lines
	}
	web, ok := p.Commands["web"]
	if !ok {
		a.Kind, a.Suggested = NoWeb, template(m)
		return a
	}
	a.Web = web
	ws := words(web)
	c, found := findMesh(ws, m)
	if !found {
		if mentionsMesh(web) {
			a.Kind = Indirect
			return a
		}
		a.Kind = NotWrapped
		a.Suggested, a.AppPort, a.Script = wrap(ws, m)
		a.Suggested = "web: " + a.Suggested
		return a
	}
	a.Name = filepath.Base(ws[c.at])
	if c.prefix >= 0 {
		a.AppPortSet = c.appPort
	}
	switch {
	case a.Name == m.Name:
		a.Kind = OK
	case slices.Contains(m.Links, a.Name):
		a.Kind = Legacy
	default:
		a.Kind = OtherName
	}
	fixed := slices.Clone(ws)
	if a.Kind != OK {
		fixed[c.at] = strings.TrimSuffix(ws[c.at], a.Name) + m.Name
	}
	app, portFlag := skipMeshFlags(ws, c.at+1)
	if app == len(ws) {
		a.Kind = NoCommand
		return a
	}
	a.Problems, a.AppPort = c.problems(ws[app:], portFlag, ws, m)
	if len(a.Problems) > 0 {
		cmd, script := fixApp(ws[app:], a.AppPort)
		a.Script = script
		fixed = append(fixed[:app], cmd...)
		for _, p := range a.Problems {
			switch p {
			case AppPortNotExported:
				fixed[c.plain] = "export " + fixed[c.plain]
			case MeshPort:
				if portFlag >= 0 {
					fixed[portFlag] = meshPortFlag(ws[portFlag])
				}
				if c.port >= 0 {
					fixed[c.port] = ""
				}
			}
		}
		if c.prefix >= 0 && !config.IsPort(c.appPort) {
			fixed[c.prefix] = "APP_PORT=" + a.AppPort
		}
		fixed = slices.DeleteFunc(fixed, func(w string) bool { return w == "" })
	}
	if line := strings.Join(fixed, " "); line != strings.Join(ws, " ") {
		a.Suggested = "web: " + line
	}
	return a
}

// meshCall is where the mesh is started in a web command. Indexes are of
// words, -1 when absent.
type meshCall struct {
	// at is the mesh's word.
	at int
	// prefix is the APP_PORT=… assignment for the mesh's own command, and
	// appPort its value; port is a PORT=… one there.
	prefix, port int
	appPort      string
	// exported is the value an earlier command exports as APP_PORT
	// ("export APP_PORT=…"); plain is the word of an earlier plain
	// assignment ("APP_PORT=…;"), which the mesh does not see, and
	// plainPort its value.
	exported  string
	plain     int
	plainPort string
}

// wrappers run the command after them; their options are skipped.
var wrappers = map[string]bool{"exec": true, "env": true, "nice": true, "nohup": true, "tini": true, "dumb-init": true, "command": true}

// wrapperOptionArgs are wrapper options that take the next word.
var wrapperOptionArgs = map[string]bool{"-u": true, "--unset": true, "-C": true, "--chdir": true, "-n": true, "--adjustment": true}

// findMesh looks for the mesh at a command position: past VAR=value
// prefixes, "export" and wrappers such as exec, env and nice, and after
// "&&", "||", "|" or ";". Any name of the release bucket's objects counts,
// and the pre-AppLink name, so a name this build did not install is found
// and named.
func findMesh(ws []string, m Mesh) (meshCall, bool) {
	c := meshCall{prefix: -1, port: -1, plain: -1}
	atCommand, wrapped, exporting := true, false, false
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		if isOperator(w) || endsCommand(w) {
			if v, ok := strings.CutPrefix(strings.TrimSuffix(w, ";"), "APP_PORT="); ok && atCommand {
				c.notePlain(i, v, exporting)
			}
			atCommand, wrapped, exporting = true, false, false
			c.prefix, c.port = -1, -1
			continue
		}
		if !atCommand {
			continue
		}
		if wrapped && strings.HasPrefix(w, "-") {
			if wrapperOptionArgs[w] {
				i++
			}
			continue
		}
		if wrappers[w] {
			wrapped = true
			continue
		}
		if w == "export" {
			exporting = true
			continue
		}
		if isAssignment(w) {
			name, value, _ := strings.Cut(w, "=")
			last := i+1 == len(ws) || isOperator(ws[i+1])
			switch {
			case name == "APP_PORT" && (exporting || last):
				c.notePlain(i, value, exporting)
			case name == "APP_PORT":
				c.prefix, c.appPort = i, value
			case name == "PORT" && !exporting && !last:
				c.port = i
			}
			continue
		}
		if exporting {
			continue
		}
		base := filepath.Base(w)
		if base == m.Name || meshName().MatchString(base) {
			c.at = i
			return c, true
		}
		atCommand = false
	}
	return meshCall{}, false
}

// notePlain records an APP_PORT assignment of an earlier command.
func (c *meshCall) notePlain(i int, value string, exported bool) {
	if exported {
		c.exported, c.plain = value, -1
		return
	}
	c.plain, c.plainPort = i, value
}

// meshName matches the names of the release bucket's objects, which older
// samples put in Procfiles and the upstream buildpack links, and the mesh's
// name before AppLink.
var meshName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^heroku-(applink|integration)-service-mesh(-(latest|v?\d+\.\d+\.\d+[0-9A-Za-z.+-]*)-(amd64|arm64|x86_64|aarch64))?$`)
})

// mentionsMesh: the mesh's name appears somewhere in the command.
func mentionsMesh(web string) bool {
	return strings.Contains(web, "heroku-applink-service-mesh") || strings.Contains(web, "heroku-integration-service-mesh")
}

// skipMeshFlags returns the index of the app command after the mesh's own
// flags and "--", and the word holding the mesh's port (-1 if none).
func skipMeshFlags(ws []string, i int) (app, portFlag int) {
	portFlag = -1
	for i < len(ws) {
		switch w := ws[i]; {
		case w == "--port" || w == "-p":
			if i+1 < len(ws) {
				portFlag = i + 1
			}
			i = min(i+2, len(ws))
			continue
		case strings.HasPrefix(w, "--port=") || strings.HasPrefix(w, "-p="):
			portFlag = i
			i++
			continue
		case w == "--":
			i++
		}
		return i, portFlag
	}
	return i, portFlag
}

// onPORT: a mesh port that is Heroku's.
func onPORT(v string) bool {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "--port="), "-p=")
	switch v {
	case "$PORT", "${PORT}", `"$PORT"`, `"${PORT}"`:
		return true
	}
	return false
}

func meshPortFlag(w string) string {
	for _, prefix := range []string{"--port=", "-p="} {
		if strings.HasPrefix(w, prefix) {
			return prefix + "$PORT"
		}
	}
	return "$PORT"
}

// portRef matches the shell's forms of $PORT: $PORT, ${PORT}, ${PORT:-…}
// and the other parameter expansions, not $APP_PORT or $PORTS.
var portRef = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\$(PORT\b|\{PORT(:?[-=+?][^}]*)?\})`)
})

// appPortRef matches the same forms of $APP_PORT.
var appPortRef = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\$(APP_PORT\b|\{APP_PORT(:?[-=+?][^}]*)?\})`)
})

// problems looks at the app command the mesh will exec (app), the mesh's
// port flag and the whole line, and returns the port a fix gives the app.
func (c meshCall) problems(app []string, portFlag int, ws []string, m Mesh) ([]Problem, string) {
	text := strings.Join(app, " ")
	var shellSees strings.Builder
	for _, w := range app {
		shellSees.WriteString(expanded(w) + " ")
	}
	configured := slices.Contains(m.ConfigVars, "APP_PORT")
	var problems []Problem
	if portRef().MatchString(text) {
		problems = append(problems, AppUsesPORT)
	}
	usesAppPort := appPortRef().MatchString(shellSees.String())
	switch {
	case usesAppPort && c.prefix >= 0 && c.exported == "" && (c.plain < 0 || c.plainPort != c.appPort):
		problems = append(problems, AppPortTrap)
	case usesAppPort && c.prefix < 0 && c.exported == "" && c.plain < 0 && m.ConfigVars != nil && !configured && bareAppPort(shellSees.String()):
		problems = append(problems, AppPortUnset)
	}
	if c.prefix < 0 && c.plain >= 0 && (configured || c.plainPort != m.forwardPort()) {
		problems = append(problems, AppPortNotExported)
	}
	if inner, ok := unquote(app[0]); ok && strings.ContainsAny(inner, " \t") {
		problems = append(problems, QuotedCommand)
	}
	if chains(app) {
		problems = append(problems, Chained)
	}
	if c.port >= 0 || (portFlag >= 0 && !onPORT(ws[portFlag])) {
		problems = append(problems, MeshPort)
	}
	return problems, c.literalPort(configured, m)
}

// bareAppPort: a reference with no default, which an unset APP_PORT
// empties.
func bareAppPort(s string) bool {
	for _, ref := range appPortRef().FindAllString(s, -1) {
		if ref == "$APP_PORT" || ref == "${APP_PORT}" {
			return true
		}
	}
	return false
}

// literalPort is the port the app must listen on: the APP_PORT assigned for
// the mesh or exported before it, else the config var's (as $APP_PORT,
// which then expands right), else where the mesh forwards by default.
func (c meshCall) literalPort(configured bool, m Mesh) string {
	switch {
	case c.prefix >= 0 && config.IsPort(c.appPort):
		return c.appPort
	case c.prefix >= 0:
		return m.forwardPort()
	case c.exported != "" && config.IsPort(c.exported):
		return c.exported
	case c.plain >= 0 && config.IsPort(c.plainPort):
		// Exported by the fix.
		return c.plainPort
	case configured || c.exported != "":
		return "$APP_PORT"
	}
	return m.forwardPort()
}

// fixApp rewrites the app command to listen on port: every $PORT and
// $APP_PORT becomes the port. A command quoted whole loses its quotes, so
// the shell splits it; several commands run under one "bash -c", so the
// mesh starts them all. What cannot be rewritten so becomes ./start.sh,
// and script is set.
func fixApp(app []string, port string) (cmd []string, script bool) {
	text := strings.Join(app, " ")
	if inner, ok := unquote(app[0]); ok && strings.ContainsAny(inner, " \t") {
		if len(app) > 1 || strings.ContainsAny(inner, `'"\`) {
			return []string{"./start.sh"}, true
		}
		text = inner
	}
	text = portRef().ReplaceAllLiteralString(text, port)
	if port != "$APP_PORT" {
		text = appPortRef().ReplaceAllLiteralString(text, port)
	}
	cmd = words(text)
	switch {
	case len(cmd) == 0:
		return []string{"<your app's start command>"}, false
	case hasOperator(cmd) && strings.Contains(text, "'"):
		return []string{"./start.sh"}, true
	case hasOperator(cmd):
		return []string{"bash", "-c", "'" + text + "'"}, false
	}
	return cmd, false
}

var assignment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`) })

func isAssignment(s string) bool { return assignment().MatchString(s) }

// wrap puts the mesh in front of a command, keeping its VAR=value prefixes
// (but PORT=…: the mesh must keep Heroku's), setting APP_PORT when the user
// did not, and giving the app that port where it had $PORT. "exec" is
// dropped, as the mesh is what the shell runs.
func wrap(ws []string, m Mesh) (line, port string, script bool) {
	var prefix []string
	for len(ws) > 0 && isAssignment(ws[0]) {
		if !strings.HasPrefix(ws[0], "PORT=") {
			prefix = append(prefix, ws[0])
		}
		ws = ws[1:]
	}
	if len(ws) > 0 && ws[0] == "exec" {
		ws = ws[1:]
	}
	for i, p := range prefix {
		if v, ok := strings.CutPrefix(p, "APP_PORT="); ok {
			if !config.IsPort(v) {
				v = m.forwardPort()
				prefix[i] = "APP_PORT=" + v
			}
			port = v
		}
	}
	if port == "" {
		port = m.forwardPort()
		prefix = append([]string{"APP_PORT=" + port}, prefix...)
	}
	if len(ws) == 0 {
		return strings.Join(append(prefix, m.Name, "<your app's start command>"), " "), port, false
	}
	app, script := fixApp(ws, port)
	if strings.HasPrefix(app[0], "-") {
		// Not to be read as the mesh's own flags.
		app = append([]string{"--"}, app...)
	}
	return strings.Join(append(append(prefix, m.Name), app...), " "), port, script
}
