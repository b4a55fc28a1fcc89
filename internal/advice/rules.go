package advice

import (
	"cmp"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

const (
	defaultAppPort = "3000"                       // where the mesh forwards without APP_PORT
	placeholder    = "<your app's start command>" // the app's command in an example line
	maxDir         = 1024                         // bounds the folder a chain of cd builds up
)

var (
	// wrappers run the command after them; optionArgs are their options
	// that take a value.
	wrappers   = map[string]bool{"exec": true, "env": true, "nice": true, "nohup": true, "tini": true, "dumb-init": true, "command": true}
	optionArgs = map[string]bool{"-u": true, "--unset": true, "-C": true, "--chdir": true, "-n": true, "--adjustment": true, "-a": true}
	// meshName matches the release bucket's object names, which old samples
	// put in Procfiles, and the pre-AppLink name: a mesh this build did not
	// install is found, and named.
	meshName = regexp.MustCompile(`^heroku-(applink|integration)-service-mesh(-(latest|v?\d+\.\d+\.\d+[0-9A-Za-z.+-]*)-(amd64|arm64|x86_64|aarch64))?$`)
	// listenPort matches a word that gives the app a literal port: --port=N,
	// -pN, PORT=N, or a local address, alone or as a bind option's value.
	listenPort  = regexp.MustCompile(`^(?:--port=|-p=?|PORT=|(?:(?:-b|--bind|--listen|-l)=)?(?:tcp://)?(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|\*)?:)(\d{1,5})$`)
	bindOptions = map[string]bool{"-b": true, "--bind": true, "--listen": true, "-l": true}
)

// isPort reports whether s is a TCP port number as a Procfile or a config
// file spells one: digits only, 1 to 65535.
func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && s[0] != '+' && s[0] != '-' && len(s) <= 5 && n >= 1 && n <= 65535
}

func samePort(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	return errA == nil && errB == nil && x == y
}

func mentions(s string) bool {
	return strings.Contains(s, "heroku-applink-service-mesh") || strings.Contains(s, "heroku-integration-service-mesh")
}

func (m mesh) forwardPort() string { return cmp.Or(m.AppPort, defaultAppPort) }

func (m mesh) template(typ string) string {
	return typ + ": APP_PORT=" + m.forwardPort() + " " + m.Names[0] + " " + placeholder
}

// appFile reports whether name, as the mesh finds it from dir, is a
// regular file of the app's (at /app on a dyno).
func (m mesh) appFile(dir, name string) bool {
	if rest, ok := strings.CutPrefix(name, "/app/"); ok {
		name = rest
	} else if !path.IsAbs(name) {
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
	return slices.ContainsFunc([]string{"/usr/local/bin", "/usr/bin", "/bin"}, func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	})
}

