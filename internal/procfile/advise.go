package procfile

import (
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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
			// Started where this reading does not go: nor can it tell
			// where the mesh starts.
			a.Kind, a.DirUnknown = Indirect, true
			return a
		}
		a.Kind = NotWrapped
		a.Suggested, a.AppPort, a.Script = wrap(ws, m)
		a.Suggested = "web: " + a.Suggested
		return a
	}
	a.Dir, a.DirUnknown = c.dir, c.dirUnknown
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
	afterSeparator := app-1 > c.at && ws[app-1] == "--"
	if cmd := skipRedirects(ws, app); cmd == len(ws) || isOperator(ws[cmd]) || strings.HasPrefix(ws[app], "-") && !afterSeparator {
		// Nothing to start, or a flag of the mesh's own (-v, --help): the
		// mesh runs no app.
		a.Kind = NoCommand
		return a
	}
	a.Problems, a.AppPort = c.problems(ws[app:], portFlag, ws, m)
	if len(a.Problems) > 0 {
		cmd, script := fixApp(ws[app:], a.AppPort)
		a.Script = script
		if c.port >= 0 || c.setPort >= 0 {
			// The PORT given to the mesh was meant for the app, or is
			// harmless to it: the app keeps it, as the port it listens on.
			cmd = append([]string{"env", "PORT=" + a.AppPort}, cmd...)
		}
		fixed = append(fixed[:app], cmd...)
		if portFlag >= 0 && !onPORT(ws[portFlag]) {
			fixed[portFlag] = meshPortFlag(ws[portFlag])
		}
		for _, i := range []int{c.port, c.setPort} {
			if i >= 0 {
				fixed[i] = ""
			}
		}
		// An APP_PORT that is no port, or is the mesh's own, becomes the
		// app's port.
		if c.prefix >= 0 && !isPort(c.appPort) {
			fixed[c.prefix] = "APP_PORT=" + a.AppPort
		}
		if c.exportAt >= 0 && badAppPort(c.exported) {
			fixed[c.exportAt] = "APP_PORT=" + a.AppPort
		}
		if c.plain >= 0 && badAppPort(c.plainPort) {
			fixed[c.plain] = "APP_PORT=" + a.AppPort
		}
		if slices.Contains(a.Problems, AppPortNotExported) {
			fixed[c.plain] = "export " + fixed[c.plain]
		}
		if slices.Contains(a.Problems, MeshOnFailure) {
			fixed[c.opAt] = "&&"
		}
		start := c.at
		if c.wrapAt >= 0 {
			start = c.wrapAt
		}
		var extra []string
		if m.PortUnknown && !c.setsAppPort() && isPort(a.AppPort) {
			// Where the mesh forwards without APP_PORT is not known here:
			// the suggested line says it.
			extra = []string{"APP_PORT=" + a.AppPort}
		}
		fixed = tidy(moveBefore(fixed, c.misplaced, start, extra...))
	}
	if line := join(fixed); line != join(ws) {
		a.Suggested = "web: " + line
	}
	return a
}

// moveBefore moves the words at indexes from to just before the word at
// index to, after the extra words.
func moveBefore(ws []string, from []int, to int, extra ...string) []string {
	if len(from) == 0 && len(extra) == 0 {
		return ws
	}
	out := make([]string, 0, len(ws)+len(extra))
	for i, w := range ws {
		if i == to {
			out = append(out, extra...)
			for _, j := range from {
				out = append(out, ws[j])
			}
		}
		if !slices.Contains(from, i) {
			out = append(out, w)
		}
	}
	return out
}

