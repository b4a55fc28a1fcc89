package procfile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// Report prints the advice. Only a correct Procfile is a plain detail; every
// other outcome is a warning, because each one means Salesforce requests
// will not reach the app through the mesh.
func Report(p *output.Printer, a Advice) {
	p.Step("Checking Procfile")
	if a.BOM {
		p.Warning("Your Procfile starts with a byte-order mark (U+FEFF). Heroku reads Procfiles\n" +
			"without one: the first line may be dropped, or the file refused. Save the\n" +
			"Procfile as UTF-8 without a byte-order mark.")
	}
	if len(a.WebLines) > 1 {
		p.Warning(fmt.Sprintf("Your Procfile defines the web process %d times (lines %s).\n"+
			"Heroku runs the last one, which is the one checked here:\n\n  web: %s\n\n"+
			"Remove the others.", len(a.WebLines), lineList(a.WebLines), a.Web))
	}
	m := a.Mesh
	var text []string
	switch a.Kind {
	case OK:
		p.Detail("The web process starts the service mesh:\n  web: %s", a.Web)
	case Legacy:
		text = append(text, fmt.Sprintf("Your Procfile's web process starts the mesh as\n\n  %s\n\n"+
			"a name this buildpack links only so that old Procfiles keep working. It\n"+
			"breaks when the architecture or the version changes: use the plain name,\n%s.", a.Name, m.Name))
	case OtherName:
		text = append(text, fmt.Sprintf("Your Procfile's web process starts\n\n  %s\n\n"+
			"which this build did not install, so the web process will not start. This\n"+
			"build installed %s %s for %s, also linked as:\n\n  %s\n\n"+
			"Use the plain name.", a.Name, m.Name, m.Version, m.Arch, strings.Join(m.Links, "\n  ")))
	case Indirect:
		p.Detail("The web process mentions the service mesh, but the build cannot tell how it\n"+
			"starts it:\n  web: %s\nMake sure the mesh starts your app, with the app on APP_PORT.", a.Web)
		return
	case NoCommand:
		p.Warning(fmt.Sprintf("Your Procfile's web process runs %s with no app command:\n\n  web: %s\n\n"+
			"The mesh starts your app: put the app's start command after it, e.g.\n\n"+
			"  web: APP_PORT=%s %s npm start", a.Name, a.Web, m.forwardPort(), m.Name))
		return
	case NotWrapped:
		start := "Start it through the mesh instead:"
		if a.Script {
			start = "Put the commands in a script, start.sh, and start it through the mesh:"
		}
		p.Warning(fmt.Sprintf("Your Procfile's web process does not start the service mesh, so\n"+
			"requests from Salesforce will not reach your app:\n\n  web: %s\n\n%s\n\n  %s\n\n"+
			"The mesh listens on $PORT and forwards to your app on APP_PORT: the app must\n"+
			"listen on %s.", a.Web, start, a.Suggested, a.AppPort))
		return
	case NoWeb:
		p.Warning(fmt.Sprintf("Your Procfile has no web process. AppLink needs the web process\n"+
			"started through the service mesh, for example:\n\n  %s", a.Suggested))
		return
	case Missing:
		p.Warning(fmt.Sprintf("Your app has no Procfile. AppLink needs a web process started through\n"+
			"the service mesh. Add a Procfile with a line such as:\n\n  %s", a.Suggested))
		return
	case Unreadable:
		p.Warning(fmt.Sprintf("The Procfile was not checked: %s.", a.Reason))
		return
	}
	for _, problem := range a.Problems {
		text = append(text, problemText(problem, a))
	}
	if len(text) == 0 {
		return
	}
	switch {
	case a.Script:
		text = append(text, "Put the app's command in a script, start.sh, and start that:\n\n  "+a.Suggested)
	case a.Suggested != "":
		text = append(text, "Use this line instead:\n\n  "+a.Suggested)
	}
	p.Warning(strings.Join(text, "\n\n"))
}

func problemText(problem Problem, a Advice) string {
	switch problem {
	case AppUsesPORT:
		return "Your app's command refers to $PORT, but the mesh listens on $PORT. The app\n" +
			"must listen on the port the mesh forwards to, APP_PORT (" + portDesc(a.AppPort) + "), or\n" +
			"the two collide and requests fail."
	case AppPortTrap:
		return "Your app's command refers to $APP_PORT, but APP_PORT is set only for the\n" +
			"mesh's command: the shell expands $APP_PORT before that assignment takes\n" +
			"effect, so the app gets no port (or the config var's). Give the app the\n" +
			"port itself."
	case AppPortUnset:
		return "Your app's command refers to $APP_PORT, but no config var or assignment\n" +
			"sets APP_PORT, so it expands to nothing. The mesh forwards to " + forwardDesc(a) + "."
	case QuotedCommand:
		return "The command after the mesh is one quoted string. The mesh runs it\n" +
			"without a shell, as a single program name, so it will not start."
	case AppPortNotExported:
		return "An earlier command assigns APP_PORT without exporting it: your app's\n" +
			"$APP_PORT has that value, but the mesh does not see it, and forwards to " + forwardDesc(a) + "."
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
			"to, APP_PORT (" + portDesc(a.AppPort) + "): every request would fail with a 502."
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
func forwardDesc(a Advice) string {
	if slices.Contains(a.Mesh.ConfigVars, "APP_PORT") {
		return "the APP_PORT config var's port"
	}
	if a.Mesh.AppPort != "" {
		return a.Mesh.AppPort + " (app.port in heroku-applink-service-mesh.yaml)"
	}
	return defaultAppPort
}

func lineList(lines []int) string {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = fmt.Sprint(l)
	}
	if len(s) == 2 {
		return s[0] + " and " + s[1]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