// advise checks the web process of p, and every other process that starts
// the mesh.
func advise(p procfile, m mesh) procfileResult {
	a := procfileResult{Mesh: m, BOM: p.BOM}
	if lines := p.Lines["web"]; len(lines) > 1 {
		a.WebLines = lines
	}
	types := p.Types
	if i := slices.Index(types, "web"); i > 0 {
		types = slices.Concat([]string{"web"}, types[:i], types[i+1:])
	} else if i < 0 {
		a.Kind, a.Suggested = noWeb, m.template("web")
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
func (m mesh) check(typ, command string) (p process, ok bool) {
	p, src := process{Type: typ, Command: command}, command
	if first, rest, found := strings.Cut(command, ":"); found && validType(first) && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
		p.Problems, src = []problem{repeatedType}, strings.TrimLeft(rest, " \t")
	}
	l, err := m.read(src, "", false)
	if err != nil {
		p.Kind, p.Reason = badSyntax, err.Error()
		return p, typ == "web" || mentions(src)
	}
	fixed, found := l.run(&p)
	switch {
	case p.Kind == noCommand:
		return p, true
	case found:
		fixed = cmp.Or(fixed, src)
	case mentions(src):
		// Started where this reading does not go: nor can it tell where.
		p.Kind, p.Problems, p.DirUnknown = indirect, nil, true
		return p, true
	case typ != "web":
		return p, false
	default:
		// Put in the mesh, the command is checked and fixed as any other.
		p.Kind, p.Suggested, p.AppPort = notWrapped, m.template(typ), m.forwardPort()
		var wrapped process
		candidate := l.wrap()
		if l, err = m.read(candidate, "", false); err != nil {
			return p, true
		} else if fixed, _ = l.run(&wrapped); wrapped.Kind == noCommand {
			return p, true
		}
		fixed, p.AppPort, p.Script, p.Suggested = cmp.Or(fixed, candidate), wrapped.AppPort, wrapped.Script, ""
	}
	if s := format(fixed); s != "" && s != format(command) {
		p.Suggested = typ + ": " + s
	}
	return p, true
}

// line is a command line read for where it starts the mesh: a Procfile
// command, or a script that sh -c runs.
type line struct {
	m     mesh
	src   string
	file  *syntax.File
	edits []edit
	// dir is where the next command runs, relative to the app's root
	// (unknown when the build cannot tell); appPort is APP_PORT as earlier
	// commands assign it, which reaches the mesh once exported; setPort,
	// PORT, which always does, as Heroku exports it.
	dir               string
	unknown, exported bool
	appPort           *assign
	setPort           []*assign
}

func (m mesh) read(src, dir string, unknown bool) (*line, error) {
	f, err := parse(src)
	return &line{m: m, src: src, file: f, dir: dir, unknown: unknown}, err
}

// assign is an assignment the build follows; whole removes its command,
// when it is all the command does.
type assign struct {
	from, to int
	value    *syntax.Word
	whole    *edit
}

func newAssign(n syntax.Node, value *syntax.Word) *assign {
	if value == nil {
		value = &syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{}}}
	}
	return &assign{from: off(n.Pos()), to: off(n.End()), value: value}
}

func (a *assign) val() string { v, _ := static(a.value); return v }

// bad: APP_PORT is the mesh's own port, or a literal that is no port.
// Another variable's value cannot be judged.
func (a *assign) bad() bool {
	v, ok := static(a.value)
	return len(refs(a.value, "PORT")) > 0 || ok && !isPort(v)
}

// run follows the line's commands to the mesh's, checks it, and returns
// the line fixed.
func (l *line) run(p *process) (string, bool) {
	cmds := flatten(l.file)
	at := slices.IndexFunc(cmds, func(c cmd) bool { return l.call(c.stmt) != nil })
	scope := ""
	if at >= 0 {
		scope = cmds[at].scope
	}
	for i, c := range cmds {
		if c.nested {
			l.dir, l.unknown = "", true
		}
		x, _ := c.stmt.Cmd.(*syntax.CallExpr)
		d, _ := c.stmt.Cmd.(*syntax.DeclClause)
		switch {
		case i == at:
			return l.mesh(p, l.call(c.stmt), cmds, i), true
		case x == nil && d == nil:
			l.dir, l.unknown = "", true
		case x != nil && len(x.Args) > 0:
			if w, text, ok := shScript(x.Args); ok && mentions(text) {
				in, err := l.m.read(text, l.dir, l.unknown)
				if err != nil {
					return "", false
				}
				if fixed, found := in.run(p); format(fixed) != "" {
					return apply(l.src, []edit{{off(w.Pos()), off(w.End()), quoted(w, format(fixed))}}), found
				} else {
					return "", found
				}
			}
			if c.sees(scope) {
				l.cd(x)
			}
		case x != nil && c.sees(scope):
			for _, a := range x.Assigns {
				l.earlier(a, cmds, i, len(x.Assigns) == 1, false)
			}
		case d != nil && c.sees(scope):
			// export, or declare and typeset with -x.
			exporting, named := d.Variant.Value == "export", []*syntax.Assign{}
			for _, a := range d.Args {
				v, _ := static(a.Value)
				exporting = exporting || a.Name == nil && strings.HasPrefix(v, "-") && strings.Contains(v, "x")
				if a.Name != nil {
					named = append(named, a)
				}
			}
			for _, a := range named {
				l.earlier(a, cmds, i, len(named) == 1, exporting)
			}
		}
	}
	return "", false
}