// tidy drops the words a fix emptied, an export left with nothing to
// export, and operators left with no command before them.
func tidy(ws []string) []string {
	ws = slices.DeleteFunc(ws, func(w string) bool { return w == "" })
	var out []string
	for i, w := range ws {
		switch {
		case w == "export" && (i+1 == len(ws) || isOperator(ws[i+1])):
			continue
		case isOperator(w) && (len(out) == 0 || isOperator(out[len(out)-1])):
			continue
		}
		out = append(out, w)
	}
	return out
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
	// ("export APP_PORT=…"), at exportAt; plain is the word of an earlier
	// plain assignment ("APP_PORT=…;"), which the mesh does not see unless
	// APP_PORT is a config var, and plainPort its value.
	exported  string
	exportAt  int
	plain     int
	plainPort string
	// setPort is an earlier command's PORT=…, exported or not: Heroku
	// exports PORT, so either reaches the mesh.
	setPort int
	// wrapAt is the first wrapper of the mesh's command (exec, nice, …);
	// misplaced are assignments after a wrapper other than env, which
	// runs them as a program's name.
	wrapAt    int
	misplaced []int
	// dir is where an earlier "cd" leaves the mesh, relative to the app's
	// root; dirUnknown is set when the build cannot tell. before is where
	// the last command, a cd, started: a cd in a pipeline or in the
	// background moves nothing.
	dir        string
	dirUnknown bool
	before     *place
	// exportsName: "export APP_PORT" came before any assignment to it,
	// which the export then covers.
	exportsName bool
	// opAt is the operator before the mesh's command, -1 for none.
	opAt int
}

// place is where a cd started.
type place struct {
	dir     string
	unknown bool
}

// wrappers run the command after them; their options are skipped.
var wrappers = map[string]bool{"exec": true, "env": true, "nice": true, "nohup": true, "tini": true, "dumb-init": true, "command": true}

// wrapperOptionArgs are wrapper options that take the next word.
var wrapperOptionArgs = map[string]bool{"-u": true, "--unset": true, "-C": true, "--chdir": true, "-n": true, "--adjustment": true, "-a": true}

