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

var (
	// wrappers run the command after them; optionArgs take a value.
	wrappers   = map[string]bool{"exec": true, "env": true, "nice": true, "nohup": true, "tini": true, "dumb-init": true, "command": true}
	optionArgs = map[string]bool{"-u": true, "--unset": true, "-C": true, "--chdir": true, "-n": true, "--adjustment": true, "-a": true}
	// meshName: also the bucket's names, which old samples use, and the pre-AppLink one.
	meshName = regexp.MustCompile(`^heroku-(applink|integration)-service-mesh(-(latest|v?\d+\.\d+\.\d+[0-9A-Za-z.+-]*)-(amd64|arm64|x86_64|aarch64))?$`)
	mentions = regexp.MustCompile(`heroku-(applink|integration)-service-mesh`).MatchString
	shFlag   = regexp.MustCompile(`^-[a-z]*c$`) // -c, -lc, -ec…
	// listenPort: --port=N, -pN, PORT=N, a local address alone or as a bind option's value.
	listenPort = regexp.MustCompile(`^(?:--port=|-p=?|PORT=|(?:(?:-b|--bind|--listen|-l)=)?(?:tcp://)?(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|\*)?:)(\d{1,5})$`)
)

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && s[0] != '+' && len(s) <= 5 && n >= 1 && n <= 65535
}

func (m mesh) forwardPort() string { return cmp.Or(m.AppPort, "3000") }
func (m mesh) template(typ string) string {
	return typ + ": APP_PORT=" + m.forwardPort() + " " + m.Names[0] + " <your app's start command>"
}

// program: a file of the app's, from dir; a bare name the mesh looks up on PATH, like bash.
func (m mesh) program(dir, name string, bare bool) bool {
	if m.App == nil || bare && (strings.Contains(name, "/") || slices.ContainsFunc([]string{"/usr/local/bin", "/usr/bin", "/bin"}, func(d string) bool {
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
	info, err := m.App.Stat(name) // the root refuses a name out of the app (absolute, or up through ..)
	return err == nil && info.Mode().IsRegular()
}

func advise(p procfile, m mesh) procfileResult {
	a, types := procfileResult{procfile: p, Mesh: m}, p.Types
	if i := slices.Index(types, "web"); i > 0 {
		types = slices.Concat([]string{"web"}, types[:i], types[i+1:])
	} else if i < 0 {
		a.Processes = []process{{Type: "web", Kind: noWeb, Suggested: m.template("web")}}
	}
	for _, typ := range types {
		if proc, ok := m.check(typ, p.Commands[typ]); ok {
			a.Processes = append(a.Processes, proc)
		}
	}
	return a
}

// check reads one command; !ok: not web, and starts no mesh, so none of the build's business.
func (m mesh) check(typ, command string) (p process, ok bool) {
	p, src := process{Type: typ, Command: command}, command
	if first, rest, found := strings.Cut(command, ":"); found && validType(first) && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
		p.Problems, src = []kind{repeatedType}, strings.TrimLeft(rest, " \t")
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
	case mentions(src): // started where this reading does not go
		p.Kind, p.Problems, p.DirUnknown = indirect, nil, true
		return p, true
	case typ != "web":
		return p, false
	default: // put in the mesh, the command is checked and fixed as any other
		p.Kind, p.Suggested, p.AppPort = notWrapped, m.template(typ), m.forwardPort()
		var wrapped process
		if l, err = m.read(l.wrap(), "", false); err != nil || l.src == "" {
			return p, true
		} else if fixed, _ = l.run(&wrapped); wrapped.Kind == noCommand {
			return p, true
		}
		p.AppPort, p.Script, p.Suggested = wrapped.AppPort, wrapped.Script, ""
	}
	if s := format(fixed); s != "" && s != format(command) {
		p.Suggested = typ + ": " + s
	}
	return p, true
}

// line is a command, or an sh -c script, read up to the mesh's, with what earlier ones set.
type line struct {
	m                                       mesh
	src, dir, startDir                      string
	file                                    *syntax.File
	unknown, startUnknown, exported, quoted bool
	appPort                                 *assign
	setPort                                 []*assign
}

func (m mesh) read(src, dir string, unknown bool) (*line, error) {
	f, err := parse(src)
	return &line{m: m, src: src, file: f, dir: dir, startDir: dir, unknown: unknown, startUnknown: unknown}, err
}

// assign is an assignment; whole removes its command, if it is all of it.
type assign struct {
	from, to int
	value    *syntax.Word
	whole    *edit
}

func newAssign(n syntax.Node, value *syntax.Word) *assign {
	return &assign{from: off(n.Pos()), to: off(n.End()), value: cmp.Or(value, &syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{}}})}
}

