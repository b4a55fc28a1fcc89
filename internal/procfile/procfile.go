package procfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
)

// MaxSize is the largest Procfile the buildpack reads. Real ones are a few
// lines; this bounds what a binary file committed by mistake can cost.
const MaxSize = 64 << 10

// defaultAppPort is the port the mesh forwards to when APP_PORT is unset.
const defaultAppPort = "3000"

// Procfile maps process types to commands, in file order.
type Procfile struct {
	Types    []string
	Commands map[string]string
	// Lines are the line numbers of each type's definitions: more than one
	// means the type is defined again, and the last one wins.
	Lines map[string][]int
	// BOM is set when the file starts with a UTF-8 byte-order mark.
	BOM bool
}

// entry is Heroku's Procfile line form: a process type, a colon, a command.
var entry = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z0-9_-]+)[ \t]*:[ \t]*(.*?)[ \t]*$`) })

var bom = []byte("\uFEFF")

// Parse reads a Procfile the way Heroku does: CRLF and lone CR end lines,
// blank lines and "#" comments are ignored, leading white space and the
// spacing around the colon are free, and the last definition of a type
// wins. A leading byte-order mark is skipped and reported.
func Parse(r io.Reader) (Procfile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return Procfile{}, err
	}
	if len(data) > MaxSize {
		return Procfile{}, fmt.Errorf("it is larger than %d KiB", MaxSize>>10)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return Procfile{}, errors.New("it is a binary file")
	}
	if !utf8.Valid(data) {
		return Procfile{}, errors.New("it is not valid UTF-8")
	}
	p := Procfile{Commands: map[string]string{}, Lines: map[string][]int{}}
	data, p.BOM = bytes.CutPrefix(data, bom)
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := entry().FindStringSubmatch(line)
		if m == nil || m[2] == "" {
			continue
		}
		if _, seen := p.Commands[m[1]]; !seen {
			p.Types = append(p.Types, m[1])
		}
		p.Commands[m[1]] = m[2]
		p.Lines[m[1]] = append(p.Lines[m[1]], i+1)
	}
	return p, nil
}

// Mesh is what this build installed, which the web process must start.
type Mesh struct {
	// Name is the plain name on PATH.
	Name string
	// Links are the other names this build gave the binary.
	Links []string
	// Version and Arch are the installed release's.
	Version, Arch string
	// ConfigVars are the names of the app's config vars, or nil when the
	// build cannot see them. Only names: a value is never read.
	ConfigVars []string
}

// Kind classifies what the buildpack found.
type Kind int

// The outcomes of checking a Procfile.
const (
	OK Kind = iota
	// Legacy: the web process starts the mesh by one of its link names.
	Legacy
	// OtherName: the web process names a mesh build this build did not
	// install (another version or architecture): it will not start.
	OtherName
	NoCommand
	NotWrapped
	NoWeb
	Missing
	Unreadable
)

// Problem is a mistake in the web process's command.
type Problem int

// The mistakes users make most, from the mesh's own history.
const (
	// AppUsesPORT: the app binds $PORT, which the mesh already holds.
	AppUsesPORT Problem = iota + 1
	// AppPortTrap: APP_PORT=N is assigned for the mesh's command, but the
	// app's arguments refer to $APP_PORT, which the shell expands before
	// the assignment takes effect.
	AppPortTrap
	// AppPortUnset: the app's arguments refer to $APP_PORT, which nothing
	// sets: it expands to nothing.
	AppPortUnset
	// QuotedCommand: the app command is one quoted string; the mesh runs
	// it without a shell, as a single program name.
	QuotedCommand
)

// Advice is what to tell the user about their Procfile.
type Advice struct {
	Kind Kind
	Mesh Mesh
	// Web is the web command as found, if any.
	Web string
	// Name is the mesh command name found in the web command, if any.
	Name string
	// Suggested is a complete Procfile line to use instead, when there is
	// one: it fixes every problem found and draws no advice itself.
	Suggested string
	// AppPort is the port the suggestion gives the app where it had $PORT.
	AppPort string
	// AppPortSet is APP_PORT's value where the web command assigns it for
	// the mesh, if it does.
	AppPortSet string
	// Reason explains an unreadable Procfile.
	Reason string
	// Problems are mistakes in the command the mesh starts.
	Problems []Problem
	// BOM: the Procfile starts with a byte-order mark.
	BOM bool
	// WebLines are the lines defining web, when there are several.
	WebLines []int
	// Script is set when the suggestion runs ./start.sh, a script the user
	// must write, because the command cannot be rewritten on one line.
	Script bool
}

// Kinds names the advice given, for the build report.
func (a Advice) Kinds() []string {
	var kinds []string
	if a.BOM {
		kinds = append(kinds, "procfile-bom")
	}
	if len(a.WebLines) > 1 {
		kinds = append(kinds, "procfile-duplicate-web")
	}
	kind := map[Kind]string{Legacy: "procfile-link-name", OtherName: "procfile-other-name", NoCommand: "procfile-no-command",
		NotWrapped: "procfile-not-wrapped", NoWeb: "procfile-no-web", Missing: "procfile-missing", Unreadable: "procfile-unreadable"}
	if k, ok := kind[a.Kind]; ok {
		kinds = append(kinds, k)
	}
	problem := map[Problem]string{AppUsesPORT: "procfile-app-uses-port", AppPortTrap: "procfile-app-port-trap",
		AppPortUnset: "procfile-app-port-unset", QuotedCommand: "procfile-quoted-command"}
	for _, p := range a.Problems {
		kinds = append(kinds, problem[p])
	}
	return kinds
}

// Inspect reads the Procfile in appDir and advises on it.
func Inspect(appDir string, m Mesh) Advice {
	// Read as the buildpack reads every file of the app's: never through a
	// link, never blocking on a pipe, bounded before reading.
	data, err := files.ReadRegular(filepath.Join(appDir, "Procfile"), MaxSize)
	var notRegular *files.NotRegularError
	var tooLarge *files.TooLargeError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Advice{Kind: Missing, Mesh: m, Suggested: template(m)}
	case errors.As(err, &notRegular):
		return Advice{Kind: Unreadable, Mesh: m, Reason: "it is " + notRegular.Kind}
	case errors.As(err, &tooLarge):
		return Advice{Kind: Unreadable, Mesh: m, Reason: fmt.Sprintf("it is larger than %d KiB", MaxSize>>10)}
	case err != nil:
		return Advice{Kind: Unreadable, Mesh: m, Reason: files.Cause(err).Error()}
	}
	p, err := Parse(bytes.NewReader(data))
	if err != nil {
		return Advice{Kind: Unreadable, Mesh: m, Reason: err.Error()}
	}
	return Advise(p, m)
}

func template(m Mesh) string {
	return "web: APP_PORT=" + defaultAppPort + " " + m.Name + " <your app's start command>"
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
	fields := strings.Fields(web)
	c, found := findMesh(fields, m)
	if !found {
		a.Kind = NotWrapped
		a.Suggested, a.AppPort, a.Script = wrap(fields, m)
		a.Suggested = "web: " + a.Suggested
		return a
	}
	fixed := slices.Clone(fields)
	a.Name = filepath.Base(fields[c.at])
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
	if a.Kind != OK {
		fixed[c.at] = strings.TrimSuffix(fields[c.at], a.Name) + m.Name
	}
	app := skipMeshFlags(fields, c.at+1)
	if app == len(fields) {
		a.Kind = NoCommand
		return a
	}
	a.Problems, a.AppPort = c.problems(fields[app:], m)
	if len(a.Problems) > 0 {
		if c.prefix >= 0 && !config.IsPort(c.appPort) {
			fixed[c.prefix] = "APP_PORT=" + a.AppPort
		}
		var cmd []string
		cmd, a.Script = fixApp(fields[app:], a.AppPort)
		fixed = append(fixed[:app], cmd...)
	}
	if line := strings.Join(fixed, " "); line != strings.Join(fields, " ") {
		a.Suggested = "web: " + line
	}
	return a
}

// meshCall is where the mesh is started in a web command.
type meshCall struct {
	// at is the index of the mesh's word; prefix indexes its simple
	// command's APP_PORT=... assignment, or -1.
	at, prefix int
	// appPort is APP_PORT's value in that assignment; earlier is set when
	// an earlier command of the line sets APP_PORT (export, or a plain
	// assignment before && or ;).
	appPort string
	earlier bool
}

// findMesh looks for the mesh at a command position of a shell command:
// past VAR=value prefixes, "export", "exec" and "env", and after "&&", "||"
// or ";". Any name of the release bucket's objects counts, so a name this
// build did not install is found and named.
func findMesh(fields []string, m Mesh) (meshCall, bool) {
	c := meshCall{prefix: -1}
	atCommand := true
	for i, f := range fields {
		if isOperator(f) {
			atCommand, c.prefix = true, -1
			continue
		}
		if strings.HasSuffix(f, ";") {
			if strings.HasPrefix(f, "APP_PORT=") {
				c.earlier = true
			}
			atCommand, c.prefix = true, -1
			continue
		}
		if !atCommand {
			continue
		}
		if f == "exec" || f == "env" || f == "export" {
			continue
		}
		if isAssignment(f) {
			if strings.HasPrefix(f, "APP_PORT=") {
				exported := i > 0 && fields[i-1] == "export"
				next := i+1 < len(fields) && isOperator(fields[i+1])
				if exported || next {
					c.earlier = true
				} else {
					c.prefix, c.appPort = i, strings.TrimPrefix(f, "APP_PORT=")
				}
			}
			continue
		}
		base := filepath.Base(f)
		if base == m.Name || meshName().MatchString(base) {
			c.at = i
			return c, true
		}
		atCommand = false
	}
	return meshCall{}, false
}

func isOperator(f string) bool { return f == "&&" || f == "||" || f == ";" || f == "|" || f == "&" }

// meshName matches the names of the release bucket's objects, which older
// samples put in Procfiles and the upstream buildpack links.
var meshName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^heroku-applink-service-mesh-(latest|v?\d+\.\d+\.\d+[0-9A-Za-z.+-]*)-(amd64|arm64|x86_64|aarch64)$`)
})

