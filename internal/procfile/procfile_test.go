package procfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/procfile"
)

const mesh = "heroku-applink-service-mesh"

func TestParse(t *testing.T) {
	in := "# $PORT is used by the mesh\n\nweb: APP_PORT=3000 heroku-applink-service-mesh npm start\r\n" +
		"worker :   pnpm worker  \n  release:rake db:migrate\nnot a process line\nweb: overridden\nempty:\n"
	p, err := procfile.Parse(strings.NewReader(in))
	require.NoError(t, err)
	require.Equal(t, []string{"web", "worker", "release"}, p.Types)
	want := map[string]string{"web": "overridden", "worker": "pnpm worker", "release": "rake db:migrate"}
	if diff := cmp.Diff(want, p.Commands); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"binary": "web: x\x00y", "not utf-8": "web: \xff\xfe", "huge": strings.Repeat("# padding\n", 10_000),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := procfile.Parse(strings.NewReader(in))
			require.Error(t, err)
		})
	}
}

func TestAdvise(t *testing.T) {
	tests := []struct {
		name      string
		procfile  string
		want      procfile.Kind
		suggested string
	}{
		{"APP_PORT prefix", "web: APP_PORT=3000 heroku-applink-service-mesh npm start", procfile.OK, ""},
		{"port flag", "web: heroku-applink-service-mesh --port $PORT -- uvicorn app:app --port 3000", procfile.OK, ""},
		{"export chain", "web: export APP_PORT=3000 && heroku-applink-service-mesh npm start", procfile.OK, ""},
		{"absolute path", "web: /app/vendor/heroku-applink/bin/heroku-applink-service-mesh npm start", procfile.OK, ""},
		{"comment first", "# comment\nweb: heroku-applink-service-mesh npm start\nworker: pnpm worker", procfile.OK, ""},
		{"legacy name", "web: APP_PORT=3000 heroku-applink-service-mesh-latest-amd64 npm start", procfile.Legacy,
			"web: APP_PORT=3000 heroku-applink-service-mesh npm start"},
		{"versioned name", "web: heroku-applink-service-mesh-v0.2.2-arm64 npm start", procfile.Legacy,
			"web: heroku-applink-service-mesh npm start"},
		{"legacy name after a carriage return", "web:\rheroku-applink-service-mesh-latest-amd64", procfile.Legacy,
			"web: heroku-applink-service-mesh"},
		{"legacy name with a path", "web: /app/vendor/heroku-applink/bin/heroku-applink-service-mesh-latest-amd64  npm start", procfile.Legacy,
			"web: /app/vendor/heroku-applink/bin/heroku-applink-service-mesh npm start"},
		{"no command", "web: APP_PORT=3000 heroku-applink-service-mesh", procfile.NoCommand, ""},
		{"not wrapped", "web: npm start", procfile.NotWrapped, "web: APP_PORT=3000 heroku-applink-service-mesh npm start"},
		{"not wrapped keeps env", "web: NODE_ENV=production APP_PORT=8080 node app.js", procfile.NotWrapped,
			"web: NODE_ENV=production APP_PORT=8080 heroku-applink-service-mesh node app.js"},
		{"mesh as an argument only", "web: echo heroku-applink-service-mesh", procfile.NotWrapped,
			"web: APP_PORT=3000 heroku-applink-service-mesh echo heroku-applink-service-mesh"},
		{"no web", "worker: pnpm worker", procfile.NoWeb, "web: APP_PORT=3000 heroku-applink-service-mesh <your app's start command>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := procfile.Parse(strings.NewReader(tt.procfile))
			require.NoError(t, err)
			a := procfile.Advise(p, mesh)
			require.Equal(t, tt.want, a.Kind)
			require.Equal(t, tt.suggested, a.Suggested)
		})
	}
}

