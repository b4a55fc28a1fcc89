package advice

import (
	"os"
	"strings"
	"testing"
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
		p, err := parseProcfile(data)
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
			m := installed
			m.ConfigVars = vars
			for _, proc := range advise(p, m).Processes {
				if proc.Suggested == "" || strings.Contains(proc.Suggested, "<your app") {
					continue
				}
				again, err := parseProcfile([]byte(proc.Suggested))
				if err != nil {
					t.Fatalf("suggestion %q does not parse: %v", proc.Suggested, err)
				}
				for _, b := range advise(again, m).Processes {
					if b.Kind != noWeb && (b.Kind != started || len(b.Problems) > 0 || b.Suggested != "") {
						t.Fatalf("suggestion %q for %q draws advice: kind %q, problems %v, suggested %q", proc.Suggested, data, b.Kind.name, b.Problems, b.Suggested)
					}
				}
			}
		}
	})
}

// FuzzMeshConfig: any file is checked without a panic, and the verdict is
// whole: a file the mesh refuses says why; one it reads has no structural
// finding and names where the mesh forwards only with a port number.
func FuzzMeshConfig(f *testing.F) {
	for _, s := range []string{
		"app:\n  port: 3000\n", "mesh:\n  authentication:\n    bypassRoutes: [/a, b, '/*']\n", "~", "", "---\n---\n",
		"app: {<<: {bogus: 1}}\n", "a: &x [*x]\n", "app: [\n", "\tapp: 1", "app:\n  port: 1\napp:\n  port: 2\n",
		"app: &x {<<: *x}\n", "app: &a {<<: &b {<<: *a}}\n", "mesh: &m {authentication: *m}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := writeFile(dir, configName, data); err != nil {
			t.Fatal(err)
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		r := checkConfig(root, "", false)
		switch {
		case !r.found:
			t.Fatal("the file was not found")
		case r.fatal && len(r.decoded) == 0:
			t.Fatalf("refused without a reason: %q", data)
		case !r.fatal && len(r.decoded) > 0:
			t.Fatalf("read, yet with structural findings %v: %q", r.decoded, data)
		case r.fatal && (len(r.bypass) > 0 || r.appPort != ""):
			t.Fatalf("refused, yet with routes or a port: %q", data)
		}
	})
}
