package procfile

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// defaultAppPort is the port the mesh forwards to when APP_PORT is unset.
const defaultAppPort = "3000"

// wrappers run the command after them; their options are skipped.
var wrappers = map[string]bool{"exec": true, "env": true, "nice": true, "nohup": true, "tini": true, "dumb-init": true, "command": true}

// optionArgs are wrapper options that take the next word.
var optionArgs = map[string]bool{"-u": true, "--unset": true, "-C": true, "--chdir": true, "-n": true, "--adjustment": true, "-a": true}

// meshName matches the names of the release bucket's objects, which older
// samples put in Procfiles and the upstream buildpack links, and the mesh's
// name before AppLink: a name this build did not install is found and named.
var meshName = regexp.MustCompile(`^heroku-(applink|integration)-service-mesh(-(latest|v?\d+\.\d+\.\d+[0-9A-Za-z.+-]*)-(amd64|arm64|x86_64|aarch64))?$`)

// listenAt is a local address with a port, as a listening address is
// written: 0.0.0.0:8000, :8000, tcp://127.0.0.1:8000.
var listenAt = regexp.MustCompile(`^(tcp://)?(0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|\*)?:(\d{1,5})$`)

// maxDir bounds the folder a chain of cd commands can build up.
const maxDir = 1024

func (m Mesh) name() string { return m.Names[0] }

// forwardPort is where the mesh forwards when APP_PORT is unset.
func (m Mesh) forwardPort() string {
	if m.AppPort != "" {
		return m.AppPort
	}
	return defaultAppPort
}

func (m Mesh) template(typ string) string {
	return typ + ": APP_PORT=" + m.forwardPort() + " " + m.name() + " <your app's start command>"
}

func mentions(s string) bool {
	return strings.Contains(s, "heroku-applink-service-mesh") || strings.Contains(s, "heroku-integration-service-mesh")
}

// IsPort reports whether s is a TCP port number as a Procfile or a config
// file spells one: digits only, 1 to 65535.
func IsPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && len(s) <= 5 && strings.Trim(s, "0123456789") == "" && n >= 1 && n <= 65535
}

// samePort compares two ports as numbers: 03000 is 3000.
func samePort(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	return errA == nil && errB == nil && x == y
}

// appFile reports whether name, as the mesh would find it from dir, is a
// regular file of the app's (which is at /app on a dyno).
func (m Mesh) appFile(dir, name string) bool {
	if rest, ok := strings.CutPrefix(name, "/app/"); ok {
		name = rest
	} else if path.IsAbs(name) {
		return false
	} else {
		name = path.Join(dir, name)
	}
	if m.App == nil || !filepath.IsLocal(name) {
		return false
	}
	info, err := m.App.Stat(name)
	return err == nil && info.Mode().IsRegular()
}