func (a *assign) val() string { v, _ := static(a.value); return v }

// bad: $PORT, or a literal that is no port; another variable's is not judged.
func (a *assign) bad() bool {
	return len(refs(a.value, "PORT")) > 0 || a.val() != "" && !isPort(a.val())
}

func (l *line) run(p *process) (string, bool) {
	cmds := flatten(nil, l.file.Stmts, cmd{})
	for i, c := range cmds {
		var assigns []*syntax.Assign
		next, exporting := "", false // "" after the last
		if i+1 < len(cmds) {
			next = cmds[i+1].op
		}
		if c.nested {
			l.dir, l.unknown = "", true
		}
		switch x := c.stmt.Cmd.(type) {
		case *syntax.CallExpr:
			if fixed, found := l.mesh(p, x, cmds[i:]); found {
				return fixed, true
			} else if w, text, ok := shScript(x.Args); ok && mentions(text) {
				in, err := l.m.read(text, l.dir, l.unknown)
				if err != nil {
					return "", false
				}
				fixed, found := in.run(p)
				if s := format(fixed); s != "" && fixed != text {
					return apply(l.src, over(quoted(w, s), w)), found
				}
				return l.src, found
			} else if len(x.Args) > 0 && c.op != "|" && c.op != "|&" && next != "|" && next != "|&" && next != "&" {
				l.cd(x) // a cd in a pipeline or the background moves nothing
			} else if len(x.Args) == 0 {
				assigns = x.Assigns
			}
		case *syntax.DeclClause: // export, or declare and typeset with -x
			exporting = x.Variant.Value == "export" || slices.ContainsFunc(x.Args, func(a *syntax.Assign) bool {
				v, _ := static(a.Value)
				return a.Name == nil && strings.HasPrefix(v, "-") && strings.Contains(v, "x")
			})
			assigns = slices.DeleteFunc(slices.Clone(x.Args), func(a *syntax.Assign) bool { return a.Name == nil })
		default:
			l.dir, l.unknown = "", true
		}
		// APP_PORT reaches the mesh once exported; PORT always (Heroku's).
		for _, a := range assigns {
			as := newAssign(a, a.Value)
			if len(assigns) == 1 && i+1 < len(cmds) {
				as.whole = &edit{off(c.stmt.Pos()), off(cmds[i+1].stmt.Pos()), ""}
			}
			if l.exported = l.exported || exporting && a.Name.Value == "APP_PORT"; a.Name.Value == "APP_PORT" && !a.Naked {
				l.appPort = as
			} else if a.Name.Value == "PORT" && !a.Naked && !onPORT(as.value) {
				l.setPort = append(l.setPort, as)
			}
		}
	}
	return "", false
}

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
		if d := path.Join(l.dir, target); !ok || l.unknown || target == "" || target[0] == '-' || strings.ContainsAny(target, "*?[") || !filepath.IsLocal(d) || len(d) > 1024 {
			l.dir, l.unknown = "", true
		} else {
			l.dir = strings.TrimSuffix(d, ".")
		}
	}
}

