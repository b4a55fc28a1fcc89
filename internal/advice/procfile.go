package advice

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

type procfile struct {
	Types    []string
	Commands map[string]string
	Lines    map[string][]int
	BOM      bool
}

// parseProcfile reads as Heroku does: CR or CRLF ends a line; the last definition wins.
func parseProcfile(data []byte) (procfile, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return procfile{}, errors.New("it is a binary file")
	} else if !utf8.Valid(data) {
		return procfile{}, errors.New("it is not valid UTF-8")
	}
	p := procfile{Commands: map[string]string{}, Lines: map[string][]int{}}
	data, p.BOM = bytes.CutPrefix(data, []byte("\uFEFF"))
	for i, line := range strings.Split(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(data)), "\n") {
		typ, cmd, ok := strings.Cut(strings.TrimSpace(line), ":")
		typ, cmd = strings.TrimRight(typ, " \t"), strings.TrimLeft(cmd, " \t")
		if !ok || !validType(typ) || cmd == "" {
			continue
		}
		if _, seen := p.Commands[typ]; !seen {
			p.Types = append(p.Types, typ)
		}
		p.Commands[typ], p.Lines[typ] = cmd, append(p.Lines[typ], i+1)
	}
	return p, nil
}

func validType(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == ""
}

// kind is what the build found of a process: the build report's name for it, and the advice.
type kind struct{ name, text string }

var (
	started                = kind{"", "The {type} process starts the service mesh:\n  {line}"}
	legacy                 = kind{"procfile-link-name", "Your Procfile's {type} process starts the mesh as\n\n  {name}\n\na name this buildpack links only so that old Procfiles keep working. It\nbreaks when the architecture or the version changes: use the plain name,\n{mesh}."}
	otherName              = kind{"procfile-other-name", "Your Procfile's {type} process starts\n\n  {name}\n\nwhich this build did not install, so the {type} process will not start. This\nbuild installed {mesh} {version} for {arch}, also linked as:\n\n  {links}\n\nUse the plain name."}
	noCommand              = kind{"procfile-no-command", "Your Procfile's {type} process runs {name} with no app command:\n\n  {line}\n\nThe mesh starts your app: put the app's start command after it, e.g.\n\n  {type}: APP_PORT={forwardPort} {mesh} npm start"}
	indirect               = kind{"procfile-indirect", "The {type} process mentions the service mesh, but the build cannot tell how it\nstarts it:\n  {line}\nMake sure the mesh starts your app, with the app on APP_PORT."}
	notWrapped             = kind{"procfile-not-wrapped", "Your Procfile's web process does not start the service mesh, so\nrequests from Salesforce will not reach your app:\n\n  {line}\n\n{start}\n\n  {suggested}\n\nThe mesh listens on $PORT and forwards to your app on APP_PORT: the app must\nlisten on {appPort}."}
	badSyntax              = kind{"procfile-syntax", "Bash cannot read your Procfile's {type} process, so it fails at start:\n\n  {line}\n\n{reason}."}
	noWeb                  = kind{"procfile-no-web", "Your Procfile has no web process. AppLink needs the web process\nstarted through the service mesh, for example:\n\n  {suggested}"}
	missing                = kind{"procfile-missing", "Your app has no Procfile. AppLink needs a web process started through\nthe service mesh. Add a Procfile with a line such as:\n\n  {suggested}"}
	unreadable             = kind{"procfile-unreadable", "The Procfile was not checked: {reason}."}
	repeatedType           = kind{"procfile-repeated-type", "The command starts with \"{type}:\" again: bash runs {type}: as a program,\nwhich does not exist, and the process fails at start."}
	appUsesPORT            = kind{"procfile-app-uses-port", "Your app's command refers to $PORT, but the mesh listens on $PORT. The app\nmust listen on the port the mesh forwards to, APP_PORT ({port}), or\nthe two collide and requests fail."}
	appPortTrap            = kind{"procfile-app-port-trap", "Your app's command refers to $APP_PORT, but APP_PORT is set only for the\nmesh's command: the shell expands $APP_PORT before that assignment takes\neffect, so the app gets no port (or the config var's). Give the app the\nport itself."}
	appPortUnset           = kind{"procfile-app-port-unset", "Your app's command refers to $APP_PORT, but no config var or assignment\nsets APP_PORT, so it expands to nothing. The mesh forwards to {forward}."}
	quotedCommand          = kind{"procfile-quoted-command", "The command after the mesh is one quoted string. The mesh runs it\nwithout a shell, as a single program name, so it will not start."}
	appPortNotExported     = kind{"procfile-app-port-not-exported", "An earlier command assigns APP_PORT without exporting it: your app's\n$APP_PORT has that value, but the mesh does not see it, and forwards to {forward}."}
	chained                = kind{"procfile-chained", "More commands follow your app's on this line (after &&, || or ;). The mesh\nstarts only the first; the others run after it exits. Run them under one shell."}
	meshPort               = kind{"procfile-mesh-port", "The mesh is given a port of its own (PORT=… or --port …), but it must listen\non $PORT, where Heroku's router sends requests. Leave $PORT to the mesh and\ngive your app another port."}
	appPortIsPORT          = kind{"procfile-app-port-is-port", "APP_PORT is set to $PORT, the port the mesh itself listens on: the mesh\nforwards every request to itself, and an app on APP_PORT collides with it.\nGive APP_PORT a port of its own."}
	appPortInvalid         = kind{"procfile-app-port-invalid", "APP_PORT is set to something that is not a port number (1 to 65535), so\nthe mesh cannot forward requests to your app."}
	assignmentAfterWrapper = kind{"procfile-assignment-after-wrapper", "An assignment comes after exec, nice or a similar command, which runs it\nas a program's name: the web process fails with \"not found\". Only env takes\nassignments there; put them first."}
	inBackground           = kind{"procfile-background", "The line ends in &, which runs it in the background: the web process's\nshell exits at once, and Heroku restarts the dyno."}
	appPortMismatch        = kind{"procfile-app-port-mismatch", "Your app's command gives it a port other than the one the mesh forwards\nto, APP_PORT ({port}): every request would fail with a 502."}
	meshOnFailure          = kind{"procfile-mesh-on-failure", "The mesh comes after ||, so it starts only when the command before it\nfails: when that command succeeds, the web process exits without it."}
	bareProgram            = kind{"procfile-bare-program", "Your app's command names a file of your app without a path. The mesh looks\nsuch a name up on PATH, which does not hold your app's folder, so it cannot\nstart it: put ./ in front."}
)