// findMesh looks for the mesh at a command position: past VAR=value
// prefixes, "export" and wrappers such as exec, env and nice, and after
// "&&", "||", "|" or ";". Any name of the release bucket's objects counts,
// and the pre-AppLink name, so a name this build did not install is found
// and named.
func findMesh(ws []string, m Mesh) (meshCall, bool) {
	c := meshCall{prefix: -1, port: -1, plain: -1, exportAt: -1, setPort: -1, wrapAt: -1, opAt: -1}
	atCommand, wrapper, exporting := true, "", false
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		if isOperator(w) {
			if c.before != nil && (isPipe(w) || w == "&") {
				c.dir, c.dirUnknown = c.before.dir, c.before.unknown
			}
			atCommand, wrapper, exporting = true, "", false
			c.prefix, c.port, c.wrapAt, c.misplaced, c.before, c.opAt = -1, -1, -1, nil, nil, i
			continue
		}
		if !atCommand {
			continue
		}
		if wrapper != "" && strings.HasPrefix(w, "-") {
			if w == "-C" || w == "--chdir" || strings.HasPrefix(w, "--chdir=") {
				// env changing the directory the mesh starts in.
				c.dir, c.dirUnknown = "", true
			}
			if wrapperOptionArgs[w] {
				i++
			}
			continue
		}
		if wrappers[w] {
			if wrapper == "" {
				c.wrapAt = i
			}
			wrapper = w
			continue
		}
		if (w == "export" || w == "declare" || w == "typeset") && wrapper == "" {
			// declare and typeset export only with -x, the option skipped
			// below.
			exporting = w == "export" || i+1 < len(ws) && ws[i+1] == "-x"
			if w != "export" && i+1 < len(ws) && strings.HasPrefix(ws[i+1], "-") {
				i++
			}
			if !exporting {
				atCommand = false
			}
			continue
		}
		if exporting && w == "APP_PORT" {
			if c.plain >= 0 {
				// "APP_PORT=4000; export APP_PORT"
				c.exported, c.exportAt, c.plain = c.plainPort, c.plain, -1
			} else {
				c.exportsName = true
			}
			continue
		}
		if isAssignment(w) {
			name, value, _ := strings.Cut(w, "=")
			if u, ok := unquote(value); ok {
				value = u
			}
			earlier := wrapper == "" && (exporting || i+1 == len(ws) || isOperator(ws[i+1]))
			if wrapper != "" && wrapper != "env" {
				c.misplaced = append(c.misplaced, i)
			}
			switch {
			case name == "APP_PORT" && earlier:
				// Assigning an exported variable again keeps it exported.
				c.notePlain(i, value, exporting || c.exportsName || c.exportAt >= 0)
			case name == "APP_PORT":
				c.prefix, c.appPort = i, value
			case name == "PORT" && onPORT(value):
			case name == "PORT" && earlier:
				c.setPort = i
			case name == "PORT":
				c.port = i
			}
			continue
		}
		if exporting {
			continue
		}
		if startsCompound(w) || w == "pushd" || w == "popd" {
			// A subshell, a group, a keyword or the directory stack: where
			// the mesh starts is beyond this reading. A lone "(" starts a
			// command after it.
			c.dir, c.dirUnknown = "", true
			atCommand = strings.Trim(w, "(") == ""
			continue
		}
		if w == "cd" && wrapper == "" {
			target := ""
			if i+1 < len(ws) && !isOperator(ws[i+1]) {
				i++
				target = ws[i]
			}
			c.before = &place{dir: c.dir, unknown: c.dirUnknown}
			c.cd(target)
			atCommand = false
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

// cd follows a "cd" before the mesh: a plain path inside the app (the app
// is at /app on a dyno) moves where the mesh starts; anything else leaves
// it unknown.
func (c *meshCall) cd(target string) {
	// HOME is /app on a dyno, and a bare cd goes there.
	for _, home := range []string{"~", "$HOME", "${HOME}", `"$HOME"`, `"${HOME}"`} {
		if rest, ok := strings.CutPrefix(target, home); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
			target = "/app" + rest
			break
		}
	}
	if target == "" {
		target = "/app"
	}
	if strings.HasPrefix(target, "/app/") || target == "/app" {
		c.dir, c.dirUnknown = "", false
		target = strings.TrimPrefix(strings.TrimPrefix(target, "/app"), "/")
		if target == "" {
			return
		}
	}
	if c.dirUnknown {
		return
	}
	if target == "" || strings.ContainsAny(target, "$`~'\"\\*?[") || strings.HasPrefix(target, "/") || strings.HasPrefix(target, "-") {
		c.dir, c.dirUnknown = "", true
		return
	}
	d := path.Join(c.dir, target)
	if d == ".." || strings.HasPrefix(d, "../") || len(d) > maxDir {
		c.dir, c.dirUnknown = "", true
		return
	}
	if d == "." {
		d = ""
	}
	c.dir = d
}

// maxDir bounds the folder a chain of cd commands can build up.
const maxDir = 1024

// redirection is a word that redirects a stream: >log, 2>&1, <in, &>all.
var redirection = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d*|&)(>>?|<)(&?)(.*)$`) })

// skipRedirects returns the index of the first word from i on that is not
// a redirection or a redirection's target.
func skipRedirects(ws []string, i int) int {
	for i < len(ws) {
		m := redirection().FindStringSubmatch(ws[i])
		if m == nil {
			return i
		}
		i++
		if m[4] == "" && i < len(ws) {
			i++
		}
	}
	return i
}

// notePlain records an APP_PORT assignment of an earlier command.
func (c *meshCall) notePlain(i int, value string, exported bool) {
	if exported {
		c.exported, c.exportAt, c.plain = value, i, -1
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

// onPORT: a port that is Heroku's, in any form of $PORT, quoted or not.
func onPORT(v string) bool {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "--port="), "-p=")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	loc := portRef().FindStringIndex(v)
	return loc != nil && loc[0] == 0 && loc[1] == len(v)
}

// badAppPort: an APP_PORT value that is the mesh's own port, or a literal
// that is no port number. Another variable's value cannot be judged.
func badAppPort(v string) bool {
	if portRef().MatchString(v) {
		return true
	}
	if u, ok := unquote(v); ok {
		v = u
	}
	return !strings.ContainsAny(v, "$`") && !isPort(v)
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
	text := join(app)
	var shellSees strings.Builder
	for _, w := range app {
		shellSees.WriteString(expanded(w) + " ")
	}
	configured := slices.Contains(m.ConfigVars, "APP_PORT")
	port := c.literalPort(configured, m)
	var problems []Problem
	if portRef().MatchString(text) {
		problems = append(problems, AppUsesPORT)
	}
	usesAppPort := appPortRef().MatchString(shellSees.String())
	switch {
	case usesAppPort && c.prefix >= 0 && !(c.exportAt >= 0 && c.exported == c.appPort) && !(c.plain >= 0 && c.plainPort == c.appPort):
		// $APP_PORT is what the shell has, not the mesh's assignment.
		problems = append(problems, AppPortTrap)
	case usesAppPort && c.prefix < 0 && c.exportAt < 0 && c.plain < 0 && m.ConfigVars != nil && !configured && bareAppPort(shellSees.String()):
		problems = append(problems, AppPortUnset)
	}
	// A plain assignment reaches the mesh only when APP_PORT is already in
	// its environment, as a config var.
	if c.prefix < 0 && c.exportAt < 0 && c.plain >= 0 && !configured && c.plainPort != m.forwardPort() {
		problems = append(problems, AppPortNotExported)
	}
	if inner, ok := unquote(app[0]); ok && strings.ContainsAny(inner, " \t") {
		problems = append(problems, QuotedCommand)
	}
	if chains(app) {
		problems = append(problems, Chained)
	}
	if c.port >= 0 || c.setPort >= 0 || (portFlag >= 0 && !onPORT(ws[portFlag])) {
		problems = append(problems, MeshPort)
	}
	switch v, ok := c.meshAppPort(); {
	case ok && portRef().MatchString(v):
		problems = append(problems, AppPortIsPORT)
	case ok && badAppPort(v):
		problems = append(problems, AppPortInvalid)
	}
	if len(c.misplaced) > 0 {
		problems = append(problems, AssignmentAfterWrapper)
	}
	if c.opAt >= 0 && ws[c.opAt] == "||" {
		problems = append(problems, MeshOnFailure)
	}
	if background(app) {
		problems = append(problems, Background)
	}
	if isPort(port) && (!m.PortUnknown || c.setsAppPort()) && slices.ContainsFunc(listenPorts(app), func(p string) bool { return !samePort(p, port) }) {
		problems = append(problems, AppPortMismatch)
	}
	return problems, port
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// samePort compares two ports as numbers: 03000 is 3000.
func samePort(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	return errA == nil && errB == nil && x == y
}

