package advice

import (
	"slices"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/addon"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/meshconfig"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/procfile"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
)

// Input is what the checks look at.
type Input struct {
	// AppDir is the app's source: the build dir, or the CNB app dir.
	AppDir string
	// Release is what the build installed.
	Release install.Release
	// ConfigVars are the app's config var names, nil when the build cannot
	// see them. Only names: no value is ever read.
	ConfigVars []string
	// Image is set for a CNB build, whose image may run outside Heroku.
	Image bool
}

// Check runs every check, prints its advice and returns the kinds of
// advice given, for the build report.
func Check(p *output.Printer, in Input) []string {
	mesh := procfile.Mesh{
		Name:       source.MeshBinary,
		Links:      source.LinkNames(in.Release.Version, in.Release.Arch),
		Version:    in.Release.Version,
		Arch:       in.Release.Arch,
		ConfigVars: in.ConfigVars,
	}
	// The mesh reads its config file where the web process starts it (a
	// "cd" may move it), and the file's app.port is where the mesh
	// forwards without APP_PORT, which the Procfile advice gives the app:
	// the Procfile is read for the one, then advised on with the other.
	var conf meshconfig.Result
	if start := procfile.Inspect(in.AppDir, mesh); start.DirUnknown {
		conf = meshconfig.Unknown(in.AppDir)
	} else {
		conf = meshconfig.CheckIn(in.AppDir, start.Dir)
	}
	mesh.AppPort, mesh.PortUnknown = conf.AppPort, conf.Found && !conf.Read
	a := procfile.Inspect(in.AppDir, mesh)
	procfile.Report(p, a)
	kinds := a.Kinds()

	conf.Against(meshconfig.AppPort{Procfile: a.AppPortSet, ConfigVar: slices.Contains(in.ConfigVars, "APP_PORT")})
	kinds = append(kinds, meshconfig.Report(p, conf)...)

	if in.ConfigVars != nil {
		r := addon.Check(in.ConfigVars)
		addon.Report(p, r, in.Image)
		if k := r.Kind(); k != "" {
			kinds = append(kinds, k)
		}
	}
	return kinds
}
