package addon

import (
	"fmt"
	"slices"
	"strings"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// The config vars the add-on sets, which the mesh needs at boot.
const (
	APIURL = "HEROKU_APPLINK_API_URL"
	Token  = "HEROKU_APPLINK_TOKEN"
)

// Status is what the names say.
type Status int

// From attached to absent.
const (
	Attached Status = iota
	// Partial: one of the two is set.
	Partial
	// OtherName: neither is set, but an <ATTACHMENT>_API_URL and
	// <ATTACHMENT>_TOKEN pair is: the add-on may be attached under
	// another name, which the mesh does not read.
	OtherName
	Missing
)

// Result is the check's finding.
type Result struct {
	Status Status
	// Attachments are the other names found, for OtherName.
	Attachments []string
	// Absent is the missing name, for Partial.
	Absent string
}

// maxAttachments bounds the names listed.
const maxAttachments = 3

// Check looks at the config var names.
func Check(names []string) Result {
	hasURL, hasToken := slices.Contains(names, APIURL), slices.Contains(names, Token)
	switch {
	case hasURL && hasToken:
		return Result{Status: Attached}
	case hasURL:
		return Result{Status: Partial, Absent: Token}
	case hasToken:
		return Result{Status: Partial, Absent: APIURL}
	}
	var attachments []string
	for _, n := range names {
		if prefix, ok := strings.CutSuffix(n, "_API_URL"); ok && prefix != "" && slices.Contains(names, prefix+"_TOKEN") {
			attachments = append(attachments, prefix)
		}
	}
	if len(attachments) > 0 {
		return Result{Status: OtherName, Attachments: attachments[:min(len(attachments), maxAttachments)]}
	}
	return Result{Status: Missing}
}

// Kind names the advice, for the build report; "" when there is none.
func (r Result) Kind() string {
	return map[Status]string{Partial: "addon-partial", OtherName: "addon-other-name", Missing: "addon-missing"}[r.Status]
}

// exitText is what the mesh prints when it exits for want of the add-on.
const exitText = `"Heroku AppLink add-on config vars not set"`

// Report prints the finding: nothing when the add-on's config vars are
// set. image says the build makes an image that may run outside Heroku,
// where the vars are set when it runs.
func Report(p *output.Printer, r Result, image bool) {
	if r.Status == Attached {
		return
	}
	p.Step("Checking the AppLink add-on")
	elsewhere := ""
	if image {
		elsewhere = "\n\nWhen you run the image yourself, set both in its environment instead."
	}
	switch r.Status {
	case Partial:
		present := APIURL
		if r.Absent == APIURL {
			present = Token
		}
		p.Warning(fmt.Sprintf("The app has %s but not %s. The service mesh\n"+
			"needs both: it exits at boot without them (%s).\n"+
			"Restore the missing config var, or attach the add-on again.%s", present, r.Absent, exitText, elsewhere))
	case OtherName:
		pairs := make([]string, len(r.Attachments))
		for i, a := range r.Attachments {
			pairs[i] = fmt.Sprintf("  %s_API_URL and %s_TOKEN", a, a)
		}
		p.Warning(fmt.Sprintf("The app has neither %s nor %s, which the\n"+
			"service mesh reads: it exits at boot without them (%s).\n"+
			"These may be the AppLink add-on attached under another name, or another\n"+
			"add-on's or your own config vars (the build reads names only):\n\n%s\n\n"+
			"If one is the AppLink add-on, attach it as HEROKU_APPLINK too:\n\n"+
			"  heroku addons:attach <add-on name> --as HEROKU_APPLINK\n\n"+
			"If none is, the add-on is not attached. Attach it:\n\n  heroku addons:create heroku-applink%s",
			APIURL, Token, exitText, strings.Join(pairs, "\n"), elsewhere))
	case Missing:
		p.Warning(fmt.Sprintf("The AppLink add-on is not attached: the app has neither\n"+
			"%s nor %s, and the service mesh exits at boot\n"+
			"without them (%s). Attach it:\n\n  heroku addons:create heroku-applink%s",
			APIURL, Token, exitText, elsewhere))
	}
}
