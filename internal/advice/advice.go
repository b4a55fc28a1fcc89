package advice

import (
	"os"
	"slices"
	"sort"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/addon"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/meshconfig"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/procfile"
)

// Input is what the checks look at.
type Input struct {
	// AppDir is the app's source: the build dir, or the CNB app dir.
	AppDir string
	// Names are the names the mesh was installed under, the plain one
	// first.
	Names []string
	// Version and Arch are what was installed.
	Version, Arch string
	// EnvDir holds the app's config vars, one file each; "" when the
	// platform passes none.
	EnvDir string
	// Image is set for a CNB build, whose image may run outside Heroku.
	Image bool
}

// Check runs every check, prints its advice and returns the kinds of
// advice given, for the build report.
func Check(p *output.Printer, in Input) []string {
	configVars := varNames(in.EnvDir, in.Image)
	mesh := procfile.Mesh{
		Name:       in.Names[0],
		Links:      in.Names[1:],
		Version:    in.Version,
		Arch:       in.Arch,
		ConfigVars: configVars,
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

	conf.Against(meshconfig.AppPort{Procfile: a.AppPortSet, ConfigVar: slices.Contains(configVars, "APP_PORT")})
	kinds = append(kinds, meshconfig.Report(p, conf)...)

	if configVars != nil {
		r := addon.Check(configVars)
		addon.Report(p, r, in.Image)
		if k := r.Kind(); k != "" {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// varNames lists the config var names in dir, or nil when they cannot be
// seen (on CNB, an empty folder says nothing either).
func varNames(dir string, image bool) []string {
	d, err := os.Open(dir)
	if dir == "" || err != nil {
		return nil
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil || (image && len(names) == 0) {
		return nil
	}
	sort.Strings(names)
	return names
}
