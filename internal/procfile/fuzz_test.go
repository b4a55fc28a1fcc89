package procfile_test

import (
	"strings"
	"testing"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/procfile"
)

// FuzzProcfile: any Procfile parses or fails cleanly; the advice for it is
// consistent; and every suggested line, written back as the Procfile,
// parses and draws no advice at all.
func FuzzProcfile(f *testing.F) {
	for _, s := range []string{
		"web: APP_PORT=3000 heroku-applink-service-mesh npm start\n",
		"# c\nweb: heroku-applink-service-mesh --port $PORT -- uvicorn app:app\nworker: x\n",
		"web: heroku-applink-service-mesh-latest-amd64 npm start",
		"web: npm start", "worker: x", "web:", "\x00", "web: a && b ; heroku-applink-service-mesh c",
		"\uFEFFweb: gunicorn --bind 0.0.0.0:${PORT:-5000}\r\nweb: x\r\n",
		"web: APP_PORT=3000 heroku-applink-service-mesh app --port $APP_PORT",
		`web: heroku-applink-service-mesh "java $JAVA_OPTS -jar x.jar"`,
		"web: web: sh -c 'cd api && exec env -u PORT heroku-applink-service-mesh node x -p$PORT'",
		"mesh: nice APP_PORT=$'4000' heroku-applink-service-mesh \"./my app\" || true &",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := procfile.Parse(data)
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
			for _, proc := range procfile.Advise(p, m).Processes {
				if proc.Suggested == "" || strings.Contains(proc.Suggested, "<your app") {
					continue
				}
				again, err := procfile.Parse([]byte(proc.Suggested))
				if err != nil {
					t.Fatalf("suggestion %q does not parse: %v", proc.Suggested, err)
				}
				for _, b := range procfile.Advise(again, m).Processes {
					if b.Kind != procfile.OK || len(b.Problems) > 0 || b.Suggested != "" {
						t.Fatalf("suggestion %q for %q draws advice: kind %q, problems %v, suggested %q", proc.Suggested, data, b.Kind, b.Problems, b.Suggested)
					}
				}
			}
		}
	})
}
