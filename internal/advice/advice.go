package advice

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/meshconfig"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/procfile"
)

// Input is what the checks look at.
type Input struct {
	// AppDir is the app's source: the build dir, or the CNB app dir.
	AppDir string
	// Names are every name the mesh was installed under: the plain name
	// first, then its links.
	Names []string
	// Version and Arch are what was installed; Version may be "latest".
	Version, Arch string
	// EnvDir is the folder of the app's config vars (ENV_DIR, or the CNB
	// platform's env), or "" when the platform passes none. Only names are
	// read from it, never a value.
	EnvDir string
	// Image is set for a CNB build, whose image may run outside Heroku, and
	// whose platform passes config vars only when it has some.
	Image bool
}

// Check runs every check, prints its advice and returns the kinds of
// advice given, for the build report.
func Check(p *output.Printer, in Input) []string {
	app, err := os.OpenRoot(in.AppDir)
	if err != nil {
		p.Warning("The app's Procfile and mesh config were not checked: " + procfile.Reason(err) + ".")
		return []string{"app-unreadable"}
	}
	defer app.Close()
	vars, listed := configVars(in.EnvDir, in.Image)
	mesh := procfile.Mesh{Names: in.Names, Version: in.Version, Arch: in.Arch, ConfigVars: vars, App: app}
	// The mesh reads its config file where the web process starts it (a
	// "cd" may move it), and the file's app.port is where the mesh
	// forwards without APP_PORT, which the Procfile advice gives the app:
	// the Procfile is read for the one, then advised on with the other.
	start := procfile.Inspect(mesh).Web()
	conf := meshconfig.Check(app, start.Dir, start.DirUnknown)
	mesh.AppPort, mesh.PortUnknown = conf.AppPort, conf.Found && !conf.Read
	a := procfile.Inspect(mesh)
	procfile.Report(p, a)
	kinds := a.Kinds()

	conf.Against(meshconfig.AppPort{Procfile: a.Web().AppPortSet, ConfigVar: slices.Contains(vars, "APP_PORT")})
	kinds = append(kinds, meshconfig.Report(p, conf)...)
	if k := addon(p, vars, listed, in.Image); k != "" {
		kinds = append(kinds, k)
	}
	return kinds
}

// The config vars the add-on sets, which the mesh needs at boot.
const (
	apiURL = "HEROKU_APPLINK_API_URL"
	token  = "HEROKU_APPLINK_TOKEN"
)

// maxOthers bounds the names kept that may be the add-on's under another
// attachment name.
const maxOthers = 1000

// configVars lists the names of the app's config vars the checks need:
// the add-on's, APP_PORT, and pairs that may be the add-on's under another
// name. It reads every name, a batch at a time, and opens no file, so a
// value is never read. vars is nil when the build cannot see the config:
// no folder, or, on CNB, none or an empty one, which the platform passes
// only when the app has config; err says why a folder was not listed.
func configVars(dir string, image bool) (vars []string, err error) {
	if dir == "" {
		return nil, nil
	}
	d, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer d.Close()
	vars, others, seen := []string{}, 0, 0
	for {
		entries, err := d.ReadDir(1024)
		for _, e := range entries {
			name := e.Name()
			seen++
			switch {
			case e.IsDir() || !validName(name):
			case name == apiURL || name == token || name == "APP_PORT":
				vars = append(vars, name)
			case others < maxOthers && (strings.HasSuffix(name, "_API_URL") || strings.HasSuffix(name, "_TOKEN")):
				vars, others = append(vars, name), others+1
			}
		}
		if errors.Is(err, io.EOF) || err == nil && len(entries) == 0 {
			break
		} else if err != nil {
			return nil, err
		}
	}
	if image && seen == 0 {
		return nil, nil
	}
	slices.Sort(vars)
	return vars, nil
}

// validName is an environment variable name a platform would export.
func validName(s string) bool {
	return s != "" && s[0] > '9' && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == ""
}

// exitText is what the mesh prints when it exits for want of the add-on.
const exitText = `"Heroku AppLink add-on config vars not set"`

// maxAttachments bounds the other names listed.
const maxAttachments = 3

// addon says what the config var names tell of the AppLink add-on, and
// returns the kind of advice given, "" for none. Nothing is said when the
// build cannot see the names; that it could not list them, when it tried.
func addon(p *output.Printer, vars []string, listed error, image bool) string {
	hasURL, hasToken := slices.Contains(vars, apiURL), slices.Contains(vars, token)
	if vars == nil && listed == nil || hasURL && hasToken {
		return ""
	}
	p.Step("Checking the AppLink add-on")
	if listed != nil {
		p.Detail("The app's config vars could not be listed (%s), so the build\ncannot tell whether the AppLink add-on is attached.", procfile.Reason(listed))
		return "addon-not-checked"
	}
	elsewhere := ""
	if image {
		elsewhere = "\n\nWhen you run the image yourself, set both in its environment instead."
	}
	switch {
	case hasURL || hasToken:
		present, absent := apiURL, token
		if hasToken {
			present, absent = token, apiURL
		}
		p.Warning("The app has " + present + " but not " + absent + ". The service mesh\n" +
			"needs both: it exits at boot without them (" + exitText + ").\n" +
			"Restore the missing config var, or attach the add-on again." + elsewhere)
		return "addon-partial"
	}
	var pairs []string
	for _, n := range vars {
		if prefix, ok := strings.CutSuffix(n, "_API_URL"); ok && prefix != "" && slices.Contains(vars, prefix+"_TOKEN") && len(pairs) < maxAttachments {
			pairs = append(pairs, "  "+n+" and "+prefix+"_TOKEN")
		}
	}
	if len(pairs) > 0 {
		p.Warning("The app has neither " + apiURL + " nor " + token + ", which the\n" +
			"service mesh reads: it exits at boot without them (" + exitText + ").\n" +
			"These may be the AppLink add-on attached under another name, or another\n" +
			"add-on's or your own config vars (the build reads names only):\n\n" + strings.Join(pairs, "\n") + "\n\n" +
			"If one is the AppLink add-on, attach it as HEROKU_APPLINK too:\n\n" +
			"  heroku addons:attach <add-on name> --as HEROKU_APPLINK\n\n" +
			"If none is, the add-on is not attached. Attach it:\n\n  heroku addons:create heroku-applink" + elsewhere)
		return "addon-other-name"
	}
	p.Warning("The AppLink add-on is not attached: the app has neither\n" +
		apiURL + " nor " + token + ", and the service mesh exits at boot\n" +
		"without them (" + exitText + "). Attach it:\n\n  heroku addons:create heroku-applink" + elsewhere)
	return "addon-missing"
}