// setsAppPort reports whether the line gives the mesh an APP_PORT.
func (c meshCall) setsAppPort() bool { return c.prefix >= 0 || c.exportAt >= 0 || c.plain >= 0 }

// meshAppPort is the APP_PORT the mesh is given, if the line gives one: for
// its own command, exported before it, or assigned before it.
func (c meshCall) meshAppPort() (string, bool) {
	switch {
	case c.prefix >= 0:
		return c.appPort, true
	case c.exportAt >= 0:
		return c.exported, true
	case c.plain >= 0:
		return c.plainPort, true
	}
	return "", false
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
// which then expands right), else where the mesh forwards by default. An
// APP_PORT that is no port, or is $PORT, is replaced by the fix, with the
// default.
func (c meshCall) literalPort(configured bool, m Mesh) string {
	switch {
	case c.prefix >= 0 && isPort(c.appPort):
		return c.appPort
	case c.prefix >= 0:
		return m.forwardPort()
	case c.exportAt >= 0 && isPort(c.exported):
		return c.exported
	case c.exportAt >= 0 && badAppPort(c.exported):
		return m.forwardPort()
	case c.exportAt >= 0:
		return "$APP_PORT"
	case c.plain >= 0 && isPort(c.plainPort):
		// Exported by the fix.
		return c.plainPort
	case c.plain >= 0 && badAppPort(c.plainPort):
		return m.forwardPort()
	case configured:
		return "$APP_PORT"
	}
	return m.forwardPort()
}

// listenAt matches a local address with a port, as a listening address
// is written: 0.0.0.0:8000, :8000, tcp://127.0.0.1:8000.
var listenAt = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(tcp://)?(0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|\*)?:(\d{1,5})$`)
})

