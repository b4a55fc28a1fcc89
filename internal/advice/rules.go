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

// program reports whether name is a program the mesh runs from dir as a
// file of the app's (at /app on a dyno), and, bare, is one named without a
// path: the mesh, like bash, looks those up on PATH only, which holds
// neither the app's folder nor a program the stack lacks.
func (m mesh) program(dir, name string, bare bool) bool {
	if bare && (strings.Contains(name, "/") || slices.ContainsFunc([]string{"/usr/local/bin", "/usr/bin", "/bin"}, func(d string) bool {
		_, err := os.Stat(filepath.Join(d, name))
		return err == nil
	})) {
		return false
	}
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
		if l, err = m.read(candidate, "", false); err != nil || candidate == "" {
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
// command, or a script that sh -c runs. dir is where the next command
// runs, relative to the app's root (unknown when the build cannot tell);
// appPort is APP_PORT as earlier commands assign it, which reaches the
// mesh once exported; setPort, PORT, which always does: Heroku exports it.
type line struct {
	m                         mesh
	src                       string
	file                      *syntax.File
	edits                     []edit
	dir, startDir             string
	unknown, exported, quoted bool
	startUnknown              bool
	appPort                   *assign
	setPort                   []*assign
}

func (m mesh) read(src, dir string, unknown bool) (*line, error) {
	f, err := parse(src)
	return &line{m: m, src: src, file: f, dir: dir, startDir: dir, unknown: unknown, startUnknown: unknown}, err
}

// assign is an assignment the build follows; whole removes its command,
// when it is all the command does.
type assign struct {
	from, to int
	value    *syntax.Word
	whole    *edit
}

func newAssign(n syntax.Node, value *syntax.Word) *assign {
	return &assign{from: off(n.Pos()), to: off(n.End()), value: cmp.Or(value, &syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{}}})}
}

func (a *assign) val() string { v, _ := static(a.value); return v }

// bad: APP_PORT is the mesh's own port, or a literal that is no port.
// Another variable's value cannot be judged.
func (a *assign) bad() bool {
	v, ok := static(a.value)
	return len(refs(a.value, "PORT")) > 0 || ok && !isPort(v)
}

// run follows the line's commands to the mesh's, checks it, and returns
// the line fixed, or "" when there is nothing to fix.
func (l *line) run(p *process) (string, bool) {
	cmds := flatten(l.file)
	for i, c := range cmds {
		if c.nested {
			l.dir, l.unknown = "", true
		}
		switch x := c.stmt.Cmd.(type) {
		case *syntax.CallExpr:
			if mc := l.call(x); mc != nil {
				return l.mesh(p, mc, cmds, i), true
			} else if w, text, ok := shScript(x.Args); ok && mentions(text) {
				in, err := l.m.read(text, l.dir, l.unknown)
				if err != nil {
					return "", false
				}
				fixed, found := in.run(p)
				if s := format(fixed); s != "" {
					return apply(l.src, []edit{{off(w.Pos()), off(w.End()), quoted(w, s)}}), found
				}
				return "", found
			}
			next := ""
			if i+1 < len(cmds) {
				next = cmds[i+1].op
			}
			if len(x.Args) > 0 && !slices.Contains([]string{"|", "|&"}, c.op) && !slices.Contains([]string{"|", "|&", "&"}, next) {
				l.cd(x) // a cd in a pipeline or the background moves nothing
			}
			for _, a := range x.Assigns {
				if len(x.Args) == 0 {
					l.earlier(a, cmds, i, len(x.Assigns) == 1, false)
				}
			}
		case *syntax.DeclClause:
			// export, or declare and typeset with -x.
			exporting, named := x.Variant.Value == "export", []*syntax.Assign{}
			for _, a := range x.Args {
				v, _ := static(a.Value)
				if exporting = exporting || a.Name == nil && strings.HasPrefix(v, "-") && strings.Contains(v, "x"); a.Name != nil {
					named = append(named, a)
				}
			}
			for _, a := range named {
				l.earlier(a, cmds, i, len(named) == 1, exporting)
			}
		default:
			l.dir, l.unknown = "", true
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
	if a.Name.Value == "APP_PORT" {
		l.exported = l.exported || exporting
		if !a.Naked {
			l.appPort = as
		}
	} else if a.Name.Value == "PORT" && !a.Naked && !onPORT(as.value) {
		l.setPort = append(l.setPort, as)
	}
}

// cd follows a command before the mesh's that moves where it starts: a cd
// to a plain path in the app (at /app on a dyno); anything else leaves it
// unknown.
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
			d == ".." || strings.HasPrefix(d, "../") || len(d) > 1024 {
			l.dir, l.unknown = "", true
		} else {
			l.dir = strings.TrimSuffix(d, ".")
		}
	}
}

