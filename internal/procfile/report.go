package procfile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// Report prints the advice. Only a process that starts the mesh right is a
// plain detail; every other outcome is a warning, because each one means
// Salesforce requests will not reach the app through the mesh.
func Report(p *output.Printer, a Advice) {
	p.Step("Checking Procfile")
	if a.BOM {
		p.Warning("Your Procfile starts with a byte-order mark (U+FEFF). Heroku reads Procfiles\n" +
			"without one: the first line may be dropped, or the file refused. Save the\n" +
			"Procfile as UTF-8 without a byte-order mark.")
	}
	if n := len(a.WebLines); n > 1 {
		lines := fmt.Sprint(a.WebLines[:n-1])
		p.Warning(fmt.Sprintf("Your Procfile defines the web process %d times (lines %s and %d).\n"+
			"Heroku runs the last one, which is the one checked here:\n\n  web: %s\n\n"+
			"Remove the others.", n, strings.ReplaceAll(lines[1:len(lines)-1], " ", ", "), a.WebLines[n-1], a.Web().Command))
	}
	switch a.Kind {
	case NoWeb:
		p.Warning("Your Procfile has no web process. AppLink needs the web process\n" +
			"started through the service mesh, for example:\n\n  " + a.Suggested)
	case Missing:
		p.Warning("Your app has no Procfile. AppLink needs a web process started through\n" +
			"the service mesh. Add a Procfile with a line such as:\n\n  " + a.Suggested)
	case Unreadable:
		p.Warning("The Procfile was not checked: " + a.Reason + ".")
	}
	for _, proc := range a.Processes {
		report(p, a.Mesh, proc)
	}
}

func report(p *output.Printer, m Mesh, proc Process) {
	typ, cmd := proc.Type, proc.Type+": "+proc.Command
	var text []string
	switch proc.Kind {
	case OK:
		p.Detail("The %s process starts the service mesh:\n  %s", typ, cmd)
	case Legacy:
		text = append(text, fmt.Sprintf("Your Procfile's %s process starts the mesh as\n\n  %s\n\n"+
			"a name this buildpack links only so that old Procfiles keep working. It\n"+
			"breaks when the architecture or the version changes: use the plain name,\n%s.", typ, proc.Name, m.name()))
	case OtherName:
		text = append(text, fmt.Sprintf("Your Procfile's %s process starts\n\n  %s\n\n"+
			"which this build did not install, so the %s process will not start. This\n"+
			"build installed %s %s for %s, also linked as:\n\n  %s\n\n"+
			"Use the plain name.", typ, proc.Name, typ, m.name(), m.Version, m.Arch, strings.Join(m.Names[1:], "\n  ")))
	case Indirect:
		p.Detail("The %s process mentions the service mesh, but the build cannot tell how it\n"+
			"starts it:\n  %s\nMake sure the mesh starts your app, with the app on APP_PORT.", typ, cmd)
		return
	case NoCommand:
		p.Warning(fmt.Sprintf("Your Procfile's %s process runs %s with no app command:\n\n  %s\n\n"+
			"The mesh starts your app: put the app's start command after it, e.g.\n\n"+
			"  %s: APP_PORT=%s %s npm start", typ, proc.Name, cmd, typ, m.forwardPort(), m.name()))
		return
	case Syntax:
		p.Warning(fmt.Sprintf("Bash cannot read your Procfile's %s process, so it fails at start:\n\n  %s\n\n%s.",
			typ, cmd, proc.Reason))
		return
	case NotWrapped:
		start := "Start it through the mesh instead:"
		if proc.Script {
			start = "Put the commands in a script, start.sh, and start it through the mesh:"
		}
		p.Warning(fmt.Sprintf("Your Procfile's web process does not start the service mesh, so\n"+
			"requests from Salesforce will not reach your app:\n\n  %s\n\n%s\n\n  %s\n\n"+
			"The mesh listens on $PORT and forwards to your app on APP_PORT: the app must\n"+
			"listen on %s.", cmd, start, proc.Suggested, proc.AppPort))
		return
	}
	for _, problem := range proc.Problems {
		text = append(text, problemText(problem, proc, m))
	}
	switch {
	case len(text) == 0:
		return
	case proc.Script:
		text = append(text, "Put the app's command in a script, start.sh, and start that:\n\n  "+proc.Suggested)
	case proc.Suggested != "":
		text = append(text, "Use this line instead:\n\n  "+proc.Suggested)
	}
	p.Warning(strings.Join(text, "\n\n"))
}