// bindOptions take a listening address as their value.
var bindOptions = map[string]bool{"-b": true, "--bind": true, "--listen": true, "-l": true}

// portAssignment is PORT=N: the app's port, for an app that reads PORT.
var portAssignment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^PORT=(\d{1,5})$`) })

// listenPort finds the literal port in ws[i] when it is the port the app is
// told to listen on: --port N, -p N, --port=N, a listening address alone
// or as a bind option's value (-b 0.0.0.0:N, --bind=:N), or PORT=N. It
// returns the word's index and where the digits are in it, or ok false.
func listenPort(ws []string, i int) (word, from, to int, ok bool) {
	w := ws[i]
	digits := func(s string) bool { return s != "" && len(s) <= 5 && strings.Trim(s, "0123456789") == "" }
	switch {
	case (w == "--port" || w == "-p") && i+1 < len(ws) && digits(ws[i+1]):
		return i + 1, 0, len(ws[i+1]), true
	case strings.HasPrefix(w, "--port=") && digits(w[len("--port="):]):
		return i, len("--port="), len(w), true
	}
	if m := portAssignment().FindStringSubmatchIndex(w); m != nil {
		return i, m[2], m[3], true
	}
	value, at := w, 0
	if name, v, found := strings.Cut(w, "="); found && bindOptions[name] {
		value, at = v, len(name)+1
	} else if found || strings.HasPrefix(w, "-") {
		return 0, 0, 0, false
	} else if i > 0 && strings.HasPrefix(ws[i-1], "-") && !bindOptions[ws[i-1]] {
		// Another option's value (--statsd-host localhost:8125): another
		// service's address, or another listener's.
		return 0, 0, 0, false
	}
	if m := listenAt().FindStringSubmatchIndex(value); m != nil {
		return i, at + m[6], at + m[7], true
	}
	return 0, 0, 0, false
}

// listenPorts are the literal ports the app's command gives it.
func listenPorts(ws []string) []string {
	var ports []string
	for i := range ws {
		if word, from, to, ok := listenPort(ws, i); ok {
			ports = append(ports, ws[word][from:to])
		}
	}
	return ports
}

// fixApp rewrites the app command to listen on port: every $PORT and
// $APP_PORT becomes the port, and so does a literal port other than it. A
// command quoted whole loses its quotes, so the shell splits it; several
// commands run under one "bash -c", so the mesh starts them all; a final
// "&" goes, since the mesh must wait for the app. What cannot be rewritten
// so becomes ./start.sh, and script is set.
func fixApp(app []string, port string) (cmd []string, script bool) {
	for len(app) > 0 && (background(app) || app[len(app)-1] == ";") {
		app = app[:len(app)-1]
	}
	if len(app) == 0 {
		return []string{"<your app's start command>"}, false
	}
	text := join(app)
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
	for len(cmd) > 0 && (background(cmd) || cmd[len(cmd)-1] == ";") {
		cmd = cmd[:len(cmd)-1]
	}
	if isPort(port) {
		for i := range cmd {
			if word, from, to, ok := listenPort(cmd, i); ok && !samePort(cmd[word][from:to], port) {
				cmd[word] = cmd[word][:from] + port + cmd[word][to:]
			}
		}
	}
	text = join(cmd)
	switch {
	case skipRedirects(cmd, 0) == len(cmd):
		return []string{"<your app's start command>"}, false
	case (hasOperator(cmd) || startsCompound(cmd[0])) && strings.Contains(text, "'"):
		return []string{"./start.sh"}, true
	case hasOperator(cmd) || startsCompound(cmd[0]):
		return []string{"bash", "-c", "'" + text + "'"}, false
	}
	return cmd, false
}

var assignment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`) })