// earlier follows an assignment of a command before the mesh's.
func (l *line) earlier(a *syntax.Assign, cmds []cmd, i int, alone, exporting bool) {
	as := newAssign(a, a.Value)
	if alone && i+1 < len(cmds) {
		as.whole = &edit{off(cmds[i].stmt.Pos()), off(cmds[i+1].stmt.Pos()), ""}
	}
	switch {
	case a.Name.Value == "APP_PORT":
		l.exported = l.exported || exporting
		if !a.Naked {
			l.appPort = as
		}
	case a.Name.Value == "PORT" && !a.Naked && !onPORT(as.value):
		l.setPort = append(l.setPort, as)
	}
}

// cd follows a command before the mesh's that moves where it starts: a cd
// to a plain path in the app (at /app on a dyno) is followed; anything
// else leaves it unknown.
func (l *line) cd(x *syntax.CallExpr) {
	switch v, _ := static(x.Args[0]); v {
	case "pushd", "popd":
		l.dir, l.unknown = "", true
	case "cd":
		target, ok := "/app", true // HOME, where a bare cd goes
		if len(x.Args) > 1 {
			target, ok = static(x.Args[1])
		}
		if rest, in := strings.CutPrefix(target, "/app"); ok && in && (rest == "" || rest[0] == '/') {
			l.dir, l.unknown, target = "", false, "."+rest
		}
		d := path.Join(l.dir, target)
		if !ok || l.unknown || target == "" || strings.ContainsAny(target, "*?[") || path.IsAbs(target) || target[0] == '-' ||
			d == ".." || strings.HasPrefix(d, "../") || len(d) > maxDir {
			l.dir, l.unknown = "", true
		} else {
			l.dir = strings.TrimSuffix(d, ".")
		}
	}
}

// call is the mesh's command.
type call struct {
	x            *syntax.CallExpr
	at, wrap     int     // the mesh's word; the first wrapper's (exec, nice…), or -1
	prefix, port *assign // APP_PORT and PORT given to the mesh
	// misplaced are assignments after a wrapper other than env, which runs
	// them as a program's name; unset removes env's -u PORT.
	misplaced  []*syntax.Word
	unset      []edit
	flag       *syntax.Word // the mesh's --port
	sep, chdir bool         // "--" ends the mesh's options; env -C moves it
	app        []*syntax.Word
}

// call reads a command as the mesh's, if it is one: past assignments and
// wrappers such as exec, env and nice, with their options.
func (l *line) call(s *syntax.Stmt) *call {
	x, ok := s.Cmd.(*syntax.CallExpr)
	if !ok {
		return nil
	}
	c := &call{x: x, wrap: -1}
	give := func(name string, a *assign) {
		if name == "APP_PORT" {
			c.prefix = a
		} else if name == "PORT" && !onPORT(a.value) {
			c.port = a
		}
	}
	for _, a := range x.Assigns {
		give(a.Name.Value, newAssign(a, a.Value))
	}
	wrapper := ""
	for i := 0; i < len(x.Args); i++ {
		w := x.Args[i]
		v, _ := static(w)
		name, value, isAssign := splitAssign(w)
		switch {
		case wrapper != "" && strings.HasPrefix(v, "-"):
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
			if wrapper = v; c.wrap < 0 {
				c.wrap = i
			}
		case wrapper != "" && isAssign:
			if wrapper != "env" {
				c.misplaced = append(c.misplaced, w)
			}
			give(name, newAssign(w, value))
		case !slices.Contains(l.m.Names, path.Base(v)) && !meshName.MatchString(path.Base(v)):
			return nil
		default:
			for c.at, i = i, i+1; i < len(x.Args); i++ {
				if flag := lead(x.Args[i]); (flag == "--port" || flag == "-p") && i+1 < len(x.Args) {
					i++
					c.flag = x.Args[i]
				} else if strings.HasPrefix(flag, "--port=") || strings.HasPrefix(flag, "-p=") {
					c.flag = x.Args[i]
				} else {
					c.sep = flag == "--"
					break
				}
			}
			if c.sep {
				i++
			}
			c.app = x.Args[min(i, len(x.Args)):]
			return c
		}
	}
	return nil
}

