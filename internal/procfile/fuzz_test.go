package procfile_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/procfile"
)

// FuzzProcfile: any Procfile parses or fails cleanly, and the advice for it
// is consistent.
func FuzzProcfile(f *testing.F) {
	for _, s := range []string{
		"web: APP_PORT=3000 heroku-applink-service-mesh npm start\n",
		"# c\nweb: heroku-applink-service-mesh --port $PORT -- uvicorn app:app\nworker: x\n",
		"web: heroku-applink-service-mesh-latest-amd64 npm start",
		"web: npm start", "worker: x", "web:", "\x00", "web: a && b ; heroku-applink-service-mesh c",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := procfile.Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, typ := range p.Types {
			if _, ok := p.Commands[typ]; !ok {
				t.Fatalf("type %q without a command", typ)
			}
		}
		a := procfile.Advise(p, mesh)
		switch a.Kind {
		case procfile.NotWrapped, procfile.Legacy, procfile.NoWeb:
			if !strings.Contains(a.Suggested, " "+mesh+" ") && !strings.HasSuffix(a.Suggested, " "+mesh) {
				t.Fatalf("suggestion %q does not start the mesh", a.Suggested)
			}
		}
	})
}
