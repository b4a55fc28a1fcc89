package procfile

import (
	"fmt"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// Report prints the advice. Only a correct Procfile is a plain detail; every
// other outcome is a warning, because each one means Salesforce requests
// will not reach the app through the mesh.
func Report(p *output.Printer, a Advice, binary string) {
	p.Step("Checking Procfile")
	switch a.Kind {
	case OK:
		p.Detail("The web process starts the service mesh:\n  web: %s", a.Web)
		for _, problem := range a.Problems {
			switch problem {
			case AppUsesPORT:
				p.Warning("Your app's command refers to $PORT, but the mesh listens on $PORT.\n" +
					"The app must listen on $APP_PORT (3000 unless you set it), or the two\n" +
					"collide and requests fail. Use $APP_PORT in the app's command.")
			case QuotedCommand:
				p.Warning("The command after the mesh is one quoted string. The mesh runs it\n" +
					"without a shell, as a single program name, so it will not start.\n" +
					"Drop the quotes, or put the command in a script and run that:\n\n" +
					"  web: APP_PORT=3000 " + binary + " ./start.sh")
			}
		}
	case Legacy:
		p.Warning(fmt.Sprintf("Your Procfile's web process uses %s,\n"+
			"an architecture-specific name kept only so old Procfiles keep working.\n"+
			"Use the well-known name, which works on every architecture:\n\n  %s", a.Name, a.Suggested))
	case NoCommand:
		p.Warning(fmt.Sprintf("Your Procfile's web process runs %s with no app command:\n\n  web: %s\n\n"+
			"The mesh starts your app: put the app's start command after it, e.g.\n\n"+
			"  web: APP_PORT=3000 %s npm start", binary, a.Web, binary))
	case NotWrapped:
		p.Warning(fmt.Sprintf("Your Procfile's web process does not start the service mesh, so\n"+
			"requests from Salesforce will not reach your app:\n\n  web: %s\n\n"+
			"Start it through the mesh instead:\n\n  %s\n\n"+
			"The mesh listens on $PORT; your app must listen on $APP_PORT.", a.Web, a.Suggested))
	case NoWeb:
		p.Warning(fmt.Sprintf("Your Procfile has no web process. AppLink needs the web process\n"+
			"started through the service mesh, for example:\n\n  %s", a.Suggested))
	case Missing:
		p.Warning(fmt.Sprintf("Your app has no Procfile. AppLink needs a web process started through\n"+
			"the service mesh. Add a Procfile with a line such as:\n\n  %s", a.Suggested))
	case Unreadable:
		p.Warning(fmt.Sprintf("The Procfile was not checked: %s.", a.Reason))
	}
}