// mesh checks the mesh's command, and fixes the line: the app's command to
// listen on the port the mesh forwards to, the mesh on $PORT, APP_PORT
// assigned and exported where the mesh sees it.
func (l *line) mesh(p *process, c *call, cmds []cmd, i int) string {
	m, w := l.m, c.x.Args[c.at]
	v, _ := static(w)
	if c.chdir {
		l.dir, l.unknown = "", true
	}
	p.Name, p.Dir, p.DirUnknown = path.Base(v), l.dir, l.unknown
	if c.prefix != nil {
		p.AppPortSet = c.prefix.val()
	}
	if p.Name != m.Names[0] {
		p.Kind = otherName
		if slices.Contains(m.Names, p.Name) {
			p.Kind = legacy
		}
		raw := text(l.src, w)
		if !strings.HasSuffix(raw, p.Name) {
			raw = v
		}
		l.edits = append(l.edits, edit{off(w.Pos()), off(w.End()), strings.TrimSuffix(raw, p.Name) + m.Names[0]})
	}
	if len(c.app) == 0 || !c.sep && strings.HasPrefix(lead(c.app[0]), "-") {
		// Nothing to start, or a flag of the mesh's own (-v, --help).
		p.Kind, p.Problems = noCommand, nil
		return ""
	}
	more := slices.ContainsFunc(cmds[i+1:], func(c cmd) bool { return c.op != "|" && c.op != "|&" })
	from, to := off(c.app[0].Pos()), off(c.app[len(c.app)-1].End())
	if more {
		to = end(l.file)
	}
	appPortRefs := slices.DeleteFunc(refs(l.file, "APP_PORT"), func(pe *syntax.ParamExp) bool { return off(pe.Pos()) < from || off(pe.Pos()) >= to })
	a, quotedCmd, script := m.readApp(l.src[from:to], l.dir, l.unknown)
	configured := slices.Contains(m.ConfigVars, "APP_PORT")
	port, given := l.port(c, configured), cmp.Or(c.prefix, l.appPort)
	sets, last, before := given != nil, l.file.Stmts[len(l.file.Stmts)-1], len(p.Problems)
	for _, check := range []struct {
		problem problem
		found   bool
	}{
		{appUsesPORT, a.usesPORT()},
		{appPortTrap, len(appPortRefs) > 0 && c.prefix != nil && !(l.appPort != nil && l.appPort.val() == c.prefix.val())},
		{appPortUnset, slices.ContainsFunc(appPortRefs, func(pe *syntax.ParamExp) bool { return ref(pe, "APP_PORT", false) }) && !sets && m.ConfigVars != nil && !configured},
		// A plain assignment reaches the mesh only when APP_PORT is already
		// in its environment, as a config var.
		{appPortNotExported, c.prefix == nil && l.appPort != nil && !l.exported && !configured && l.appPort.val() != m.forwardPort()},
		{quotedCommand, quotedCmd},
		{chained, more},
		{meshPort, c.port != nil || len(l.setPort) > 0 || c.flag != nil && !onPORT(c.flag) || len(c.unset) > 0},
		{appPortIsPORT, sets && len(refs(given.value, "PORT")) > 0},
		{appPortInvalid, sets && len(refs(given.value, "PORT")) == 0 && given.bad()},
		{assignmentAfterWrapper, len(c.misplaced) > 0},
		{meshOnFailure, cmds[i].op == "||"},
		{inBackground, last.Background},
		{appPortMismatch, isPort(port) && (!m.PortUnknown || sets) && slices.ContainsFunc(a.listens(), func(x listen) bool { return !samePort(x.port(), port) })},
		{bareProgram, !l.unknown && a.bare(m, l.dir) != nil},
	} {
		if check.found {
			p.Problems = append(p.Problems, check.problem)
		}
	}
	if p.AppPort = port; len(p.Problems) == before {
		return l.fixed()
	}
	app, fixScript := a.fix(m, port, l.dir, l.unknown)
	if p.Script = script || fixScript; p.Script {
		app = "./start.sh"
	}
	if c.port != nil || len(l.setPort) > 0 {
		// The PORT given to the mesh was meant for the app, or is harmless
		// to it: the app keeps it, as the port it listens on.
		app = "env PORT=" + port + " " + app
	}
	l.edits = append(append(l.edits, edit{from, to, app}), c.unset...)
	if c.flag != nil && !onPORT(c.flag) {
		flag := lead(c.flag)
		l.edits = append(l.edits, edit{off(c.flag.Pos()), off(c.flag.End()), flag[:strings.IndexByte(flag, '=')+1] + "$PORT"})
	}
	for _, a := range append([]*assign{c.port}, l.setPort...) {
		if a != nil {
			l.edits = append(l.edits, *cmp.Or(a.whole, &edit{a.from, a.to, ""}))
		}
	}
	// Assignments after a wrapper move before it, after an APP_PORT the
	// build cannot see is where the mesh forwards without it.
	start := off(c.x.Args[c.at].Pos())
	if c.wrap >= 0 {
		start = off(c.x.Args[c.wrap].Pos())
	}
	if m.PortUnknown && !sets && isPort(port) {
		l.edits = append(l.edits, edit{start, start, "APP_PORT=" + port + " "})
	}
	for _, w := range c.misplaced {
		moved := text(l.src, w) + " "
		if c.port != nil && c.port.from == off(w.Pos()) {
			moved = ""
		} else if c.prefix != nil && c.prefix.from == off(w.Pos()) && !isPort(c.prefix.val()) {
			moved = "APP_PORT=" + port + " "
		}
		l.edits = append(l.edits, edit{start, start, moved}, edit{off(w.Pos()), off(w.End()), ""})
	}
	// An APP_PORT that is no port, or is the mesh's own, becomes the app's.
	if c.prefix != nil && !isPort(c.prefix.val()) {
		l.edits = append(l.edits, edit{c.prefix.from, c.prefix.to, "APP_PORT=" + port})
	}
	if a := l.appPort; a != nil && a.bad() {
		l.edits = append(l.edits, edit{a.from, a.to, "APP_PORT=" + port})
	}
	if slices.Contains(p.Problems, appPortNotExported) {
		l.edits = append(l.edits, edit{l.appPort.from, l.appPort.from, "export "})
	}
	if cmds[i].op == "||" {
		l.edits = append(l.edits, edit{cmds[i].opAt, cmds[i].opAt + 2, "&&"})
	}
	if last.Background {
		l.edits = append(l.edits, edit{off(last.Semicolon), off(last.Semicolon) + 1, ""})
	}
	return l.fixed()
}