// mesh checks and fixes x, cmds[0], if it starts the mesh: the app on its port, the mesh on $PORT.
func (l *line) mesh(p *process, x *syntax.CallExpr, cmds []cmd) (string, bool) {
	var wrap, flag *syntax.Word
	var prefix, setPORT *assign
	var misplaced []*syntax.Word
	var unset, edits []edit
	give := func(name string, a *assign) {
		if name == "APP_PORT" {
			prefix = a
		} else if name == "PORT" && !onPORT(a.value) {
			setPORT = a
		}
	}
	for _, a := range x.Assigns {
		give(a.Name.Value, newAssign(a, a.Value))
	}
	i, v, wrapper, chdir := 0, "", "", false
words:
	for ; i < len(x.Args); i++ {
		w := x.Args[i]
		v, _ = static(w)
		name, value, isAssign := splitAssign(w)
		switch {
		case wrapper != "" && strings.HasPrefix(v, "-"):
			chdir = chdir || v == "-C" || strings.HasPrefix(v, "--chdir")
			next := ""
			if optionArgs[v] && i+1 < len(x.Args) {
				i++
				next, _ = static(x.Args[i])
			}
			if wrapper == "env" && (next == "PORT" && (v == "-u" || v == "--unset") || v == "-uPORT" || v == "--unset=PORT") {
				unset = append(unset, edit{off(w.Pos()), off(x.Args[i].End()), ""})
			}
		case wrappers[v]:
			wrap, wrapper = cmp.Or(wrap, w), v
		case wrapper != "" && isAssign:
			if wrapper != "env" {
				misplaced = append(misplaced, w)
			}
			give(name, newAssign(w, value))
		case slices.Contains(l.m.Names, path.Base(v)) || meshName.MatchString(path.Base(v)):
			break words
		default:
			return "", false
		}
	}
	if i == len(x.Args) {
		return "", false
	}
	m, w, sep := l.m, x.Args[i], false
	for i++; i < len(x.Args); i++ {
		opt := lead(x.Args[i])
		if (opt == "--port" || opt == "-p") && i+1 < len(x.Args) {
			i++
		} else if !strings.HasPrefix(opt, "--port=") && !strings.HasPrefix(opt, "-p=") {
			if sep = opt == "--"; sep {
				i++ // the app's words follow
			}
			break
		}
		if flag = x.Args[i]; onPORT(flag) {
			flag = nil // the last port given counts, and $PORT is the mesh's own
		}
	}
	app := x.Args[i:]
	if chdir {
		l.dir, l.unknown = "", true
	}
	p.Kind, p.Name, p.Dir, p.DirUnknown, p.AppPortSet = started, path.Base(v), l.dir, l.unknown, cmp.Or(prefix, &assign{}).val()
	if raw := text(l.src, w); p.Name != m.Names[0] {
		if p.Kind = otherName; slices.Contains(m.Names, p.Name) {
			p.Kind = legacy
		}
		if !strings.HasSuffix(raw, p.Name) {
			raw = v
		}
		edits = append(edits, over(strings.TrimSuffix(raw, p.Name)+m.Names[0], w)...)
	}
	if len(app) == 0 || !sep && strings.HasPrefix(lead(app[0]), "-") {
		p.Kind, p.Problems = noCommand, nil // nothing to start, or a flag of the mesh's own (-v)
		return "", true
	}
	more := slices.ContainsFunc(cmds[1:], func(c cmd) bool { return c.op != "|" && c.op != "|&" })
	from, to, first := off(app[0].Pos()), off(app[len(app)-1].End()), app[0]
	if more {
		to = end(l.file)
	}
	// The mesh runs a command quoted whole as one program's name.
	raw, toScript := text(l.src, first), false
	if v, ok := static(first); len(first.Parts) == 1 && !l.quoted && strings.ContainsAny(raw, " \t") && strings.ContainsRune(`"'`, rune(raw[0])) &&
		(!ok || l.unknown || !m.program(l.dir, v, false)) {
		if inner := raw[1 : len(raw)-1]; len(app) == 1 && !more && !strings.ContainsAny(inner, `'"\`) {
			if unquoted, err := m.read(apply(l.src, []edit{{from, to, inner}}), l.startDir, l.startUnknown); err == nil {
				unquoted.quoted = true
				fixed, _ := unquoted.run(p)
				return fixed, true
			}
		}
		l.quoted, toScript = true, true
	}
	outside := func(pe *syntax.ParamExp) bool { return off(pe.Pos()) < from || off(pe.End()) > to }
	portRefs, appPortRefs := slices.DeleteFunc(refs(l.file, "PORT"), outside), slices.DeleteFunc(refs(l.file, "APP_PORT"), outside)
	var inner []*syntax.ParamExp
	sw, st, isScript := shScript(app)
	if f, err := parse(st); isScript && err == nil {
		inner = refs(f, "PORT")
	}
	// The app's port: the mesh's APP_PORT (the config var's as $APP_PORT), or its default.
	configured, given, port := slices.Contains(m.ConfigVars, "APP_PORT"), cmp.Or(prefix, l.appPort), m.forwardPort()
	if given != nil && isPort(given.val()) {
		port = given.val()
	} else if prefix == nil && (given == nil || !given.bad()) && (configured || given != nil && l.exported) {
		port = "$APP_PORT"
	}
	listens, bare := l.listens(app, port), !l.unknown && !more && m.program(l.dir, lead(first), true)
	sets, last, before := given != nil, l.file.Stmts[len(l.file.Stmts)-1], len(p.Problems)
	problem := func(k kind, found bool, fixes ...edit) {
		if found {
			p.Problems, edits = append(p.Problems, k), append(edits, fixes...)
		}
	}
	problem(appUsesPORT, len(portRefs)+len(inner) > 0)
	problem(appPortTrap, len(appPortRefs) > 0 && prefix != nil && !(l.appPort != nil && l.appPort.val() == prefix.val()))
	problem(appPortUnset, slices.ContainsFunc(appPortRefs, func(pe *syntax.ParamExp) bool { return ref(pe, "APP_PORT", false) }) && !sets && m.ConfigVars != nil && !configured)
	problem(appPortNotExported, prefix == nil && l.appPort != nil && !l.exported && !configured && l.appPort.val() != m.forwardPort())
	problem(quotedCommand, l.quoted)
	problem(chained, more && !l.quoted)
	problem(meshPort, setPORT != nil || len(l.setPort) > 0 || flag != nil || len(unset) > 0)
	problem(appPortIsPORT, sets && len(refs(given.value, "PORT")) > 0)
	problem(appPortInvalid, sets && len(refs(given.value, "PORT")) == 0 && given.bad())
	problem(assignmentAfterWrapper, len(misplaced) > 0)
	problem(meshOnFailure, cmds[0].op == "||", edit{cmds[0].opAt, cmds[0].opAt + 2, "&&"})
	problem(inBackground, last.Background, edit{off(last.Semicolon), off(last.Semicolon) + 1, " "})
	problem(appPortMismatch, (!m.PortUnknown || sets) && len(listens) > 0)
	problem(bareProgram, bare)
	if p.AppPort = port; len(p.Problems) == before {
		return apply(l.src, edits), true
	}
	// Ports become the app's; several commands run under one "bash -c", or else a script.
	if port != "$APP_PORT" {
		portRefs = append(portRefs, appPortRefs...)
	}
	fixes := append(listens, over(port, portRefs...)...)
	if bare {
		fixes = append(fixes, edit{from, from, "./"})
	}
	if len(inner) > 0 {
		fixes = append(fixes, over(quoted(sw, apply(st, over(port, inner...))), sw)...)
	}
	fixedApp := apply(l.src[:to], fixes)[from:]
	if s := format(fixedApp); toScript || more && (s == "" || strings.Contains(s, "'")) {
		fixedApp, p.Script = "./start.sh", true
	} else if more {
		fixedApp = "bash -c '" + s + "'"
	}
	ports := slices.DeleteFunc(append([]*assign{setPORT}, l.setPort...), func(a *assign) bool { return a == nil })
	if len(ports) > 0 {
		fixedApp = "env PORT=" + port + " " + fixedApp // the PORT given to the mesh was meant for the app
	}
	edits = append(append(edits, edit{from, to, fixedApp}), unset...)
	if flag != nil {
		edits = append(edits, over(lead(flag)[:strings.IndexByte(lead(flag), '=')+1]+"$PORT", flag)...)
	}
	for _, a := range ports {
		edits = append(edits, *cmp.Or(a.whole, &edit{a.from, a.to, ""}))
	}
	// Assignments after a wrapper move before it.
	start := off(cmp.Or(wrap, w).Pos())
	if m.PortUnknown && !sets && isPort(port) {
		edits = append(edits, edit{start, start, "APP_PORT=" + port + " "})
	}
	for _, w := range misplaced {
		switch at := off(w.Pos()); {
		case setPORT != nil && setPORT.from == at: // goes, as PORT does
		case prefix != nil && prefix.from == at && !isPort(prefix.val()):
			edits = append(edits, edit{start, start, "APP_PORT=" + port + " "})
		default:
			edits = append(edits, edit{start, start, text(l.src, w) + " "})
		}
		edits = append(edits, over("", w)...)
	}
	// An APP_PORT that is no port, or is the mesh's own, becomes the app's.
	for _, a := range []*assign{prefix, l.appPort} {
		if a != nil && (a == prefix && !isPort(a.val()) || a.bad()) {
			edits = append(edits, edit{a.from, a.to, "APP_PORT=" + port})
		}
	}
	if slices.Contains(p.Problems, appPortNotExported) {
		edits = append(edits, edit{l.appPort.from, l.appPort.from, "export "})
	}
	return apply(l.src, edits), true
}

// listens finds other ports words give the app, not another option's (--statsd-host h:8125).
func (l *line) listens(words []*syntax.Word, port string) []edit {
	want, _ := strconv.Atoi(port)
	out, prev := []edit{}, ""
	for _, w := range words {
		v, _ := static(w)
		digits, bind := "", slices.Contains([]string{"-b", "--bind", "--listen", "-l"}, prev)
		if m := listenPort.FindStringSubmatch(v); m != nil && (v[0] == '-' || v[0] == 'P' || !strings.HasPrefix(prev, "-") || bind) && strings.HasSuffix(text(l.src, w), m[1]) {
			digits = m[1]
		} else if (prev == "--port" || prev == "-p") && isPort(v) && text(l.src, w) == v {
			digits = v
		}
		if n, _ := strconv.Atoi(digits); digits != "" && isPort(port) && n != want {
			out = append(out, edit{off(w.End()) - len(digits), off(w.End()), port})
		}
		prev = v
	}
	return out
}

// wrap puts the mesh and APP_PORT in front: after the first command's assignments, for exec.
func (l *line) wrap() string {
	port := l.m.forwardPort()
	syntax.Walk(l.file, func(n syntax.Node) bool {
		if a, ok := n.(*syntax.Assign); ok && a.Name != nil && a.Name.Value == "APP_PORT" && port == l.m.forwardPort() {
			if v, _ := static(a.Value); isPort(v) {
				port = v
			}
		}
		return true
	})
	prefix, mesh, cmds := "APP_PORT="+port+" ", l.m.Names[0]+" ", flatten(nil, l.file.Stmts, cmd{})
	if len(cmds) == 0 {
		return ""
	}
	x, _ := cmds[0].stmt.Cmd.(*syntax.CallExpr)
	if _, decl := cmds[0].stmt.Cmd.(*syntax.DeclClause); cmds[0].nested || cmds[0].stmt.Negated || x == nil && !decl {
		return prefix + mesh + "bash -c " + quoted(&syntax.Word{Parts: []syntax.WordPart{&syntax.SglQuoted{}}}, l.src[:end(l.file)])
	} else if x == nil || len(x.Args) == 0 {
		return prefix + mesh + l.src
	}
	i := 0
	if lead(x.Args[0]) == "exec" {
		for i = 1; i < len(x.Args) && strings.HasPrefix(lead(x.Args[i]), "-"); i++ {
			if v := lead(x.Args[i]); v == "--" {
				i++
				break
			} else if v == "-a" {
				i++ // its value
			}
		}
	}
	if slices.ContainsFunc(x.Assigns, func(a *syntax.Assign) bool { return a.Name.Value == "APP_PORT" }) {
		prefix = ""
	}
	at := off(x.Args[len(x.Args)-1].End())
	if i < len(x.Args) {
		if at = off(x.Args[i].Pos()); strings.HasPrefix(lead(x.Args[i]), "-") {
			mesh += "-- " // not the mesh's own flags
		}
	}
	return apply(l.src, []edit{{off(x.Pos()), off(x.Pos()), prefix}, {off(x.Args[0].Pos()), at, ""}, {at, at, mesh}})
}