func TestAppProblems(t *testing.T) {
	tests := []struct {
		web  string
		want []procfile.Problem
	}{
		{"APP_PORT=3000 heroku-applink-service-mesh npm start", nil},
		{"heroku-applink-service-mesh --port $PORT -- uvicorn app:app --port 3000", nil},
		{"heroku-applink-service-mesh -p $PORT uvicorn app:app --port $APP_PORT", nil},
		{"heroku-applink-service-mesh --port=$PORT -- gunicorn --bind 0.0.0.0:${APP_PORT}", nil},
		{"APP_PORT=3000 heroku-applink-service-mesh gunicorn --bind 0.0.0.0:$PORT app:app", []procfile.Problem{procfile.AppUsesPORT}},
		{"heroku-applink-service-mesh -- uvicorn app:app --port ${PORT}", []procfile.Problem{procfile.AppUsesPORT}},
		{`APP_PORT=3000 heroku-applink-service-mesh "java $JAVA_OPTS -jar target/app.jar"`, []procfile.Problem{procfile.QuotedCommand}},
		{`heroku-applink-service-mesh 'node server.js --port $PORT'`, []procfile.Problem{procfile.AppUsesPORT, procfile.QuotedCommand}},
		{`heroku-applink-service-mesh "./start.sh"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.web, func(t *testing.T) {
			p, err := procfile.Parse(strings.NewReader("web: " + tt.web))
			require.NoError(t, err)
			a := procfile.Advise(p, mesh)
			require.Equal(t, procfile.OK, a.Kind)
			require.Equal(t, tt.want, a.Problems)
		})
	}
}

func TestInspectFiles(t *testing.T) {
	dir := t.TempDir()
	require.Equal(t, procfile.Missing, procfile.Inspect(dir, mesh).Kind)

	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("web: heroku-applink-service-mesh x\n"), 0o644))
	for name, create := range map[string]func(p string) error{
		"a directory":        func(p string) error { return os.Mkdir(p, 0o755) },
		"a named pipe":       func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"a symbolic link":    func(p string) error { return os.Symlink(victim, p) },
		"larger than 64 KiB": func(p string) error { return os.WriteFile(p, make([]byte, 65<<10), 0o644) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, create(filepath.Join(dir, "Procfile")))
			a := procfile.Inspect(dir, mesh)
			require.Equal(t, procfile.Unreadable, a.Kind)
			require.Equal(t, "it is "+name, a.Reason, "a pipe is never opened for a blocking read, a link never followed")
		})
	}
}

func TestReportTranscripts(t *testing.T) {
	tests := []struct {
		name, procfile string
		wantOut        string
		wantErr        string
	}{
		{
			name:     "ok",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh npm start\n",
			wantOut: "-----> Checking Procfile\n" +
				"       The web process starts the service mesh:\n" +
				"         web: APP_PORT=3000 heroku-applink-service-mesh npm start\n",
		},
		{
			name:     "not wrapped",
			procfile: "web: npm start\n",
			wantOut:  "-----> Checking Procfile\n",
			wantErr: "\n" +
				" !     Warning: Your Procfile's web process does not start the service mesh, so\n" +
				" !     requests from Salesforce will not reach your app:\n" +
				" !\n" +
				" !       web: npm start\n" +
				" !\n" +
				" !     Start it through the mesh instead:\n" +
				" !\n" +
				" !       web: APP_PORT=3000 heroku-applink-service-mesh npm start\n" +
				" !\n" +
				" !     The mesh listens on $PORT; your app must listen on $APP_PORT.\n" +
				"\n",
		},
		{
			name:     "app binds $PORT",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh gunicorn --bind 0.0.0.0:$PORT app:app\n",
			wantOut: "-----> Checking Procfile\n" +
				"       The web process starts the service mesh:\n" +
				"         web: APP_PORT=3000 heroku-applink-service-mesh gunicorn --bind 0.0.0.0:$PORT app:app\n",
			wantErr: "\n" +
				" !     Warning: Your app's command refers to $PORT, but the mesh listens on $PORT.\n" +
				" !     The app must listen on $APP_PORT (3000 unless you set it), or the two\n" +
				" !     collide and requests fail. Use $APP_PORT in the app's command.\n" +
				"\n",
		},
		{
			name:     "legacy",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh-latest-amd64 npm start\n",
			wantOut:  "-----> Checking Procfile\n",
			wantErr: "\n" +
				" !     Warning: Your Procfile's web process uses heroku-applink-service-mesh-latest-amd64,\n" +
				" !     an architecture-specific name kept only so old Procfiles keep working.\n" +
				" !     Use the well-known name, which works on every architecture:\n" +
				" !\n" +
				" !       web: APP_PORT=3000 heroku-applink-service-mesh npm start\n" +
				"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "Procfile"), []byte(tt.procfile), 0o644))
			var out, errOut bytes.Buffer
			procfile.Report(output.New(&out, &errOut, output.Classic, false), procfile.Inspect(dir, mesh), mesh)
			if diff := cmp.Diff(tt.wantOut, out.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, errOut.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}