func isAssignment(s string) bool { return assignment().MatchString(s) }

// wrap puts the mesh in front of a command, keeping its VAR=value prefixes,
// setting APP_PORT when the user did not, and giving the app that port
// where it had $PORT or another port. A PORT=… prefix cannot stay where the
// mesh would take it: the app gets it, with the app's port, through env.
// "exec" is dropped, as the mesh is what the shell runs.
func wrap(ws []string, m Mesh) (line, port string, script bool) {
	var prefix []string
	appReadsPORT := false
	n := 0
	for n < len(ws) && isAssignment(ws[n]) {
		n++
	}
	if n < len(ws) && !isOperator(ws[n]) {
		// VAR=value words that prefix the first command: the mesh takes
		// them over. Followed by an operator they are a command of their
		// own, which stays in the app's command.
		for _, w := range ws[:n] {
			if v, ok := strings.CutPrefix(w, "PORT="); ok {
				appReadsPORT = appReadsPORT || !onPORT(v)
			} else {
				prefix = append(prefix, w)
			}
		}
		ws = ws[n:]
	}
	if len(ws) > 0 && ws[0] == "exec" {
		// The shell's exec, with its options: the mesh is what runs now.
		ws = ws[1:]
		for len(ws) > 0 && strings.HasPrefix(ws[0], "-") && !isOperator(ws[0]) {
			if ws[0] == "-a" && len(ws) > 1 {
				ws = ws[1:]
			}
			stop := ws[0] == "--"
			ws = ws[1:]
			if stop {
				break
			}
		}
	}
	for i, p := range prefix {
		if v, ok := strings.CutPrefix(p, "APP_PORT="); ok {
			if !isPort(v) {
				v = m.forwardPort()
				prefix[i] = "APP_PORT=" + v
			}
			port = v
		}
	}
	// An APP_PORT the command itself assigns (export APP_PORT=4000 && …)
	// is what the app sees: the mesh gets the same, or the command gets
	// the mesh's.
	ws = slices.Clone(ws)
	for i, w := range ws {
		v, ok := strings.CutPrefix(w, "APP_PORT=")
		if u, quoted := unquote(v); ok && quoted {
			v = u
		}
		switch {
		case !ok:
		case port == "" && isPort(v):
			port = v
		default:
			ws[i] = "APP_PORT=" + orDefault(port, m.forwardPort())
		}
	}
	if port == "" {
		port = m.forwardPort()
		prefix = append([]string{"APP_PORT=" + port}, prefix...)
	} else if !slices.ContainsFunc(prefix, func(w string) bool { return strings.HasPrefix(w, "APP_PORT=") }) {
		prefix = append([]string{"APP_PORT=" + port}, prefix...)
	}
	if skipRedirects(ws, 0) == len(ws) {
		// Nothing but redirections: no command to start.
		return join(append(prefix, m.Name, "<your app's start command>")), port, false
	}
	app, script := fixApp(ws, port)
	if appReadsPORT {
		app = append([]string{"env", "PORT=" + port}, app...)
	}
	if strings.HasPrefix(app[0], "-") {
		// Not to be read as the mesh's own flags.
		app = append([]string{"--"}, app...)
	}
	return join(append(append(prefix, m.Name), app...)), port, script
}
