package advice

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// Input is what the checks look at.
type Input struct {
	AppDir        string   // the build dir, or the CNB app dir
	Names         []string // every name the mesh was installed under: the plain one first
	Version, Arch string   // what was installed; Version may be "latest"
	EnvDir        string   // the config vars' folder (ENV_DIR, CNB's env), or "": names only are read
	Image         bool     // a CNB build: config vars come only when there are some; it may run off Heroku
}

// Check runs the checks, prints their advice and returns its kinds, for the build report.
func Check(p *output.Printer, in Input) []string {
	app, err := fsutil.OpenRoot(in.AppDir)
	if err != nil {
		p.Warning("The app's Procfile and mesh config were not checked: " + reason(err) + ".")
		return []string{"app-unreadable"}
	}
	defer app.Close()
	vars, listErr := configVars(in.EnvDir, in.Image)
	m := mesh{Names: in.Names, Version: in.Version, Arch: in.Arch, ConfigVars: vars, App: app}
	data, readErr := fsutil.ReadFile(app, "Procfile", 64<<10)
	// Where web starts the mesh picks its config file, whose app.port the advice uses.
	start := m.inspect(data, readErr).web()
	conf := checkConfig(app, start.Dir, start.DirUnknown)
	m.AppPort, m.PortUnknown = conf.appPort, conf.found && !conf.read
	a := m.inspect(data, readErr)
	conf.against(a.web().AppPortSet, slices.Contains(vars, "APP_PORT"))
	return slices.Concat(a.report(p), conf.report(p), addon(p, vars, listErr, in.Image))
}

const apiURL, token = "HEROKU_APPLINK_API_URL", "HEROKU_APPLINK_TOKEN"

// configVars reads names only, a batch at a time; nil: the build cannot see the config.
func configVars(dir string, image bool) (vars []string, err error) {
	d, err := os.Open(dir)
	if dir == "" || errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer d.Close()
	vars, others, seen := []string{}, 0, 0
	for entries, err := d.ReadDir(1024); !errors.Is(err, io.EOF); entries, err = d.ReadDir(1024) {
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			seen++
			switch name := e.Name(); {
			case e.IsDir() || !isName(name):
			case name == apiURL || name == token || name == "APP_PORT":
				vars = append(vars, name)
			case others < 1000 && (strings.HasSuffix(name, "_API_URL") || strings.HasSuffix(name, "_TOKEN")): // perhaps the add-on, named otherwise
				vars, others = append(vars, name), others+1
			}
		}
	}
	if image && seen == 0 {
		return nil, nil
	}
	slices.Sort(vars)
	return vars, nil
}

func addon(p *output.Printer, vars []string, listErr error, image bool) []string {
	hasURL, hasToken := slices.Contains(vars, apiURL), slices.Contains(vars, token)
	if vars == nil && listErr == nil || hasURL && hasToken {
		return nil
	}
	p.Step("Checking the AppLink add-on")
	if listErr != nil {
		p.Detail("The app's config vars could not be listed (%s), so the build\ncannot tell whether the AppLink add-on is attached.", reason(listErr))
		return []string{"addon-not-checked"}
	}
	var pairs []string
	for _, n := range vars {
		if prefix, ok := strings.CutSuffix(n, "_API_URL"); ok && prefix != "" && slices.Contains(vars, prefix+"_TOKEN") && len(pairs) < 3 {
			pairs = append(pairs, "  "+n+" and "+prefix+"_TOKEN")
		}
	}
	exits, kind, text := "it exits at boot without them (\"Heroku AppLink add-on config vars not set\")", "addon-partial", ""
	switch {
	case hasURL || hasToken:
		present, absent := apiURL, token
		if hasToken {
			present, absent = token, apiURL
		}
		text = "The app has " + present + " but not " + absent + ". The service mesh\nneeds both: " + exits + ".\nRestore the missing config var, or attach the add-on again."
	case len(pairs) == 0:
		kind, text = "addon-missing", "The AppLink add-on is not attached: the app has neither\n"+apiURL+" nor "+token+", and the service mesh exits at boot\nwithout them (\"Heroku AppLink add-on config vars not set\"). Attach it:\n\n  heroku addons:create heroku-applink"
	default:
		kind, text = "addon-other-name", "The app has neither "+apiURL+" nor "+token+", which the\nservice mesh reads: "+exits+".\nThese may be the AppLink add-on attached under another name, or another\nadd-on's or your own config vars (the build reads names only):\n\n"+strings.Join(pairs, "\n")+
			"\n\nIf one is the AppLink add-on, attach it as HEROKU_APPLINK too:\n\n  heroku addons:attach <add-on name> --as HEROKU_APPLINK\n\nIf none is, the add-on is not attached. Attach it:\n\n  heroku addons:create heroku-applink"
	}
	if image {
		text += "\n\nWhen you run the image yourself, set both in its environment instead."
	}
	p.Warning(text)
	return []string{kind}
}
