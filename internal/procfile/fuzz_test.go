package procfile_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/procfile"
)

// FuzzProcfile: any Procfile parses or fails cleanly; the advice for it is
// consistent; and a suggested line, written back as the Procfile, draws no
// advice at all.
func FuzzProcfile(f *testing.F) {
	for _, s := range []string{
		"web: APP_PORT=3000 heroku-applink-service-mesh npm start\n",
		"# c\nweb: heroku-applink-service-mesh --port $PORT -- uvicorn app:app\nworker: x\n",
		"web: heroku-applink-service-mesh-latest-amd64 npm start",
		"web: npm start", "worker: x", "web:", "\x00", "web: a && b ; heroku-applink-service-mesh c",
		"\uFEFFweb: gunicorn --bind 0.0.0.0:${PORT:-5000}\r\nweb: x\r\n",
		"web: APP_PORT=3000 heroku-applink-service-mesh app --port $APP_PORT",
		`web: heroku-applink-service-mesh "java $JAVA_OPTS -jar x.jar"`,
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
		// Unknown config, no APP_PORT, and an APP_PORT config var.
		for _, vars := range [][]string{nil, {}, {"APP_PORT"}} {
			m := mesh
			m.ConfigVars = vars
			a := procfile.Advise(p, m)
			if a.Suggested == "" || strings.Contains(a.Suggested, "<your app") {
				continue
			}
			again, err := procfile.Parse(strings.NewReader(a.Suggested))
			if err != nil {
				t.Fatalf("suggestion %q does not parse: %v", a.Suggested, err)
			}
			b := procfile.Advise(again, m)
			if b.Kind != procfile.OK || len(b.Problems) > 0 || b.Suggested != "" {
				t.Fatalf("suggestion %q for %q draws advice: kind %d, problems %v, suggested %q", a.Suggested, data, b.Kind, b.Problems, b.Suggested)
			}
		}
	})
}
