package procfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
)

// MaxSize is the largest Procfile the buildpack reads. Real ones are a few
// lines; this bounds what a binary file committed by mistake can cost.
const MaxSize = 64 << 10

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

// Parse reads a Procfile the way Heroku does: CRLF and lone CR end lines,
// blank lines and "#" comments are ignored, leading white space and the
// spacing around the colon are free, and the last definition of a type
// wins. A leading byte-order mark is skipped and reported.
func Parse(data []byte) (Procfile, error) {
	switch {
	case len(data) > MaxSize:
		return Procfile{}, fmt.Errorf("it is larger than %d KiB", MaxSize>>10)
	case bytes.IndexByte(data, 0) >= 0:
		return Procfile{}, errors.New("it is a binary file")
	case !utf8.Valid(data):
		return Procfile{}, errors.New("it is not valid UTF-8")
	}
	p := Procfile{Commands: map[string]string{}, Lines: map[string][]int{}}
	data, p.BOM = bytes.CutPrefix(data, []byte("\uFEFF"))
	text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(data))
	for i, line := range strings.Split(text, "\n") {
		typ, cmd, ok := entry(strings.TrimSpace(line))
		if !ok {
			continue
		}
		if _, seen := p.Commands[typ]; !seen {
			p.Types = append(p.Types, typ)
		}
		p.Commands[typ], p.Lines[typ] = cmd, append(p.Lines[typ], i+1)
	}
	return p, nil
}

// entry reads Heroku's Procfile line form: a process type, a colon, a
// command.
func entry(line string) (typ, cmd string, ok bool) {
	typ, cmd, ok = strings.Cut(line, ":")
	typ, cmd = strings.TrimRight(typ, " \t"), strings.TrimLeft(cmd, " \t")
	return typ, cmd, ok && validType(typ) && cmd != ""
}

// validType is a process type's name: letters, digits, "_" and "-".
func validType(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == ""
}

// Kind is what the build found of the Procfile, or of one process, as the
// build report names it; OK is none.
type Kind string

// The outcomes of checking a Procfile and its processes.
const (
	OK Kind = ""
	// Legacy: the process starts the mesh by one of its link names.
	Legacy Kind = "procfile-link-name"
	// OtherName: the process names a mesh this build did not install
	// (another version or architecture, or the pre-AppLink name).
	OtherName Kind = "procfile-other-name"
	NoCommand Kind = "procfile-no-command"
	// Indirect: the mesh's name is in the command, but not where the build
	// can tell what it starts.
	Indirect   Kind = "procfile-indirect"
	NotWrapped Kind = "procfile-not-wrapped"
	// Syntax: bash cannot parse the command.
	Syntax     Kind = "procfile-syntax"
	NoWeb      Kind = "procfile-no-web"
	Missing    Kind = "procfile-missing"
	Unreadable Kind = "procfile-unreadable"
)

// Problem is a mistake in a command that starts the mesh, as the build
// report names it.
type Problem string

// The mistakes users make most, from the mesh's own history.
const (
	// RepeatedType: "web: web: …": bash runs "web:" as a program.
	RepeatedType Problem = "procfile-repeated-type"
	// AppUsesPORT: the app binds $PORT, which the mesh already holds.
	AppUsesPORT Problem = "procfile-app-uses-port"
	// AppPortTrap: APP_PORT=N is assigned for the mesh's command, but the
	// app's arguments refer to $APP_PORT, which the shell expands before
	// the assignment takes effect.
	AppPortTrap Problem = "procfile-app-port-trap"
	// AppPortUnset: the app's arguments refer to $APP_PORT, which nothing
	// sets.
	AppPortUnset Problem = "procfile-app-port-unset"
	// QuotedCommand: the app command is one quoted string, which the mesh
	// runs without a shell, as a single program name.
	QuotedCommand Problem = "procfile-quoted-command"
	// AppPortNotExported: an earlier command assigns APP_PORT without
	// exporting it: the app's $APP_PORT has it, the mesh does not.
	AppPortNotExported Problem = "procfile-app-port-not-exported"
	// Chained: commands follow the app's; the mesh starts only the first.
	Chained Problem = "procfile-chained"
	// MeshPort: the mesh gets a port of its own (PORT=N, --port N, env -u
	// PORT) instead of $PORT, where Heroku's router sends requests.
	MeshPort Problem = "procfile-mesh-port"
	// AppPortIsPORT: APP_PORT is $PORT, so the mesh forwards to itself.
	AppPortIsPORT  Problem = "procfile-app-port-is-port"
	AppPortInvalid Problem = "procfile-app-port-invalid"
	// AssignmentAfterWrapper: "exec APP_PORT=3000 …": only env takes
	// assignments; exec, nice and the like run them as a program's name.
	AssignmentAfterWrapper Problem = "procfile-assignment-after-wrapper"
	// Background: the line ends in "&": the shell exits at once.
	Background Problem = "procfile-background"
	// AppPortMismatch: the app listens on another port than the one the
	// mesh forwards to.
	AppPortMismatch Problem = "procfile-app-port-mismatch"
	// MeshOnFailure: "build || mesh …": the mesh starts only when the
	// command before it fails.
	MeshOnFailure Problem = "procfile-mesh-on-failure"
	// BareProgram: the app is a file of the app named without a path,
	// which the mesh looks up on PATH only.
	BareProgram Problem = "procfile-bare-program"
)