// skipMeshFlags returns the index of the app command after the mesh's own
// flags and "--".
func skipMeshFlags(fields []string, i int) int {
	for i < len(fields) {
		switch f := fields[i]; {
		case f == "--port" || f == "-p":
			i = min(i+2, len(fields))
			continue
		case strings.HasPrefix(f, "--port=") || strings.HasPrefix(f, "-p="):
			i++
			continue
		case f == "--":
			i++
		}
		return i
	}
	return i
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

// singleQuoted matches text the shell does not expand.
var singleQuoted = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`'[^']*'`) })

// problems looks at the app command the mesh will exec, and returns the
// literal port a fix gives the app.
func (c meshCall) problems(app []string, m Mesh) ([]Problem, string) {
	text := strings.Join(app, " ")
	// Inside single quotes the Procfile's shell expands nothing: a script
	// run by "bash -c '…'" sees the APP_PORT the mesh's command exports.
	expanded := singleQuoted().ReplaceAllLiteralString(text, "''")
	var problems []Problem
	if portRef().MatchString(text) {
		problems = append(problems, AppUsesPORT)
	}
	configured := slices.Contains(m.ConfigVars, "APP_PORT")
	usesAppPort := appPortRef().MatchString(expanded)
	switch {
	case usesAppPort && c.prefix >= 0 && !c.earlier:
		problems = append(problems, AppPortTrap)
	case usesAppPort && c.prefix < 0 && !c.earlier && m.ConfigVars != nil && !configured && bareAppPort(expanded):
		problems = append(problems, AppPortUnset)
	}
	if len(text) > 1 && (text[0] == '"' || text[0] == '\'') && strings.ContainsAny(text, " \t") {
		problems = append(problems, QuotedCommand)
	}
	return problems, c.literalPort(configured)
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
// the mesh, else the config var's (as $APP_PORT, which then expands right),
// else the mesh's default.
func (c meshCall) literalPort(configured bool) string {
	switch {
	case c.prefix >= 0 && config.IsPort(c.appPort):
		return c.appPort
	case c.prefix < 0 && (configured || c.earlier):
		return "$APP_PORT"
	}
	return defaultAppPort
}

// fixApp rewrites the app command to listen on port: every $PORT and
// $APP_PORT becomes the port. A command quoted whole loses its quotes, so
// the shell splits it into a program and its arguments; one that cannot be
// unquoted becomes ./start.sh, and script is set.
func fixApp(app []string, port string) (cmd []string, script bool) {
	text := strings.Join(app, " ")
	if q := text[0]; (q == '"' || q == '\'') && len(text) > 1 && strings.ContainsAny(text, " \t") {
		inner := text[1 : len(text)-1]
		if text[len(text)-1] != q || strings.ContainsAny(inner, `'"`) {
			return []string{"./start.sh"}, true
		}
		text = inner
	}
	// On the whole text: a reference may hold white space (${PORT:- 1}).
	text = portRef().ReplaceAllLiteralString(text, port)
	if port != "$APP_PORT" {
		text = appPortRef().ReplaceAllLiteralString(text, port)
	}
	if cmd = strings.Fields(text); len(cmd) == 0 {
		return []string{"<your app's start command>"}, false
	}
	return cmd, false
}

var assignment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`) })

func isAssignment(s string) bool { return assignment().MatchString(s) }

// wrap puts the mesh in front of a command, keeping its VAR=value prefixes,
// setting APP_PORT when the user did not, and giving the app that port
// where it had $PORT. A command of several (&&, ;, |) runs under one
// "bash -c", so the mesh supervises all of it; "exec" is dropped, as the
// mesh is what the shell runs.
func wrap(fields []string, m Mesh) (line, port string, script bool) {
	var prefix []string
	for len(fields) > 0 && isAssignment(fields[0]) {
		prefix = append(prefix, fields[0])
		fields = fields[1:]
	}
	if len(fields) > 0 && fields[0] == "exec" {
		fields = fields[1:]
	}
	for i, p := range prefix {
		if v, ok := strings.CutPrefix(p, "APP_PORT="); ok {
			if !config.IsPort(v) {
				prefix[i] = "APP_PORT=" + defaultAppPort
				v = defaultAppPort
			}
			port = v
		}
	}
	if port == "" {
		port = defaultAppPort
		prefix = append([]string{"APP_PORT=" + port}, prefix...)
	}
	if len(fields) == 0 {
		return strings.Join(append(prefix, m.Name, "<your app's start command>"), " "), port, false
	}
	app, script := fixApp(fields, port)
	cmd := strings.Join(app, " ")
	if strings.HasPrefix(cmd, "-") {
		// Not to be read as the mesh's own flags.
		cmd = "-- " + cmd
	}
	if !script && slices.ContainsFunc(app, func(f string) bool { return isOperator(f) || strings.HasSuffix(f, ";") }) {
		if strings.Contains(cmd, "'") {
			cmd, script = "./start.sh", true
		} else {
			cmd = "bash -c '" + cmd + "'"
		}
	}
	return strings.Join(append(append(prefix, m.Name), cmd), " "), port, script
}
