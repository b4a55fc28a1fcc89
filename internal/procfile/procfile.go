package procfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
)

// MaxSize is the largest Procfile the buildpack reads. Real ones are a few
// lines; this bounds what a binary file committed by mistake can cost.
const MaxSize = 64 << 10

// Procfile maps process types to commands, in file order.
type Procfile struct {
	Types    []string
	Commands map[string]string
}

// entry is Heroku's Procfile line form: a process type, a colon, a command.
var entry = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z0-9_-]+)[ \t]*:[ \t]*(.*?)[ \t]*$`) })

// Parse reads a Procfile the way Heroku does: blank lines and "#" comments
// are ignored, spacing around the colon is free, the last definition of a
// type wins.
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
	p := Procfile{Commands: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxSize+1)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
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
	}
	return p, sc.Err()
}

// Kind classifies what the buildpack found.
type Kind int

// The outcomes of checking a Procfile, from best to worst.
const (
	OK Kind = iota
	Legacy
	NoCommand
	NotWrapped
	NoWeb
	Missing
	Unreadable
)

// Advice is what to tell the user about their Procfile.
type Advice struct {
	Kind Kind
	// Web is the web command as found, if any.
	Web string
	// Suggested is a complete Procfile line to use, when there is one.
	Suggested string
	// Name is the mesh command name found in the web command, if any.
	Name string
	// Reason explains an unreadable Procfile.
	Reason string
	// Problems are mistakes in an otherwise wrapped web command.
	Problems []Problem
}

// Problem is a mistake in the app command the mesh starts.
type Problem int

// The mistakes users make most, from the mesh's own history.
const (
	// AppUsesPORT: the app binds $PORT, which the mesh already holds.
	AppUsesPORT Problem = iota + 1
	// QuotedCommand: the app command is one quoted string; the mesh runs
	// it without a shell, as a single program name.
	QuotedCommand
)

// Inspect reads the Procfile in appDir and advises on it.
func Inspect(appDir, binary string) Advice {
	// Read as the buildpack reads every file of the app's: never through a
	// link, never blocking on a pipe, bounded before reading.
	data, err := files.ReadRegular(filepath.Join(appDir, "Procfile"), MaxSize)
	var notRegular *files.NotRegularError
	var tooLarge *files.TooLargeError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Advice{Kind: Missing, Suggested: "web: APP_PORT=3000 " + binary + " <your app's start command>"}
	case errors.As(err, &notRegular):
		return Advice{Kind: Unreadable, Reason: "it is " + notRegular.Kind}
	case errors.As(err, &tooLarge):
		return Advice{Kind: Unreadable, Reason: fmt.Sprintf("it is larger than %d KiB", MaxSize>>10)}
	case err != nil:
		return Advice{Kind: Unreadable, Reason: files.Cause(err).Error()}
	}
	p, err := Parse(bytes.NewReader(data))
	if err != nil {
		return Advice{Kind: Unreadable, Reason: err.Error()}
	}
	return Advise(p, binary)
}

// Advise checks the web process of p.
func Advise(p Procfile, binary string) Advice {
	web, ok := p.Commands["web"]
	if !ok {
		return Advice{Kind: NoWeb, Suggested: "web: APP_PORT=3000 " + binary + " <your app's start command>"}
	}
	name, rest, found := findCommand(web, binary)
	switch {
	case !found:
		return Advice{Kind: NotWrapped, Web: web, Suggested: "web: " + wrap(web, binary)}
	case name != binary:
		return Advice{Kind: Legacy, Web: web, Name: name, Suggested: "web: " + rename(web, name, binary)}
	case rest == "":
		return Advice{Kind: NoCommand, Web: web, Name: name}
	default:
		return Advice{Kind: OK, Web: web, Name: name, Problems: appProblems(rest)}
	}
}

// portRef matches $PORT and ${PORT}, not $APP_PORT.
var portRef = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$(\{PORT\}|PORT\b)`) })

// appProblems looks at what follows the mesh: its own flags, then the app
// command it will exec.
func appProblems(rest string) []Problem {
	fields := strings.Fields(rest)
	for len(fields) > 0 {
		switch f := fields[0]; {
		case f == "--port" || f == "-p":
			fields = fields[min(2, len(fields)):]
			continue
		case strings.HasPrefix(f, "--port="):
			fields = fields[1:]
			continue
		case f == "--":
			fields = fields[1:]
		}
		break
	}
	app := strings.Join(fields, " ")
	var problems []Problem
	if portRef().MatchString(app) {
		problems = append(problems, AppUsesPORT)
	}
	if len(app) > 1 && (app[0] == '"' || app[0] == '\'') && strings.ContainsAny(app, " \t") {
		problems = append(problems, QuotedCommand)
	}
	return problems
}

// legacyName matches the arch- or version-specific names the release bucket
// uses for its objects, which older samples put in Procfiles.
var legacyName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^heroku-applink-service-mesh-(latest|v?\d+\.\d+\.\d+)-(amd64|arm64)$`)
})

// findCommand looks for the mesh at a command position of a shell command:
// past VAR=value prefixes, "export", "exec" and "env", and after "&&" or ";".
// It returns the name used and what follows it.
func findCommand(cmd, binary string) (string, string, bool) {
	fields := strings.Fields(cmd)
	atCommand := true
	for i, f := range fields {
		if f == "&&" || f == ";" || f == "||" {
			atCommand = true
			continue
		}
		if strings.HasSuffix(f, ";") {
			atCommand = true
			continue
		}
		if !atCommand {
			continue
		}
		if isAssignment(f) || f == "exec" || f == "env" || f == "export" {
			continue
		}
		base := filepath.Base(f)
		if base == binary || legacyName().MatchString(base) {
			return base, strings.Join(fields[i+1:], " "), true
		}
		atCommand = false
	}
	return "", "", false
}

// rename replaces the first word of cmd that names the mesh (by base name,
// so a path keeps its directory), rebuilt on single spaces: the suggestion
// must be a clean line whatever white space the Procfile had.
func rename(cmd, old, binary string) string {
	fields := strings.Fields(cmd)
	for i, f := range fields {
		if filepath.Base(f) == old {
			fields[i] = strings.TrimSuffix(f, old) + binary
			break
		}
	}
	return strings.Join(fields, " ")
}

var assignment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`) })

func isAssignment(s string) bool { return assignment().MatchString(s) }

// wrap puts the mesh in front of a command, keeping its VAR=value prefixes
// and adding APP_PORT when the user did not set one.
func wrap(cmd, binary string) string {
	fields := strings.Fields(cmd)
	var prefix []string
	for len(fields) > 0 && isAssignment(fields[0]) {
		prefix = append(prefix, fields[0])
		fields = fields[1:]
	}
	hasPort := false
	for _, p := range prefix {
		if strings.HasPrefix(p, "APP_PORT=") {
			hasPort = true
		}
	}
	if !hasPort {
		prefix = append([]string{"APP_PORT=3000"}, prefix...)
	}
	return strings.Join(append(append(prefix, binary), fields...), " ")
}