// fixed is the line with its edits made, "" when there are none.
func (l *line) fixed() string {
	if len(l.edits) == 0 {
		return ""
	}
	return apply(l.src, l.edits)
}

// port is the port the app must listen on: the APP_PORT the mesh gets
// (the config var's, as $APP_PORT, which then expands right), else where
// the mesh forwards by default. An APP_PORT that is no port, or is $PORT,
// is replaced by the fix, with the default.
func (l *line) port(c *call, configured bool) string {
	for _, a := range []*assign{c.prefix, l.appPort} {
		switch {
		case a == nil:
		case isPort(a.val()):
			return a.val()
		case a == c.prefix || a.bad():
			return l.m.forwardPort()
		case l.exported:
			return "$APP_PORT"
		}
	}
	if configured {
		return "$APP_PORT"
	}
	return l.m.forwardPort()
}

// wrap puts the mesh in front of a command that does not start it, with
// APP_PORT set to the port an APP_PORT assignment in the command gives
// the app, if any. The first command's assignments stay in front, and exec
// goes, as the mesh is what the shell runs.
func (l *line) wrap() string {
	port := l.m.forwardPort()
	syntax.Walk(l.file, func(n syntax.Node) bool {
		if a, ok := n.(*syntax.Assign); ok && a.Name != nil && a.Name.Value == "APP_PORT" && !a.Naked && port == l.m.forwardPort() {
			if v, _ := static(a.Value); isPort(v) {
				port = v
			}
		}
		return true
	})
	mesh := l.m.Names[0] + " "
	c := flatten(l.file)[0]
	x, _ := c.stmt.Cmd.(*syntax.CallExpr)
	if _, decl := c.stmt.Cmd.(*syntax.DeclClause); c.nested || c.stmt.Negated || x == nil && !decl {
		return "APP_PORT=" + port + " " + mesh + "bash -c " + quoted(&syntax.Word{Parts: []syntax.WordPart{&syntax.SglQuoted{}}}, l.src[:end(l.file)])
	} else if x == nil || len(x.Args) == 0 {
		return "APP_PORT=" + port + " " + mesh + l.src
	}
	i := 0
	if lead(x.Args[0]) == "exec" {
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
	var edits []edit
	if !slices.ContainsFunc(x.Assigns, func(a *syntax.Assign) bool { return a.Name.Value == "APP_PORT" }) {
		edits = append(edits, edit{off(x.Pos()), off(x.Pos()), "APP_PORT=" + port + " "})
	}
	if i < len(x.Args) && strings.HasPrefix(lead(x.Args[i]), "-") {
		mesh += "-- " // not the mesh's own flags
	}
	at := off(x.Args[min(i, len(x.Args)-1)].End())
	if i < len(x.Args) {
		at = off(x.Args[i].Pos())
	}
	return apply(l.src, append(edits, edit{off(x.Args[0].Pos()), at, ""}, edit{at, at, mesh}))
}

// app is the command the mesh starts, read as a line of its own, and the
// script it runs when it is "sh -c '…'".
type app struct {
	src, scriptSrc string
	file, inner    *syntax.File
	script         *syntax.Word
}

// readApp reads the app's command, or the command meant when it is quoted
// whole, which the mesh would run as one program's name (a quoted path to
// a file of the app's is one); script is set when such a command cannot be
// unquoted. The app is nil when bash cannot read it.
func (m mesh) readApp(src, dir string, unknown bool) (a *app, quoted, script bool) {
	f, err := parse(src)
	if err != nil {
		return nil, false, false
	}
	a = &app{src: src[:end(f)], file: f}
	if x := a.call(); x != nil {
		if w, text, ok := shScript(x.Args); ok {
			if inner, err := parse(text); err == nil {
				a.script, a.scriptSrc, a.inner = w, text, inner
			}
		}
	}
	if len(f.Stmts) == 0 {
		return a, false, false
	}
	first := flatten(f)[0]
	x, ok := first.stmt.Cmd.(*syntax.CallExpr)
	if !ok || len(x.Args) == 0 || first.nested {
		return a, false, false
	}
	w, inner := x.Args[0], ""
	raw := text(a.src, w)
	switch q := w.Parts[0].(type) {
	case *syntax.SglQuoted:
		inner = q.Value
	case *syntax.DblQuoted:
		inner = raw[1 : len(raw)-1]
	}
	if v, ok := static(w); len(w.Parts) != 1 || !strings.ContainsAny(inner, " \t") || raw[0] == '$' || ok && !unknown && m.appFile(dir, v) {
		return a, false, false
	}
	outer := a
	a, _, _ = m.readApp(inner, dir, unknown)
	return a, true, a == nil || outer.call() == nil || len(x.Args) > 1 || strings.ContainsAny(inner, `'"\`)
}

// call is the app's command when it is one simple command.
func (a *app) call() *syntax.CallExpr {
	if a == nil || len(a.file.Stmts) != 1 || !isCall(a.file.Stmts[0]) {
		return nil
	}
	return a.file.Stmts[0].Cmd.(*syntax.CallExpr)
}

func isCall(s *syntax.Stmt) bool {
	x, ok := s.Cmd.(*syntax.CallExpr)
	return ok && len(x.Args) > 0 && !s.Negated
}

func (a *app) usesPORT() bool {
	return a != nil && (len(refs(a.file, "PORT")) > 0 || a.inner != nil && len(refs(a.inner, "PORT")) > 0)
}

// bare is the app's program when it is a file of the app's named without a
// path: the mesh, like bash, looks such a name up on PATH only, and the
// app's folder is not on it.
func (a *app) bare(m mesh, dir string) *syntax.Word {
	if x := a.call(); x != nil {
		if v, ok := static(x.Args[0]); ok && !strings.Contains(v, "/") && m.appFile(dir, v) && !onPATH(v) {
			return x.Args[0]
		}
	}
	return nil
}

// listen is a literal port the app is told to listen on, in node: at
// [from, to) of its text as bash reads it.
type listen struct {
	node     syntax.Node
	text     string
	from, to int
}

func (l listen) port() string { return l.text[l.from:l.to] }

// listens finds the literal ports the app is told to listen on. Another
// option's address (--statsd-host localhost:8125) is another service's.
func (a *app) listens() []listen {
	var out []listen
	if a == nil {
		return nil
	}
	syntax.Walk(a.file, func(n syntax.Node) bool {
		x, ok := n.(*syntax.CallExpr)
		if !ok {
			return true
		}
		var words []listen
		for _, as := range x.Assigns {
			v, _ := static(as.Value)
			words = append(words, listen{node: as, text: as.Name.Value + "=" + v})
		}
		for _, w := range x.Args {
			v, _ := static(w)
			words = append(words, listen{node: w, text: v})
		}
		prev := ""
		for _, w := range words {
			if m := listenPort.FindStringSubmatchIndex(w.text); m != nil && (w.text[0] == '-' || w.text[0] == 'P' || !strings.HasPrefix(prev, "-") || bindOptions[prev]) {
				w.from, w.to = m[2], m[3]
				out = append(out, w)
			} else if (prev == "--port" || prev == "-p") && isPort(w.text) {
				w.to = len(w.text)
				out = append(out, w)
			}
			prev = w.text
		}
		return true
	})
	return out
}

// fix rewrites the app's command to listen on port: every $PORT and
// $APP_PORT becomes the port, and so does a literal port other than it;
// a file of the app's named bare gets its path. Several commands run
// under one "bash -c", so that the mesh starts them all; script is set
// when they cannot be written so.
func (a *app) fix(m mesh, port, dir string, unknown bool) (string, bool) {
	if a == nil {
		return "", true
	}
	var edits []edit
	for _, pe := range append(refs(a.file, "PORT"), refs(a.file, "APP_PORT")...) {
		if port != "$APP_PORT" || pe.Param.Value == "PORT" {
			edits = append(edits, edit{off(pe.Pos()), off(pe.End()), port})
		}
	}
	for _, l := range a.listens() {
		if isPort(port) && !samePort(l.port(), port) {
			edits = append(edits, edit{off(l.node.Pos()), off(l.node.End()), rewrite(text(a.src, l.node), l.text, l.text[:l.from]+port+l.text[l.to:])})
		}
	}
	if w := a.bare(m, dir); w != nil && !unknown {
		edits = append(edits, edit{off(w.Pos()), off(w.Pos()), "./"})
	}
	if a.inner != nil {
		var inner []edit
		for _, pe := range refs(a.inner, "PORT") {
			inner = append(inner, edit{off(pe.Pos()), off(pe.End()), port})
		}
		edits = append(edits, edit{off(a.script.Pos()), off(a.script.End()), quoted(a.script, apply(a.scriptSrc, inner))})
	}
	if fixed := apply(a.src, edits); a.call() != nil {
		return fixed, false
	} else if s := format(fixed); s != "" && !strings.Contains(s, "'") {
		return "bash -c '" + s + "'", false
	}
	return "", true
}

// rewrite changes a word written raw, which bash reads as old, to read as
// new: in place when it is written as it reads, else quoted anew.
func rewrite(raw, old, new string) string {
	if strings.Contains(raw, old) {
		return strings.Replace(raw, old, new, 1)
	}
	q, _ := syntax.Quote(new, syntax.LangBash)
	return q
}