// Mesh is what this build installed, and what the other checks found.
type Mesh struct {
	// Names are the names the mesh was installed under: the plain name
	// first, then its links.
	Names         []string
	Version, Arch string
	// ConfigVars are the names of the app's config vars the checks need,
	// or nil when the build cannot see them. Only names: a value is never
	// read.
	ConfigVars []string
	// AppPort is where the mesh forwards when APP_PORT is unset: app.port
	// in its config file, or "" for its default, 3000. PortUnknown is set
	// when the app has a config file the build could not read where the
	// mesh reads it, so app.port may be anything.
	AppPort     string
	PortUnknown bool
	// App is the app's source, where the Procfile and the files it names
	// are looked up; nil looks up none.
	App *os.Root
}

// Process is what the build found of one process that starts the mesh, or
// of the web process.
type Process struct {
	Type, Command string
	Kind          Kind
	Problems      []Problem
	// Name is the mesh's name as the command gives it.
	Name string
	// Suggested is a whole Procfile line to use instead, when there is one:
	// it fixes every problem found and draws no advice itself.
	Suggested string
	// AppPort is the port the suggestion gives the app; Script is set when
	// it runs ./start.sh, a script the user must write.
	AppPort string
	Script  bool
	// AppPortSet is the APP_PORT the command gives the mesh, if it does.
	AppPortSet string
	// Dir is where the mesh starts, relative to the app's root, after any
	// cd before it; DirUnknown is set when the build cannot tell.
	Dir        string
	DirUnknown bool
	// Reason is why bash cannot parse the command, for Syntax.
	Reason string
}

// Advice is what to tell the user about their Procfile.
type Advice struct {
	// Kind is Missing, Unreadable or NoWeb, or OK when the processes say.
	Kind Kind
	Mesh Mesh
	// Reason explains an unreadable Procfile.
	Reason string
	// Suggested is a web process to add, for Missing and NoWeb.
	Suggested string
	BOM       bool
	// WebLines are the lines defining web, when there are several.
	WebLines []int
	// Processes are web's, when it is defined, then those of the other
	// processes that start the mesh, in file order.
	Processes []Process
}

// Web is the web process's finding, or a zero Process when there is none.
func (a Advice) Web() Process {
	if len(a.Processes) > 0 && a.Processes[0].Type == "web" {
		return a.Processes[0]
	}
	return Process{DirUnknown: a.Kind == Unreadable}
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
	if a.Kind != OK {
		kinds = append(kinds, string(a.Kind))
	}
	for _, p := range a.Processes {
		if p.Kind != OK {
			kinds = append(kinds, string(p.Kind))
		}
		for _, problem := range p.Problems {
			kinds = append(kinds, string(problem))
		}
	}
	return kinds
}

// Inspect reads the Procfile in the app and advises on it.
func Inspect(m Mesh) Advice {
	data, err := fsutil.ReadFile(m.App, "Procfile", MaxSize)
	if errors.Is(err, fs.ErrNotExist) {
		return Advice{Kind: Missing, Mesh: m, Suggested: m.template("web")}
	} else if err != nil {
		return Advice{Kind: Unreadable, Mesh: m, Reason: Reason(err)}
	}
	p, err := Parse(data)
	if err != nil {
		return Advice{Kind: Unreadable, Mesh: m, Reason: err.Error()}
	}
	return Advise(p, m)
}

// Reason says why a file of the app's could not be read, without the
// build's paths.
func Reason(err error) string {
	var notRegular *fsutil.NotRegularError
	var tooLarge *fsutil.TooLargeError
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &notRegular) && strings.HasPrefix(notRegular.Kind, "a symbolic link"):
		return "it is a symbolic link out of the app"
	case errors.As(err, &notRegular):
		return "it is " + notRegular.Kind
	case errors.As(err, &tooLarge):
		return fmt.Sprintf("it is larger than %d KiB", tooLarge.Max>>10)
	case errors.As(err, &pathErr):
		return pathErr.Err.Error()
	}
	return err.Error()
}