// call is the mesh's command: the mesh's word, and the first wrapper's
// (exec, nice…) or -1; APP_PORT and PORT given to the mesh; assignments
// after a wrapper other than env, which runs them as a program's name;
// env's -u PORT; the mesh's --port; whether "--" ends its options, and env
// -C moves it; the app's command.
type call struct {
	x            *syntax.CallExpr
	at, wrap     int
	prefix, port *assign
	misplaced    []*syntax.Word
	unset        []edit
	flag         *syntax.Word
	sep, chdir   bool
	app          []*syntax.Word
}

// call reads a command as the mesh's, if it is one: past assignments and
// wrappers such as exec, env and nice, with their options.
func (l *line) call(x *syntax.CallExpr) *call {
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

// mesh checks the mesh's command, and fixes the line: the app's command
// (at [from, to)) to listen on the port the mesh forwards to, the mesh on
// $PORT, APP_PORT assigned and exported where the mesh sees it.
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
	within := func(n syntax.Node) bool { return from <= off(n.Pos()) && off(n.End()) <= to }
	first := c.app[0]
	script := false
	if raw := text(l.src, first); len(first.Parts) == 1 && !l.quoted && strings.ContainsAny(raw, " \t") && (raw[0] == '"' || raw[0] == '\'') {
		// A command quoted whole, which the mesh would run as one program's
		// name, is read unquoted; a quoted path to a file of the app's is
		// no command.
		if v, ok := static(first); !ok || l.unknown || !m.program(l.dir, v, false) {
			inner := raw[1 : len(raw)-1]
			if script = len(c.app) > 1 || more || strings.ContainsAny(inner, `'"\`); !script {
				unquoted, err := m.read(apply(l.src, []edit{{from, to, inner}}), l.startDir, l.startUnknown)
				if unquoted.quoted = true; err == nil {
					fixed, _ := unquoted.run(p)
					return cmp.Or(fixed, unquoted.src)
				}
			}
			l.quoted, script = true, true
		}
	}
	portRefs, appPortRefs := slices.DeleteFunc(refs(l.file, "PORT"), func(pe *syntax.ParamExp) bool { return !within(pe) }), slices.DeleteFunc(refs(l.file, "APP_PORT"), func(pe *syntax.ParamExp) bool { return !within(pe) })
	sw, st, isScript := shScript(c.app)
	var scriptRefs []*syntax.ParamExp
	if inner, err := parse(st); isScript && err == nil {
		scriptRefs = refs(inner, "PORT")
	}
	configured := slices.Contains(m.ConfigVars, "APP_PORT")
	port, given := l.port(c, configured), cmp.Or(c.prefix, l.appPort)
	listens := l.listens(c, cmds[i+1:], to)
	bare := !l.unknown && !more && m.program(l.dir, lead(first), true)
	sets, last, before := given != nil, l.file.Stmts[len(l.file.Stmts)-1], len(p.Problems)
	for _, check := range []struct {
		problem problem
		found   bool
	}{
		{appUsesPORT, len(portRefs)+len(scriptRefs) > 0},
		{appPortTrap, len(appPortRefs) > 0 && c.prefix != nil && !(l.appPort != nil && l.appPort.val() == c.prefix.val())},
		{appPortUnset, slices.ContainsFunc(appPortRefs, func(pe *syntax.ParamExp) bool { return ref(pe, "APP_PORT", false) }) && !sets && m.ConfigVars != nil && !configured},
		// A plain assignment reaches the mesh only when APP_PORT is already
		// in its environment, as a config var.
		{appPortNotExported, c.prefix == nil && l.appPort != nil && !l.exported && !configured && l.appPort.val() != m.forwardPort()},
		{quotedCommand, l.quoted},
		{chained, more && !l.quoted},
		{meshPort, c.port != nil || len(l.setPort) > 0 || c.flag != nil && !onPORT(c.flag) || len(c.unset) > 0},
		{appPortIsPORT, sets && len(refs(given.value, "PORT")) > 0},
		{appPortInvalid, sets && len(refs(given.value, "PORT")) == 0 && given.bad()},
		{assignmentAfterWrapper, len(c.misplaced) > 0},
		{meshOnFailure, cmds[i].op == "||"},
		{inBackground, last.Background},
		{appPortMismatch, isPort(port) && (!m.PortUnknown || sets) && slices.ContainsFunc(listens, func(e edit) bool { return !samePort(e.text, port) })},
		{bareProgram, bare},
	} {
		if check.found {
			p.Problems = append(p.Problems, check.problem)
		}
	}
	if p.AppPort = port; len(p.Problems) == before {
		return l.fixed()
	}
	// The app's command, to listen on the port: every $PORT and $APP_PORT
	// becomes it, and a literal port other than it; a file of the app's
	// named bare gets its path.
	var app []edit
	for _, pe := range append(portRefs, appPortRefs...) {
		if port != "$APP_PORT" || pe.Param.Value == "PORT" {
			app = append(app, edit{off(pe.Pos()), off(pe.End()), port})
		}
	}
	for _, e := range listens {
		if isPort(port) && !samePort(e.text, port) {
			app = append(app, edit{e.from, e.to, port})
		}
	}
	if bare {
		app = append(app, edit{from, from, "./"})
	}
	if len(scriptRefs) > 0 {
		var inner []edit
		for _, pe := range scriptRefs {
			inner = append(inner, edit{off(pe.Pos()), off(pe.End()), port})
		}
		app = append(app, edit{off(sw.Pos()), off(sw.End()), quoted(sw, apply(st, inner))})
	}
	for j := range app {
		app[j].from, app[j].to = app[j].from-from, app[j].to-from
	}
	// Several commands run under one "bash -c", so that the mesh starts
	// them all; what cannot be written so goes in a script.
	fixedApp := apply(l.src[from:to], app)
	if s := format(fixedApp); more && (s == "" || strings.Contains(s, "'")) || script {
		fixedApp, p.Script = "./start.sh", true
	} else if more {
		fixedApp = "bash -c '" + s + "'"
	}
	if c.port != nil || len(l.setPort) > 0 {
		// The PORT given to the mesh was meant for the app, or is harmless
		// to it: the app keeps it, as the port it listens on.
		fixedApp = "env PORT=" + port + " " + fixedApp
	}
	l.edits = append(append(l.edits, edit{from, to, fixedApp}), c.unset...)
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
		l.edits = append(l.edits, edit{off(last.Semicolon), off(last.Semicolon) + 1, " "})
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

// listens finds the literal ports the app is told to listen on, in its
// command and those after it, up to to: where each is, and the port.
// Another option's address (--statsd-host localhost:8125) is another
// service's.
func (l *line) listens(c *call, after []cmd, to int) []edit {
	var out []edit
	lists := [][]syntax.Node{{}}
	for _, w := range c.app {
		lists[0] = append(lists[0], w)
	}
	for _, a := range after {
		if x, ok := a.stmt.Cmd.(*syntax.CallExpr); ok && off(x.Pos()) < to {
			lists = append(lists, nil)
			for _, as := range x.Assigns {
				lists[len(lists)-1] = append(lists[len(lists)-1], as)
			}
			for _, w := range x.Args {
				lists[len(lists)-1] = append(lists[len(lists)-1], w)
			}
		}
	}
	for _, nodes := range lists {
		prev := ""
		for _, n := range nodes {
			v := ""
			if as, ok := n.(*syntax.Assign); ok && as.Value != nil {
				v, _ = static(as.Value)
				v = as.Name.Value + "=" + v
			} else if w, ok := n.(*syntax.Word); ok {
				v, _ = static(w)
			}
			raw := text(l.src, n)
			if m := listenPort.FindStringSubmatchIndex(v); m != nil && (v[0] == '-' || v[0] == 'P' || !strings.HasPrefix(prev, "-") || bindOptions[prev]) &&
				strings.HasSuffix(raw, v[m[2]:m[3]]) {
				out = append(out, edit{off(n.End()) - (m[3] - m[2]), off(n.End()), v[m[2]:m[3]]})
			} else if (prev == "--port" || prev == "-p") && isPort(v) && raw == v {
				out = append(out, edit{off(n.Pos()), off(n.End()), v})
			}
			prev = v
		}
	}
	return out
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
	mesh, cmds := l.m.Names[0]+" ", flatten(l.file)
	if len(cmds) == 0 {
		return ""
	}
	c := cmds[0]
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