// mesh is what was installed, and what the other checks found (ConfigVars nil: unseen).
type mesh struct {
	Names, ConfigVars      []string // Names: the plain name first, then its links
	Version, Arch, AppPort string
	PortUnknown            bool
	App                    *os.Root
}

type process struct {
	Type, Command, Name, Suggested, Reason string
	AppPort, AppPortSet, Dir               string
	Kind                                   kind
	Problems                               []kind
	Script, DirUnknown                     bool
}

// procfileResult is the Procfile read and its advice: web's first, also when the Procfile lacks it.
type procfileResult struct {
	procfile
	Mesh      mesh
	Processes []process
}

func (a procfileResult) web() process { return a.Processes[0] }

// inspect advises on the Procfile as read: data, or readErr.
func (m mesh) inspect(data []byte, readErr error) procfileResult {
	p, err := parseProcfile(data)
	if errors.Is(readErr, fs.ErrNotExist) {
		return procfileResult{Mesh: m, Processes: []process{{Type: "web", Kind: missing, Suggested: m.template("web")}}}
	} else if err = cmp.Or(readErr, err); err == nil {
		return advise(p, m)
	}
	return procfileResult{Mesh: m, Processes: []process{{Type: "web", Kind: unreadable, Reason: reason(err)}}}
}

// reason says why a file of the app's could not be read, without its path.
func reason(err error) string {
	if e, ok := errors.AsType[*fsutil.NotRegularError](err); ok && strings.HasPrefix(e.Kind, "a symbolic link") {
		return "it is a symbolic link out of the app"
	} else if ok {
		return "it is " + e.Kind
	} else if errors.As(err, new(*fsutil.TooLargeError)) {
		return "it is larger than 64 KiB"
	} else if e, ok := errors.AsType[*fs.PathError](err); ok {
		return e.Err.Error()
	}
	return err.Error()
}

func (a procfileResult) report(p *output.Printer) (kinds []string) {
	p.Step("Checking Procfile")
	if a.BOM {
		kinds = append(kinds, "procfile-bom")
		p.Warning("Your Procfile starts with a byte-order mark (U+FEFF). Heroku reads Procfiles\nwithout one: the first line may be dropped, or the file refused. Save the\nProcfile as UTF-8 without a byte-order mark.")
	}
	if defs := a.Lines["web"]; len(defs) > 1 {
		kinds = append(kinds, "procfile-duplicate-web")
		lines := strings.ReplaceAll(strings.Trim(fmt.Sprint(defs[:len(defs)-1]), "[]"), " ", ", ")
		p.Warning(fmt.Sprintf("Your Procfile defines the web process %d times (lines %s and %d).\nHeroku runs the last one, which is the one checked here:\n\n  web: %s\n\nRemove the others.", len(defs), lines, defs[len(defs)-1], a.web().Command))
	}
	m, forward := a.Mesh, a.Mesh.forwardPort() // where the mesh forwards without APP_PORT
	if m.AppPort != "" {
		forward += " (app.port in " + configName + ")"
	}
	for _, proc := range a.Processes {
		words := strings.NewReplacer("{type}", proc.Type, "{line}", proc.Type+": "+proc.Command, "{name}", proc.Name, "{mesh}", m.Names[0],
			"{version}", m.Version, "{arch}", m.Arch, "{links}", strings.Join(m.Names[1:], "\n  "), "{suggested}", proc.Suggested,
			"{reason}", proc.Reason, "{appPort}", proc.AppPort, "{forwardPort}", m.forwardPort(), "{forward}", forward,
			"{port}", strings.Replace(proc.AppPort, "$APP_PORT", "the config var's value", 1)+" here",
			"{start}", map[bool]string{false: "Start it through the mesh instead:", true: "Put the commands in a script, start.sh, and start it through the mesh:"}[proc.Script])
		var text []string
		for _, k := range append([]kind{proc.Kind}, proc.Problems...) {
			text = append(text, words.Replace(k.text))
			if k != started {
				kinds = append(kinds, k.name)
			}
		}
		switch {
		case proc.Kind == started || proc.Kind == indirect:
			p.Detail("%s", text[0])
			text = text[1:]
		case proc.Kind != legacy && proc.Kind != otherName:
			p.Warning(text[0])
			continue
		}
		switch {
		case len(text) == 0:
			continue
		case proc.Script:
			text = append(text, "Put the app's command in a script, start.sh, and start that:\n\n  "+proc.Suggested)
		case proc.Suggested != "":
			text = append(text, "Use this line instead:\n\n  "+proc.Suggested)
		}
		p.Warning(strings.Join(text, "\n\n"))
	}
	return kinds
}