// onPATH reports whether the stack has a program by that name on the PATH
// a dyno starts with.
func onPATH(name string) bool {
	for _, dir := range []string{"/usr/local/bin", "/usr/bin", "/bin"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// Advise checks the web process of p, and every other process that starts
// the mesh.
func Advise(p Procfile, m Mesh) Advice {
	a := Advice{Mesh: m, BOM: p.BOM}
	if lines := p.Lines["web"]; len(lines) > 1 {
		a.WebLines = lines
	}
	if _, ok := p.Commands["web"]; !ok {
		a.Kind, a.Suggested = NoWeb, m.template("web")
	}
	types := p.Types
	if i := slices.Index(types, "web"); i > 0 {
		types = slices.Concat([]string{"web"}, types[:i], types[i+1:])
	}
	for _, typ := range types {
		if proc, ok := m.check(typ, p.Commands[typ]); ok {
			a.Processes = append(a.Processes, proc)
		}
	}
	return a
}

// check reads one process's command; ok is false for a process other than
// web that does not start the mesh, which is none of the build's business.
func (m Mesh) check(typ, command string) (p Process, ok bool) {
	p = Process{Type: typ, Command: command}
	src := command
	if first, rest, found := strings.Cut(command, ":"); found && validType(first) && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
		p.Problems, src = []Problem{RepeatedType}, strings.TrimLeft(rest, " \t")
	}
	f, err := parse(src)
	if err != nil {
		p.Kind, p.Reason = Syntax, err.Error()
		return p, typ == "web" || mentions(src)
	}
	l := &line{m: m, src: src, file: f}
	fixed, found := l.run(&p)
	switch {
	case found:
	case typ != "web" && !mentions(src):
		return p, false
	case mentions(src):
		// Started where this reading does not go: nor can it tell where
		// the mesh starts.
		p.Kind, p.Problems, p.DirUnknown = Indirect, nil, true
		return p, true
	case len(f.Stmts) == 0:
		p.Kind, p.Suggested, p.AppPort = NotWrapped, m.template(typ), m.forwardPort()
		return p, true
	default:
		p.Kind = NotWrapped
		fixed, p.AppPort, p.Script = l.wrap()
		if strings.Contains(fixed, "<your app's") {
			p.Suggested = typ + ": " + fixed
			return p, true
		}
	}
	if fixed == "" && slices.Contains(p.Problems, RepeatedType) {
		fixed = src
	}
	if s := format(fixed); fixed != "" && s != "" && s != format(command) {
		p.Suggested = typ + ": " + s
	}
	return p, true
}

// line is a command line read for where it starts the mesh: a Procfile
// command, or a script that sh -c runs.
type line struct {
	m     Mesh
	src   string
	file  *syntax.File
	edits []edit
	// dir is where the next command runs, relative to the app's root;
	// unknown is set when the build cannot tell.
	dir     string
	unknown bool
	// APP_PORT assigned by earlier commands, exported or not (yet), and
	// exported by name before it is assigned; PORT assigned by them, which
	// Heroku exports.
	plain, exported *assign
	exportsName     bool
	setPort         []*assign
}

// assign is an assignment the build follows.
type assign struct {
	from, to int
	value    *syntax.Word
	raw      string
	// whole removes its command, when the assignment is all it does.
	whole *edit
}

func (l *line) text(n syntax.Node) string { return l.src[off(n.Pos()):off(n.End())] }

func (l *line) assignment(a *syntax.Assign, cmds []cmd, i int, alone bool) *assign {
	as := &assign{from: off(a.Pos()), to: off(a.End()), value: a.Value}
	if a.Value == nil {
		as.value = &syntax.Word{}
	} else {
		as.raw = l.text(a.Value)
	}
	if alone && i+1 < len(cmds) {
		as.whole = &edit{off(cmds[i].stmt.Pos()), off(cmds[i+1].stmt.Pos()), ""}
	}
	return as
}

// val is an assignment's value as bash reads it, or as written when it
// expands another variable.
func (a *assign) val() string {
	if v, ok := static(a.value); ok {
		return v
	}
	return a.raw
}

// bad: an APP_PORT value that is the mesh's own port, or a literal that is
// no port number. Another variable's value cannot be judged.
func (a *assign) bad() bool {
	v, ok := static(a.value)
	return len(refs(a.value, "PORT")) > 0 || ok && !IsPort(v)
}

func same(a, b *assign) bool { return a != nil && b != nil && a.val() == b.val() }

// run follows the line's commands to the mesh's, and checks it. It returns
// the line fixed, or "" when there is nothing to fix.
func (l *line) run(p *Process) (string, bool) {
	cmds := flatten(l.file)
	at := slices.IndexFunc(cmds, func(c cmd) bool { return l.call(c.stmt.Cmd) != nil })
	scope := ""
	if at >= 0 {
		scope = cmds[at].scope
	}
	for i, c := range cmds {
		if c.nested {
			l.dir, l.unknown = "", true
		}
		if i == at {
			return l.mesh(p, l.call(c.stmt.Cmd), cmds, i), true
		}
		switch x := c.stmt.Cmd.(type) {
		case *syntax.CallExpr:
			j := 0
			for j < len(x.Args) && wrappers[lead(x.Args[j])] {
				j++
			}
			if w, text, ok := script(x.Args, j); ok && mentions(text) {
				return l.inScript(p, w, text)
			}
			switch {
			case !c.sees(scope):
			case len(x.Args) > 0:
				l.command(x)
			default:
				for _, a := range x.Assigns {
					l.earlier(a.Name.Value, l.assignment(a, cmds, i, len(x.Assigns) == 1), false)
				}
			}
		case *syntax.DeclClause:
			if c.sees(scope) {
				l.declare(x, cmds, i)
			}
		default:
			l.dir, l.unknown = "", true
		}
	}
	return "", false
}

// earlier follows an assignment of an earlier command: APP_PORT reaches
// the mesh when exported, and PORT always, as Heroku exports it.
func (l *line) earlier(name string, a *assign, exporting bool) {
	switch {
	case name == "APP_PORT" && (exporting || l.exportsName || l.exported != nil):
		l.exported, l.plain = a, nil
	case name == "APP_PORT":
		l.plain = a
	case name == "PORT" && !onPORT(a.value):
		l.setPort = append(l.setPort, a)
	}
}

// declare follows export, and declare or typeset with -x.
func (l *line) declare(x *syntax.DeclClause, cmds []cmd, i int) {
	exporting := x.Variant.Value == "export"
	var named []*syntax.Assign
	for _, a := range x.Args {
		if a.Name == nil {
			v, _ := static(a.Value)
			exporting = exporting || strings.HasPrefix(v, "-") && strings.Contains(v, "x")
		} else {
			named = append(named, a)
		}
	}
	for _, a := range named {
		switch {
		case !a.Naked:
			l.earlier(a.Name.Value, l.assignment(a, cmds, i, len(named) == 1), exporting)
		case a.Name.Value == "APP_PORT" && exporting && l.plain != nil:
			// "APP_PORT=4000; export APP_PORT"
			l.exported, l.plain = l.plain, nil
		case a.Name.Value == "APP_PORT" && exporting:
			l.exportsName = true
		}
	}
}

// command follows a command before the mesh's that moves where it starts.
func (l *line) command(x *syntax.CallExpr) {
	switch v, _ := static(x.Args[0]); v {
	case "cd":
		target, ok := "/app", true // HOME, where a bare cd goes
		if len(x.Args) > 1 {
			target, ok = static(x.Args[1])
		}
		l.cd(target, ok)
	case "pushd", "popd":
		l.dir, l.unknown = "", true
	}
}

// cd follows a cd to a plain path inside the app (at /app on a dyno);
// anything else leaves where the mesh starts unknown.
func (l *line) cd(target string, ok bool) {
	if rest, in := strings.CutPrefix(target, "/app"); ok && in && (rest == "" || rest[0] == '/') {
		l.dir, l.unknown, target = "", false, strings.TrimLeft(rest, "/")
		if target == "" {
			return
		}
	}
	if l.unknown {
		return
	}
	d := path.Join(l.dir, target)
	if !ok || target == "" || strings.ContainsAny(target, "*?[") || path.IsAbs(target) || target[0] == '-' ||
		d == ".." || strings.HasPrefix(d, "../") || len(d) > maxDir {
		l.dir, l.unknown = "", true
		return
	}
	l.dir = strings.TrimSuffix(d, ".")
}

// lead is a word as bash reads it, or its literal start when it expands
// more: enough to tell an option's name.
func lead(w *syntax.Word) string {
	if v, ok := static(w); ok {
		return v
	}
	if lit, ok := w.Parts[0].(*syntax.Lit); ok {
		return lit.Value
	}
	return ""
}

// call is the mesh's command. Indexes are of its words.
type call struct {
	x *syntax.CallExpr
	// at is the mesh's word; wrap the first wrapper's (exec, nice, …), or
	// -1.
	at, wrap int
	// prefix and port are APP_PORT and PORT given to the mesh's command.
	prefix, port *assign
	// misplaced are assignments after a wrapper other than env, which runs
	// them as a program's name; unset are env's -u PORT.
	misplaced []*syntax.Word
	unset     []edit
	// flag holds the mesh's --port; sep is set when "--" ends its options;
	// chdir when env -C moves it.
	flag       *syntax.Word
	sep, chdir bool
	app        []*syntax.Word
}

// give records an assignment for the mesh's command.
func (c *call) give(name string, a *assign) {
	switch {
	case name == "APP_PORT":
		c.prefix = a
	case name == "PORT" && !onPORT(a.value):
		c.port = a
	}
}

// call reads x as the mesh's command, if it is one: past assignments and
// wrappers such as exec, env and nice with their options.
func (l *line) call(cmd syntax.Command) *call {
	x, ok := cmd.(*syntax.CallExpr)
	if !ok {
		return nil
	}
	c := &call{x: x, wrap: -1}
	for _, a := range x.Assigns {
		c.give(a.Name.Value, l.assignment(a, nil, 0, false))
	}
	wrapper := ""
	for i := 0; i < len(x.Args); i++ {
		w := x.Args[i]
		v, _ := static(w)
		name, value, isAssign := splitAssign(w)
		switch {
		case wrapper != "" && strings.HasPrefix(v, "-"):
			// env changing the directory the mesh starts in.
			c.chdir = c.chdir || v == "-C" || strings.HasPrefix(v, "--chdir")
			next := ""
			if optionArgs[v] && i+1 < len(x.Args) {
				i++
				next, _ = static(x.Args[i])
			}
			if wrapper == "env" && (next == "PORT" && (v == "-u" || v == "--unset") || v == "-uPORT" || v == "--unset=PORT") {
				c.unset = append(c.unset, edit{off(w.Pos()), off(x.Args[i].End()), ""})
			}
		case wrappers[v]:
			wrapper = v
			if c.wrap < 0 {
				c.wrap = i
			}
		case wrapper != "" && isAssign:
			if wrapper != "env" {
				c.misplaced = append(c.misplaced, w)
			}
			c.give(name, &assign{from: off(w.Pos()), to: off(w.End()), value: value, raw: l.text(w)[len(name)+1:]})
		case slices.Contains(l.m.Names, path.Base(v)) || meshName.MatchString(path.Base(v)):
			c.at = i
			j := i + 1
			for ; j < len(x.Args); j++ {
				flag := lead(x.Args[j])
				if flag == "--port" || flag == "-p" {
					j++
					c.flag = x.Args[min(j, len(x.Args)-1)]
					continue
				}
				if strings.HasPrefix(flag, "--port=") || strings.HasPrefix(flag, "-p=") {
					c.flag = x.Args[j]
					continue
				}
				if flag == "--" {
					c.sep = true
					j++
				}
				break
			}
			c.app = x.Args[min(j, len(x.Args)):]
			return c
		default:
			return nil
		}
	}
	return nil
}

// inScript checks the script "sh -c" runs, which starts the mesh; the
// line fixed has the script fixed in its word.
func (l *line) inScript(p *Process, w *syntax.Word, text string) (string, bool) {
	f, err := parse(text)
	if err != nil {
		return "", false
	}
	in := &line{m: l.m, src: text, file: f, dir: l.dir, unknown: l.unknown}
	fixed, found := in.run(p)
	if s := format(fixed); found && s != "" {
		return apply(l.src, []edit{{off(w.Pos()), off(w.End()), quoted(w, s)}}), true
	}
	return "", found
}

// port is the port the app must listen on: the APP_PORT given to the mesh
// (else the config var's, as $APP_PORT, which then expands right), else
// where the mesh forwards by default. An APP_PORT that is no port, or is
// $PORT, is replaced by the fix, with the default.
func (l *line) port(c *call) string {
	for _, a := range []*assign{c.prefix, l.exported, l.plain} {
		switch {
		case a == nil:
		case IsPort(a.val()):
			return a.val()
		case a == c.prefix || a.bad():
			return l.m.forwardPort()
		case a == l.exported:
			return "$APP_PORT"
		}
	}
	if slices.Contains(l.m.ConfigVars, "APP_PORT") {
		return "$APP_PORT"
	}
	return l.m.forwardPort()
}

// mesh checks the mesh's command, and fixes the line.
func (l *line) mesh(p *Process, c *call, cmds []cmd, i int) string {
	m := l.m
	w := c.x.Args[c.at]
	v, _ := static(w)
	if c.chdir {
		l.dir, l.unknown = "", true
	}
	p.Name, p.Dir, p.DirUnknown = path.Base(v), l.dir, l.unknown
	if c.prefix != nil {
		p.AppPortSet = c.prefix.val()
	}
	switch {
	case p.Name == m.name():
	case slices.Contains(m.Names, p.Name):
		p.Kind = Legacy
	default:
		p.Kind = OtherName
	}
	if raw := l.text(w); p.Kind != OK {
		if !strings.HasSuffix(raw, p.Name) {
			raw = v
		}
		l.edits = append(l.edits, edit{off(w.Pos()), off(w.End()), strings.TrimSuffix(raw, p.Name) + m.name()})
	}
	if len(c.app) == 0 || !c.sep && strings.HasPrefix(lead(c.app[0]), "-") {
		// Nothing to start, or a flag of the mesh's own (-v, --help).
		p.Kind, p.Problems = NoCommand, nil
		return ""
	}
	chained := slices.ContainsFunc(cmds[i+1:], func(c cmd) bool { return c.op != "|" && c.op != "|&" })
	from, to := off(c.app[0].Pos()), off(c.app[len(c.app)-1].End())
	if chained {
		to = end(l.file)
	}
	outer, _ := parse(l.src[from:to])
	a, quotedCmd, script := m.readCommand(l.src[from:to], l.dir, l.unknown)
	configured := slices.Contains(m.ConfigVars, "APP_PORT")
	port := l.port(c)
	p.AppPort = port
	setsAppPort := c.prefix != nil || l.exported != nil || l.plain != nil
	usesAppPort := outer != nil && len(refs(outer, "APP_PORT")) > 0
	bareAppPort := outer != nil && slices.ContainsFunc(refs(outer, "APP_PORT"), func(pe *syntax.ParamExp) bool { return ref(pe, "APP_PORT", false) })
	meshAppPort := c.prefix
	if meshAppPort == nil {
		meshAppPort = firstSet(l.exported, l.plain)
	}
	last := l.file.Stmts[len(l.file.Stmts)-1]
	before := len(p.Problems)
	for _, check := range []struct {
		problem Problem
		found   bool
	}{
		{AppUsesPORT, a.usesPORT()},
		{AppPortTrap, usesAppPort && c.prefix != nil && !same(l.exported, c.prefix) && !same(l.plain, c.prefix)},
		{AppPortUnset, bareAppPort && !setsAppPort && m.ConfigVars != nil && !configured},
		// A plain assignment reaches the mesh only when APP_PORT is already
		// in its environment, as a config var.
		{AppPortNotExported, c.prefix == nil && l.exported == nil && l.plain != nil && !configured && l.plain.val() != m.forwardPort()},
		{QuotedCommand, quotedCmd},
		{Chained, chained},
		{MeshPort, c.port != nil || len(l.setPort) > 0 || c.flag != nil && !onPORT(c.flag) || len(c.unset) > 0},
		{AppPortIsPORT, meshAppPort != nil && len(refs(meshAppPort.value, "PORT")) > 0},
		{AppPortInvalid, meshAppPort != nil && len(refs(meshAppPort.value, "PORT")) == 0 && meshAppPort.bad()},
		{AssignmentAfterWrapper, len(c.misplaced) > 0},
		{MeshOnFailure, cmds[i].op == "||"},
		{Background, last.Background},
		{AppPortMismatch, IsPort(port) && (!m.PortUnknown || setsAppPort) && slices.ContainsFunc(a.listens(), func(l listen) bool { return !samePort(l.port(), port) })},
		{BareProgram, !l.unknown && a.bare(m, l.dir) != nil},
	} {
		if check.found {
			p.Problems = append(p.Problems, check.problem)
		}
	}
	if len(p.Problems) > before {
		l.fix(p, c, a, cmds[i], edit{from, to, ""}, script)
	}
	if len(l.edits) == 0 {
		return ""
	}
	return apply(l.src, l.edits)
}

// firstSet is the first of its arguments that is set.
func firstSet(as ...*assign) *assign {
	for _, a := range as {
		if a != nil {
			return a
		}
	}
	return nil
}

// readCommand reads the app's command, and the command meant when it is
// quoted whole, which the mesh would run as one program's name (a quoted
// path to a file of the app's is one); script is set when such a command
// cannot be unquoted.
func (m Mesh) readCommand(text, dir string, unknown bool) (a *app, quoted, script bool) {
	a = readApp(text)
	if a == nil || len(a.file.Stmts) == 0 {
		return a, false, false
	}
	first := flatten(a.file)[0]
	x, ok := first.stmt.Cmd.(*syntax.CallExpr)
	if !ok || len(x.Args) == 0 || first.nested {
		return a, false, false
	}
	w := x.Args[0]
	raw, inner := a.src[off(w.Pos()):off(w.End())], ""
	switch q := w.Parts[0].(type) {
	case *syntax.SglQuoted:
		inner = q.Value
	case *syntax.DblQuoted:
		inner = raw[1 : len(raw)-1]
	}
	if len(w.Parts) != 1 || !strings.ContainsAny(inner, " \t") || raw[0] == '$' {
		return a, false, false
	}
	if v, ok := static(w); ok && !unknown && m.appFile(dir, v) {
		return a, false, false
	}
	return readApp(inner), true, a.call() == nil || len(x.Args) > 1 || strings.ContainsAny(inner, `'"\`)
}

// fix rewrites the line so that the mesh starts the app right: the app's
// command (at app) to listen on the port, the mesh on $PORT, APP_PORT
// assigned and exported where the mesh sees it.
func (l *line) fix(p *Process, c *call, a *app, mc cmd, app edit, script bool) {
	m, port := l.m, p.AppPort
	app.text, p.Script = a.fix(m, port, l.dir, l.unknown)
	if script {
		app.text, p.Script = "./start.sh", true
	}
	if c.port != nil || len(l.setPort) > 0 {
		// The PORT given to the mesh was meant for the app, or is harmless
		// to it: the app keeps it, as the port it listens on.
		app.text = "env PORT=" + port + " " + app.text
	}
	l.edits = append(l.edits, app)
	if c.flag != nil && !onPORT(c.flag) {
		flag := lead(c.flag)
		l.edits = append(l.edits, edit{off(c.flag.Pos()), off(c.flag.End()), flag[:strings.IndexByte(flag, '=')+1] + "$PORT"})
	}
	l.edits = append(l.edits, c.unset...)
	for _, a := range append([]*assign{c.port}, l.setPort...) {
		if a != nil && a.whole != nil {
			l.edits = append(l.edits, *a.whole)
		} else if a != nil {
			l.edits = append(l.edits, edit{a.from, a.to, ""})
		}
	}
	// Assignments after a wrapper move before it, with an APP_PORT the
	// build cannot see set where the mesh forwards without it.
	var moved []string
	if m.PortUnknown && c.prefix == nil && l.exported == nil && l.plain == nil && IsPort(port) {
		moved = append(moved, "APP_PORT="+port)
	}
	for _, w := range c.misplaced {
		if c.port != nil && c.port.from == off(w.Pos()) {
			continue // the PORT given to the mesh goes
		}
		text := l.text(w)
		if c.prefix != nil && c.prefix.from == off(w.Pos()) && !IsPort(c.prefix.val()) {
			text = "APP_PORT=" + port
		}
		moved = append(moved, text)
		l.edits = append(l.edits, edit{off(w.Pos()), off(w.End()), ""})
	}
	start := c.x.Args[max(c.wrap, 0)]
	if c.wrap < 0 {
		start = c.x.Args[c.at]
	}
	if len(moved) > 0 {
		l.edits = append(l.edits, edit{off(start.Pos()), off(start.Pos()), strings.Join(moved, " ") + " "})
	}
	// An APP_PORT that is no port, or is the mesh's own, becomes the app's.
	for _, a := range []*assign{c.prefix, l.exported, l.plain} {
		if a != nil && (a == c.prefix && !IsPort(a.val()) || a != c.prefix && a.bad()) {
			l.edits = append(l.edits, edit{a.from, a.to, "APP_PORT=" + port})
		}
	}
	if slices.Contains(p.Problems, AppPortNotExported) {
		l.edits = append(l.edits, edit{l.plain.from, l.plain.from, "export "})
	}
	if mc.op == "||" {
		l.edits = append(l.edits, edit{mc.opAt, mc.opAt + 2, "&&"})
	}
	if last := l.file.Stmts[len(l.file.Stmts)-1]; last.Background {
		l.edits = append(l.edits, edit{off(last.Semicolon), off(last.Semicolon) + 1, ""})
	}
}

// wrap puts the mesh in front of a command that does not start it,
// keeping its VAR=value prefixes, setting APP_PORT when the user did not,
// and giving the app that port where it had $PORT or another port. A
// PORT=… prefix cannot stay where the mesh would take it: the app gets it,
// with the app's port, through env. "exec" is dropped, as the mesh is what
// the shell runs.
func (l *line) wrap() (line, port string, script bool) {
	m := l.m
	var prefix []string
	readsPORT, from := false, 0
	if c := flatten(l.file)[0]; !c.nested && isCall(c.stmt) {
		x := c.stmt.Cmd.(*syntax.CallExpr)
		for _, a := range x.Assigns {
			v, _ := static(a.Value)
			switch {
			case a.Name.Value == "PORT":
				readsPORT = readsPORT || a.Value == nil || !onPORT(a.Value)
			case a.Name.Value == "APP_PORT" && !IsPort(v):
				port = m.forwardPort()
				prefix = append(prefix, "APP_PORT="+port)
			case a.Name.Value == "APP_PORT":
				port = v
				fallthrough
			default:
				var b strings.Builder
				syntax.NewPrinter().Print(&b, a)
				prefix = append(prefix, b.String())
			}
		}
		i := 0
		if lead(x.Args[0]) == "exec" {
			// The shell's exec, with its options: the mesh runs instead.
			for i = 1; i < len(x.Args); i++ {
				v := lead(x.Args[i])
				if v == "-a" || v == "--" {
					i++
				}
				if v == "--" || !strings.HasPrefix(v, "-") {
					break
				}
			}
		}
		from = end(l.file)
		if i < len(x.Args) {
			from = off(x.Args[i].Pos())
		}
	}
	text := l.src[from:end(l.file)]
	// An APP_PORT the command itself assigns (export APP_PORT=4000 && …) is
	// what the app sees: the mesh gets the same, or the command gets the
	// mesh's.
	var edits []edit
	if f, err := parse(text); err == nil {
		syntax.Walk(f, func(n syntax.Node) bool {
			if a, ok := n.(*syntax.Assign); ok && a.Name != nil && a.Name.Value == "APP_PORT" && !a.Naked {
				if v, _ := static(a.Value); port == "" && IsPort(v) {
					port = v
				} else {
					edits = append(edits, edit{off(a.Pos()), off(a.End()), "APP_PORT=" + orDefault(port, m.forwardPort())})
				}
			}
			return true
		})
	}
	text = apply(text, edits)
	if port == "" {
		port = m.forwardPort()
	}
	if !slices.ContainsFunc(prefix, func(s string) bool { return strings.HasPrefix(s, "APP_PORT=") }) {
		prefix = append([]string{"APP_PORT=" + port}, prefix...)
	}
	a, _, script := m.readCommand(text, "", false)
	app, fixScript := a.fix(m, port, "", false)
	if script || fixScript {
		app, script = "./start.sh", true
	}
	if readsPORT {
		app = "env PORT=" + port + " " + app
	}
	if x := readApp(app).call(); x != nil && strings.HasPrefix(lead(x.Args[0]), "-") {
		// Not to be read as the mesh's own flags.
		app = "-- " + app
	}
	return strings.Join(append(append(prefix, m.name()), app), " "), port, script
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// app is the command the mesh starts, read as a line of its own, and the
// script it runs when it is "sh -c '…'".
type app struct {
	src          string
	file         *syntax.File
	script       *syntax.Word
	scriptSrc    string
	scriptParsed *syntax.File
}

// readApp reads an app's command; nil when bash cannot.
func readApp(src string) *app {
	f, err := parse(src)
	if err != nil {
		return nil
	}
	a := &app{src: src, file: f}
	if len(f.Stmts) > 0 {
		a.src = src[:end(f)]
	}
	if x := a.call(); x != nil {
		if w, text, ok := script(x.Args, 0); ok {
			if sf, err := parse(text); err == nil {
				a.script, a.scriptSrc, a.scriptParsed = w, text, sf
			}
		}
	}
	return a
}

// call is the app's command when it is one simple command.
func (a *app) call() *syntax.CallExpr {
	if a == nil || len(a.file.Stmts) != 1 || !isCall(a.file.Stmts[0]) {
		return nil
	}
	return a.file.Stmts[0].Cmd.(*syntax.CallExpr)
}

// isCall: a simple command that runs a program.
func isCall(s *syntax.Stmt) bool {
	x, ok := s.Cmd.(*syntax.CallExpr)
	return ok && len(x.Args) > 0 && !s.Negated
}

func (a *app) usesPORT() bool {
	return a != nil && (len(refs(a.file, "PORT")) > 0 || a.script != nil && len(refs(a.scriptParsed, "PORT")) > 0)
}

// bare is the app's program when it is a file of the app's named without a
// path: the mesh, like bash, looks such a name up on PATH only, and the
// app's folder is not on it.
func (a *app) bare(m Mesh, dir string) *syntax.Word {
	x := a.call()
	if x == nil {
		return nil
	}
	if v, ok := static(x.Args[0]); ok && !strings.Contains(v, "/") && m.appFile(dir, v) && !onPATH(v) {
		return x.Args[0]
	}
	return nil
}

// listen is a literal port the app is told to listen on: in word w, at
// [from, to) of its text as bash reads it.
type listen struct {
	w        *syntax.Word
	text     string
	from, to int
}

func (l listen) port() string { return l.text[l.from:l.to] }

// bindOptions take a listening address as their value.
var bindOptions = map[string]bool{"-b": true, "--bind": true, "--listen": true, "-l": true}

// listens finds the literal ports the app is told to listen on: --port N,
// -p N, -pN, --port=N, a listening address alone or as a bind option's
// value (-b 0.0.0.0:N, --bind=:N), PORT=N. Another option's address
// (--statsd-host localhost:8125) is another service's.
func (a *app) listens() []listen {
	if a == nil {
		return nil
	}
	var out []listen
	digits := func(s string) bool { return s != "" && len(s) <= 5 && strings.Trim(s, "0123456789") == "" }
	syntax.Walk(a.file, func(n syntax.Node) bool {
		x, ok := n.(*syntax.CallExpr)
		if !ok {
			return true
		}
		for _, as := range x.Assigns {
			if v, _ := static(as.Value); as.Name.Value == "PORT" && digits(v) {
				out = append(out, listen{as.Value, v, 0, len(v)})
			}
		}
		ws := make([]string, len(x.Args))
		for i, w := range x.Args {
			ws[i], _ = static(w)
		}
		for i, w := range ws {
			prev := ""
			if i > 0 {
				prev = ws[i-1]
			}
			name, value, found := strings.Cut(w, "=")
			switch {
			case (prev == "--port" || prev == "-p") && digits(w):
				out = append(out, listen{x.Args[i], w, 0, len(w)})
			case strings.HasPrefix(w, "-p") && digits(w[2:]):
				out = append(out, listen{x.Args[i], w, 2, len(w)})
			case found && (name == "--port" || name == "PORT") && digits(value):
				out = append(out, listen{x.Args[i], w, len(name) + 1, len(w)})
			case found && !bindOptions[name] || !found && (strings.HasPrefix(w, "-") || strings.HasPrefix(prev, "-") && !bindOptions[prev]):
			default:
				if !found {
					name, value = "", w
				} else {
					name += "="
				}
				if m := listenAt.FindStringSubmatchIndex(value); m != nil {
					out = append(out, listen{x.Args[i], w, len(name) + m[6], len(name) + m[7]})
				}
			}
		}
		return true
	})
	return out
}

// fix rewrites the app's command to listen on port: every $PORT and
// $APP_PORT becomes the port, and so does a literal port other than it; a
// file of the app's named bare gets its path. Several commands run under
// one "bash -c", so that the mesh starts them all; what cannot be written
// so becomes ./start.sh, and script is set.
func (a *app) fix(m Mesh, port, dir string, unknown bool) (string, bool) {
	if a == nil {
		return "./start.sh", true
	}
	if len(a.file.Stmts) == 0 || a.file.Stmts[0].Cmd == nil {
		return "<your app's start command>", false
	}
	var edits []edit
	replace := func(f *syntax.File, name string) []edit {
		var out []edit
		for _, pe := range refs(f, name) {
			out = append(out, edit{off(pe.Pos()), off(pe.End()), port})
		}
		return out
	}
	edits = append(edits, replace(a.file, "PORT")...)
	if port != "$APP_PORT" {
		edits = append(edits, replace(a.file, "APP_PORT")...)
	}
	if IsPort(port) {
		for _, l := range a.listens() {
			if !samePort(l.port(), port) {
				edits = append(edits, edit{off(l.w.Pos()), off(l.w.End()), rewrite(a.src[off(l.w.Pos()):off(l.w.End())], l.text, l.text[:l.from]+port+l.text[l.to:])})
			}
		}
	}
	if w := a.bare(m, dir); w != nil && !unknown {
		edits = append(edits, edit{off(w.Pos()), off(w.Pos()), "./"})
	}
	if a.script != nil {
		if inner := replace(a.scriptParsed, "PORT"); len(inner) > 0 {
			edits = append(edits, edit{off(a.script.Pos()), off(a.script.End()), quoted(a.script, apply(a.scriptSrc, inner))})
		}
	}
	fixed := apply(a.src, edits)
	switch {
	case a.call() != nil:
		return fixed, false
	case strings.Contains(fixed, "'"):
		return "./start.sh", true
	}
	return "bash -c '" + format(fixed) + "'", false
}

// rewrite changes a word written raw, whose text bash reads as old, to
// read as new: in place when it is written as it reads, else quoted anew.
func rewrite(raw, old, new string) string {
	if strings.Contains(raw, old) {
		return strings.Replace(raw, old, new, 1)
	}
	q, _ := syntax.Quote(new, syntax.LangBash)
	return q
}
