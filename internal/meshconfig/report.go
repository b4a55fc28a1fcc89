package meshconfig

import (
	"fmt"
	"strings"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// Report prints what Check found, and returns the kinds of advice given.
// An app with no config file, and no copy of one, gets no output.
func Report(p *output.Printer, r Result) []string {
	if !r.Found && len(r.Warnings) == 0 {
		return nil
	}
	var kinds []string
	p.Step("Checking %s", r.Path)
	if r.Fatal {
		var lines []string
		for _, f := range r.Structure {
			kinds = append(kinds, string(f.Kind))
			lines = append(lines, "  "+describe(f))
		}
		how := "it reads the\nfile strictly, and exits at boot with \"Invalid YAML config\":"
		if r.Null {
			how = "it reads the\nfile as no config at all, and crashes at boot (a nil pointer dereference):"
		}
		p.Warning(fmt.Sprintf("The service mesh will not start with %s: %s\n\n%s\n\n"+
			"Fix the file, or remove it to use the mesh's defaults.", r.Path, how, strings.Join(lines, "\n")))
	}
	for _, f := range r.Warnings {
		kinds = append(kinds, string(f.Kind))
		p.Warning(f.Text)
	}
	if !r.Read || r.Fatal {
		// Nothing is known of the routes of a file that was not read.
		return kinds
	}
	if len(r.Bypass) == 0 {
		p.Detail("No route skips AppLink authentication: every request must come from\nSalesforce through AppLink.")
		return kinds
	}
	routes := make([]string, len(r.Bypass))
	for i, route := range r.Bypass {
		routes[i] = "  " + route.Path
		if route.Health {
			routes[i] += " (the health check)"
		}
	}
	p.Detail("Routes that skip AppLink authentication:\n%s\nEvery other route answers 401 unless the request comes from Salesforce\nthrough AppLink.", strings.Join(routes, "\n"))
	return kinds
}