func problemText(problem Problem, proc Process, m Mesh) string {
	switch problem {
	case RepeatedType:
		return "The command starts with \"" + proc.Type + ":\" again: bash runs " + proc.Type + ": as a program,\n" +
			"which does not exist, and the process fails at start."
	case AppUsesPORT:
		return "Your app's command refers to $PORT, but the mesh listens on $PORT. The app\n" +
			"must listen on the port the mesh forwards to, APP_PORT (" + portDesc(proc.AppPort) + "), or\n" +
			"the two collide and requests fail."
	case AppPortTrap:
		return "Your app's command refers to $APP_PORT, but APP_PORT is set only for the\n" +
			"mesh's command: the shell expands $APP_PORT before that assignment takes\n" +
			"effect, so the app gets no port (or the config var's). Give the app the\n" +
			"port itself."
	case AppPortUnset:
		return "Your app's command refers to $APP_PORT, but no config var or assignment\n" +
			"sets APP_PORT, so it expands to nothing. The mesh forwards to " + forwardDesc(m) + "."
	case QuotedCommand:
		return "The command after the mesh is one quoted string. The mesh runs it\n" +
			"without a shell, as a single program name, so it will not start."
	case AppPortNotExported:
		return "An earlier command assigns APP_PORT without exporting it: your app's\n" +
			"$APP_PORT has that value, but the mesh does not see it, and forwards to " + forwardDesc(m) + "."
	case Chained:
		return "More commands follow your app's on this line (after &&, || or ;). The mesh\n" +
			"starts only the first; the others run after it exits. Run them under one shell."
	case MeshPort:
		return "The mesh is given a port of its own (PORT=… or --port …), but it must listen\n" +
			"on $PORT, where Heroku's router sends requests. Leave $PORT to the mesh and\n" +
			"give your app another port."
	case AppPortIsPORT:
		return "APP_PORT is set to $PORT, the port the mesh itself listens on: the mesh\n" +
			"forwards every request to itself, and an app on APP_PORT collides with it.\n" +
			"Give APP_PORT a port of its own."
	case AppPortInvalid:
		return "APP_PORT is set to something that is not a port number (1 to 65535), so\n" +
			"the mesh cannot forward requests to your app."
	case AssignmentAfterWrapper:
		return "An assignment comes after exec, nice or a similar command, which runs it\n" +
			"as a program's name: the web process fails with \"not found\". Only env takes\n" +
			"assignments there; put them first."
	case Background:
		return "The line ends in &, which runs it in the background: the web process's\n" +
			"shell exits at once, and Heroku restarts the dyno."
	case MeshOnFailure:
		return "The mesh comes after ||, so it starts only when the command before it\n" +
			"fails: when that command succeeds, the web process exits without it."
	case AppPortMismatch:
		return "Your app's command gives it a port other than the one the mesh forwards\n" +
			"to, APP_PORT (" + portDesc(proc.AppPort) + "): every request would fail with a 502."
	case BareProgram:
		return "Your app's command names a file of your app without a path. The mesh looks\n" +
			"such a name up on PATH, which does not hold your app's folder, so it cannot\n" +
			"start it: put ./ in front."
	}
	return ""
}

// portDesc names the app's port in a message.
func portDesc(port string) string {
	if port == "$APP_PORT" {
		return "the config var's value here"
	}
	return port + " here"
}

// forwardDesc says where the mesh forwards without APP_PORT.
func forwardDesc(m Mesh) string {
	switch {
	case slices.Contains(m.ConfigVars, "APP_PORT"):
		return "the APP_PORT config var's port"
	case m.AppPort != "":
		return m.AppPort + " (app.port in heroku-applink-service-mesh.yaml)"
	}
	return defaultAppPort
}
