package procfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
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
	// AppPort is where the mesh forwards when APP_PORT is unset: app.port
	// in its config file, or "" for its default, 3000. PortUnknown is set
	// when the app has a config file the build could not read where the
	// mesh reads it, so app.port may be anything.
	AppPort     string
	PortUnknown bool
}

// forwardPort is where the mesh forwards when APP_PORT is unset.
func (m Mesh) forwardPort() string {
	if m.AppPort != "" {
		return m.AppPort
	}
	return defaultAppPort
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
	// Indirect: the mesh's name is in the web command, but not where the
	// build can tell what it starts (inside sh -c '…', say).
	Indirect
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
	// AppPortNotExported: an earlier command assigns APP_PORT without
	// exporting it: the app's $APP_PORT has it, the mesh does not.
	AppPortNotExported
	// Chained: more commands follow the app's on the line; the mesh starts
	// only the first, and the rest run after it exits.
	Chained
	// MeshPort: the mesh is given a port of its own (PORT=N, --port N)
	// instead of $PORT, where Heroku's router sends requests.
	MeshPort
	// AppPortIsPORT: APP_PORT is $PORT, so the mesh forwards to itself.
	AppPortIsPORT
	// AppPortInvalid: APP_PORT is not a port number.
	AppPortInvalid
	// AssignmentAfterWrapper: "exec APP_PORT=3000 …": only env takes
	// assignments; exec, nice and the like run them as a program's name.
	AssignmentAfterWrapper
	// Background: the line ends in "&": the shell exits at once.
	Background
	// AppPortMismatch: the app is told to listen on a port other than the
	// one the mesh forwards to.
	AppPortMismatch
	// MeshOnFailure: "build || mesh …": the mesh starts only when the
	// command before it fails.
	MeshOnFailure
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
	// Dir is where the web process starts the mesh, relative to the app's
	// root ("" for the root), after any "cd" before it; DirUnknown is set
	// when the build cannot tell.
	Dir        string
	DirUnknown bool
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
	kind := map[Kind]string{Legacy: "procfile-link-name", OtherName: "procfile-other-name", NoCommand: "procfile-no-command", Indirect: "procfile-indirect",
		NotWrapped: "procfile-not-wrapped", NoWeb: "procfile-no-web", Missing: "procfile-missing", Unreadable: "procfile-unreadable"}
	if k, ok := kind[a.Kind]; ok {
		kinds = append(kinds, k)
	}
	problem := map[Problem]string{AppUsesPORT: "procfile-app-uses-port", AppPortTrap: "procfile-app-port-trap",
		AppPortUnset: "procfile-app-port-unset", QuotedCommand: "procfile-quoted-command", AppPortNotExported: "procfile-app-port-not-exported",
		Chained: "procfile-chained", MeshPort: "procfile-mesh-port", AppPortIsPORT: "procfile-app-port-is-port",
		AppPortInvalid: "procfile-app-port-invalid", AssignmentAfterWrapper: "procfile-assignment-after-wrapper",
		Background: "procfile-background", AppPortMismatch: "procfile-app-port-mismatch", MeshOnFailure: "procfile-mesh-on-failure"}
	for _, p := range a.Problems {
		kinds = append(kinds, problem[p])
	}
	return kinds
}

// Inspect reads the Procfile in appDir and advises on it.
func Inspect(appDir string, m Mesh) Advice {
	// Read as the buildpack reads every file of the app's: never through a
	// link, never blocking on a pipe, bounded before reading.
	data, err := readApp(appDir, "Procfile", MaxSize)
	var notRegular *fsutil.NotRegularError
	var tooLarge *fsutil.TooLargeError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Advice{Kind: Missing, Mesh: m, Suggested: template(m)}
	case errors.As(err, &notRegular):
		return Advice{Kind: Unreadable, Mesh: m, Reason: "it is " + notRegular.Kind}
	case errors.As(err, &tooLarge):
		return Advice{Kind: Unreadable, Mesh: m, Reason: fmt.Sprintf("it is larger than %d KiB", MaxSize>>10)}
	case err != nil:
		return Advice{Kind: Unreadable, Mesh: m, Reason: err.Error()}
	}
	p, err := Parse(bytes.NewReader(data))
	if err != nil {
		return Advice{Kind: Unreadable, Mesh: m, Reason: err.Error()}
	}
	return Advise(p, m)
}

func readApp(appDir, name string, max int64) ([]byte, error) {
	root, err := os.OpenRoot(appDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return fsutil.ReadFile(root, name, max)
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return false
	}
	n, _ := strconv.Atoi(s)
	return n >= 1 && n <= 65535
}
