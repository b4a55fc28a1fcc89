package advice

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

const plainName = "heroku-applink-service-mesh"

// installed is what a build of 0.3.0 on amd64 installs.
var installed = mesh{
	Names:   []string{plainName, plainName + "-latest-amd64", plainName + "-v0.3.0-amd64"},
	Version: "0.3.0",
	Arch:    "amd64",
}

func withVars(names ...string) mesh {
	m := installed
	m.ConfigVars = append([]string{}, names...)
	return m
}

// withPort is the mesh with app.port from its config file, or, for "",
// with a config file the build could not read.
func withPort(port string) mesh {
	m := installed
	m.AppPort, m.PortUnknown = port, port == ""
	return m
}

// inApp is the mesh with the app's source at dir.
func inApp(t *testing.T, dir string, m mesh) mesh {
	t.Helper()
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { root.Close() })
	m.App = root
	return m
}

// inspected is the advice on the Procfile in dir, read as Check reads it.
func inspected(t *testing.T, dir string, m mesh) procfileResult {
	t.Helper()
	m = inApp(t, dir, m)
	return m.inspect(fsutil.ReadFile(m.App, "Procfile", 64<<10))
}

func parsed(t *testing.T, s string) procfile {
	t.Helper()
	p, err := parseProcfile([]byte(s))
	require.NoError(t, err)
	return p
}

func TestParse(t *testing.T) {
	in := "# $PORT is used by the mesh\n\nweb: APP_PORT=3000 heroku-applink-service-mesh npm start\r\n" +
		"worker :   pnpm worker  \n  release:rake db:migrate\nnot a process line\nweb: overridden\nempty:\n"
	p, err := parseProcfile([]byte(in))
	require.NoError(t, err)
	require.Equal(t, []string{"web", "worker", "release"}, p.Types)
	want := map[string]string{"web": "overridden", "worker": "pnpm worker", "release": "rake db:migrate"}
	if diff := cmp.Diff(want, p.Commands); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	require.Equal(t, []int{3, 7}, p.Lines["web"])
	require.False(t, p.BOM)
}

func TestParseLineEndsAndBOM(t *testing.T) {
	tests := []struct {
		name, in string
		web      string
		lines    []int
		bom      bool
	}{
		{"CRLF", "# c\r\nweb: a b\r\nworker: c\r\n", "a b", []int{2}, false},
		{"lone CR, as Heroku splits lines", "# c\rweb: a b\rworker: c", "a b", []int{2}, false},
		{"a byte-order mark before the first line", "\uFEFFweb: APP_PORT=3000 heroku-applink-service-mesh npm start\n",
			"APP_PORT=3000 heroku-applink-service-mesh npm start", []int{1}, true},
		{"a byte-order mark and CRLF", "\uFEFF\r\nweb: x\r\n", "x", []int{2}, true},
		{"a byte-order mark later is not one", "# c\n\uFEFFweb: x\n", "", nil, false},
		{"three definitions", "web: a\nweb: b\n\nweb: c\n", "c", []int{1, 2, 4}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseProcfile([]byte(tt.in))
			require.NoError(t, err)
			require.Equal(t, tt.web, p.Commands["web"])
			require.Equal(t, tt.lines, p.Lines["web"])
			require.Equal(t, tt.bom, p.BOM)
		})
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"binary": "web: x\x00y", "not utf-8": "web: \xff\xfe",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseProcfile([]byte(in))
			require.Error(t, err)
		})
	}
}

// TestAdvise covers every form of web process the buildpack advises on:
// the kind found, the problems, and the line suggested instead.
func TestAdvise(t *testing.T) {
	tests := []struct {
		name      string
		procfile  string
		mesh      mesh
		want      kind
		problems  []kind
		suggested string
	}{
		{name: "APP_PORT prefix", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh npm start", want: started},
		{name: "port flag", procfile: "web: heroku-applink-service-mesh --port $PORT -- uvicorn app:app --port 3000", want: started},
		{name: "export chain", procfile: "web: export APP_PORT=3000 && heroku-applink-service-mesh npm start --port $APP_PORT", want: started},
		{name: "assignment chain", procfile: "web: APP_PORT=3000; heroku-applink-service-mesh npm start --port $APP_PORT", want: started},
		{name: "absolute path", procfile: "web: /app/vendor/heroku-applink/bin/heroku-applink-service-mesh npm start", want: started},
		{name: "comment first", procfile: "# comment\nweb: heroku-applink-service-mesh npm start\nworker: pnpm worker", want: started},
		{name: "app port from a config var", procfile: "web: heroku-applink-service-mesh -- rails s -p $APP_PORT", mesh: withVars("APP_PORT"), want: started},
		{name: "app port with a default", procfile: "web: heroku-applink-service-mesh -- rails s -p ${APP_PORT:-3000}", mesh: withVars(), want: started},
		{name: "app port inside single quotes is the inner shell's", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'rails s -p $APP_PORT'", want: started},

		{name: "the latest link name", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh-latest-amd64 npm start", want: legacy,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh npm start"},
		{name: "the installed version's link name", procfile: "web: heroku-applink-service-mesh-v0.3.0-amd64 npm start", want: legacy,
			suggested: "web: heroku-applink-service-mesh npm start"},
		{name: "a link name with a path", procfile: "web: /app/vendor/heroku-applink/bin/heroku-applink-service-mesh-latest-amd64  npm start", want: legacy,
			suggested: "web: /app/vendor/heroku-applink/bin/heroku-applink-service-mesh npm start"},
		{name: "another version's name", procfile: "web: heroku-applink-service-mesh-v0.2.2-amd64 npm start", want: otherName,
			suggested: "web: heroku-applink-service-mesh npm start"},
		{name: "another architecture's name", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh-latest-arm64 npm start", want: otherName,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh npm start"},
		{name: "a link name and $PORT", procfile: "web: APP_PORT=8080 heroku-applink-service-mesh-latest-amd64 node app.js --port $PORT", want: legacy,
			problems: []kind{appUsesPORT}, suggested: "web: APP_PORT=8080 heroku-applink-service-mesh node app.js --port 8080"},

		{name: "no command", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh", want: noCommand},
		{name: "no command after flags", procfile: "web: heroku-applink-service-mesh --port $PORT --", want: noCommand},

		{name: "$PORT", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh gunicorn app:app --bind 0.0.0.0:$PORT", want: started,
			problems: []kind{appUsesPORT}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh gunicorn app:app --bind 0.0.0.0:3000"},
		{name: "${PORT}", procfile: "web: heroku-applink-service-mesh -- uvicorn app:app --port ${PORT}", want: started,
			problems: []kind{appUsesPORT}, suggested: "web: heroku-applink-service-mesh -- uvicorn app:app --port 3000"},
		{name: "${PORT:-5000}", procfile: "web: APP_PORT=4000 heroku-applink-service-mesh rails s -p ${PORT:-5000}", want: started,
			problems: []kind{appUsesPORT}, suggested: "web: APP_PORT=4000 heroku-applink-service-mesh rails s -p 4000"},
		{name: "${PORT-5000} and :$PORT", procfile: "web: APP_PORT=4000 heroku-applink-service-mesh app --a ${PORT-5000} --b host:$PORT", want: started,
			problems: []kind{appUsesPORT}, suggested: "web: APP_PORT=4000 heroku-applink-service-mesh app --a 4000 --b host:4000"},
		{name: "$PORT with APP_PORT from a config var", procfile: "web: heroku-applink-service-mesh node app.js --port $PORT", mesh: withVars("APP_PORT"), want: started,
			problems: []kind{appUsesPORT}, suggested: "web: heroku-applink-service-mesh node app.js --port $APP_PORT"},
		{name: "$PORTS is another variable", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh app $PORTS $PORT_X", want: started},
		{name: "the mesh's own --port $PORT is right", procfile: "web: heroku-applink-service-mesh --port=$PORT -- app", want: started},

		{name: "the APP_PORT expansion trap", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh app --port $APP_PORT", want: started,
			problems: []kind{appPortTrap}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh app --port 3000"},
		{name: "the trap with braces and a default", procfile: "web: APP_PORT=8080 heroku-applink-service-mesh app --port ${APP_PORT:-3000}", want: started,
			problems: []kind{appPortTrap}, suggested: "web: APP_PORT=8080 heroku-applink-service-mesh app --port 8080"},
		{name: "the trap even with a config var", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh app --port $APP_PORT", mesh: withVars("APP_PORT"), want: started,
			problems: []kind{appPortTrap}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh app --port 3000"},
		{name: "APP_PORT set by nothing", procfile: "web: heroku-applink-service-mesh --port $PORT -- app --port $APP_PORT", mesh: withVars("HEROKU_APPLINK_TOKEN"), want: started,
			problems: []kind{appPortUnset}, suggested: "web: heroku-applink-service-mesh --port $PORT -- app --port 3000"},
		{name: "APP_PORT unknown without the config", procfile: "web: heroku-applink-service-mesh --port $PORT -- app --port $APP_PORT", want: started},

		{name: "a quoted command", procfile: `web: APP_PORT=3000 heroku-applink-service-mesh "java $JAVA_OPTS -jar target/app.jar"`, want: started,
			problems: []kind{quotedCommand}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh java $JAVA_OPTS -jar target/app.jar"},
		{name: "a quoted command with $PORT", procfile: `web: heroku-applink-service-mesh 'node server.js --port $PORT'`, want: started,
			problems: []kind{appUsesPORT, quotedCommand}, suggested: "web: heroku-applink-service-mesh node server.js --port 3000"},
		{name: "a quoted command that cannot be unquoted", procfile: `web: heroku-applink-service-mesh "java -jar" app.jar`, want: started,
			problems: []kind{quotedCommand}, suggested: "web: heroku-applink-service-mesh ./start.sh"},
		{name: "a quoted script name", procfile: `web: heroku-applink-service-mesh "./start.sh"`, want: started},

		{name: "not wrapped", procfile: "web: npm start", want: notWrapped, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh npm start"},
		{name: "not wrapped keeps env", procfile: "web: NODE_ENV=production APP_PORT=8080 node app.js", want: notWrapped,
			suggested: "web: NODE_ENV=production APP_PORT=8080 heroku-applink-service-mesh node app.js"},
		{name: "not wrapped, binding $PORT", procfile: "web: gunicorn app:app --bind 0.0.0.0:$PORT", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh gunicorn app:app --bind 0.0.0.0:3000"},
		{name: "not wrapped, ${PORT:-5000}", procfile: "web: bundle exec rails s -p ${PORT:-5000}", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bundle exec rails s -p 3000"},
		{name: "not wrapped, exec dropped", procfile: "web: exec node server.js", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh node server.js"},
		{name: "not wrapped, several commands", procfile: "web: bin/migrate && node server.js --port $PORT", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'bin/migrate && node server.js --port 3000'"},
		{name: "not wrapped, several commands with quotes", procfile: "web: echo 'hi' && node server.js", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh ./start.sh"},
		{name: "the mesh as an argument only", procfile: "web: echo heroku-applink-service-mesh", want: indirect},
		{name: "the mesh inside sh -c", procfile: "web: sh -c 'APP_PORT=3000 heroku-applink-service-mesh npm start'", want: started},

		{name: "a quoted variable before the command", procfile: `web: NODE_OPTIONS="--max-old-space-size=460 --enable-source-maps" node server.js --port $PORT`,
			want: notWrapped, suggested: `web: APP_PORT=3000 NODE_OPTIONS="--max-old-space-size=460 --enable-source-maps" heroku-applink-service-mesh node server.js --port 3000`},
		{name: "a quoted variable before the mesh", procfile: `web: JAVA_OPTS="-Xmx300m -Xss512k" APP_PORT=3000 heroku-applink-service-mesh java -jar x.jar`, want: started},
		{name: "white space inside quotes is kept", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'run  --port $PORT'", want: started,
			problems: []kind{appUsesPORT}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'run  --port 3000'"},
		{name: "a quoted variable path is one word", procfile: `web: APP_PORT=3000 heroku-applink-service-mesh "$HOME/bin/server" --port 3000`, want: started},
		{name: "an escaped $APP_PORT is the inner shell's", procfile: `web: APP_PORT=3000 heroku-applink-service-mesh sh -c "node app --port \$APP_PORT"`, want: started},

		{name: "app.port from the mesh's config", procfile: "web: heroku-applink-service-mesh --port $PORT -- uvicorn app:app --port $PORT",
			mesh: withPort("8080"), want: started,
			problems: []kind{appUsesPORT}, suggested: "web: heroku-applink-service-mesh --port $PORT -- uvicorn app:app --port 8080"},
		{name: "not wrapped, with app.port from the mesh's config", procfile: "web: node app.js --port $PORT",
			mesh: withPort("8080"), want: notWrapped,
			suggested: "web: APP_PORT=8080 heroku-applink-service-mesh node app.js --port 8080"},

		{name: "a quoted command of several", procfile: `web: heroku-applink-service-mesh "cd api && npm start"`, want: started,
			problems: []kind{quotedCommand}, suggested: "web: heroku-applink-service-mesh bash -c 'cd api && npm start'"},
		{name: "commands after the app's", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh npm run build && npm start", want: started,
			problems: []kind{chained}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'npm run build && npm start'"},
		{name: "a pipe after the app is fine", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh npm start | tee log", want: started},

		{name: "tini", procfile: "web: APP_PORT=3000 tini -- heroku-applink-service-mesh npm start", want: started},
		{name: "env with options", procfile: "web: env -u DEBUG APP_PORT=3000 heroku-applink-service-mesh npm start", want: started},
		{name: "nice", procfile: "web: APP_PORT=3000 nice -n 5 heroku-applink-service-mesh npm start", want: started},
		{name: "the name before AppLink", procfile: "web: APP_PORT=3000 heroku-integration-service-mesh npm start", want: otherName,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh npm start"},

		{name: "APP_PORT assigned, not exported", procfile: "web: APP_PORT=4000; heroku-applink-service-mesh node app --port $APP_PORT", mesh: withVars(), want: started,
			problems: []kind{appPortNotExported}, suggested: "web: export APP_PORT=4000; heroku-applink-service-mesh node app --port 4000"},
		{name: "APP_PORT assigned, not exported, and $PORT", procfile: "web: APP_PORT=4000 && heroku-applink-service-mesh node app --port $PORT", mesh: withVars(), want: started,
			problems: []kind{appUsesPORT, appPortNotExported}, suggested: "web: export APP_PORT=4000 && heroku-applink-service-mesh node app --port 4000"},
		{name: "APP_PORT assigned as the mesh's default", procfile: "web: APP_PORT=3000; heroku-applink-service-mesh node app --port $APP_PORT", mesh: withVars(), want: started},

		{name: "PORT set for the mesh", procfile: "web: PORT=3000 heroku-applink-service-mesh npm start", want: started,
			problems: []kind{meshPort}, suggested: "web: heroku-applink-service-mesh env PORT=3000 npm start"},
		{name: "the mesh's --port not $PORT", procfile: "web: heroku-applink-service-mesh --port 3000 -- npm start", want: started,
			problems: []kind{meshPort}, suggested: "web: heroku-applink-service-mesh --port $PORT -- npm start"},
		{name: "the mesh's --port= not $PORT", procfile: "web: heroku-applink-service-mesh --port=5000 npm start", want: started,
			problems: []kind{meshPort}, suggested: "web: heroku-applink-service-mesh --port=$PORT npm start"},
		{name: "not wrapped, PORT set: given to the app", procfile: "web: PORT=5000 node app.js", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh env PORT=3000 node app.js"},
		{name: "APP_PORT is $PORT", procfile: "web: APP_PORT=$PORT heroku-applink-service-mesh npm start", want: started,
			problems: []kind{appPortIsPORT}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh npm start"},
		{name: "APP_PORT is ${PORT}, exported", procfile: "web: export APP_PORT=${PORT} && heroku-applink-service-mesh npm start", want: started,
			problems: []kind{appPortIsPORT}, suggested: "web: export APP_PORT=3000 && heroku-applink-service-mesh npm start"},
		{name: "APP_PORT is no port", procfile: "web: APP_PORT=abc heroku-applink-service-mesh npm start", want: started,
			problems: []kind{appPortInvalid}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh npm start"},
		{name: "APP_PORT is 0", procfile: "web: APP_PORT=0 heroku-applink-service-mesh npm start", want: started,
			problems: []kind{appPortInvalid}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh npm start"},
		{name: "APP_PORT is 99999, exported", procfile: "web: export APP_PORT=99999; heroku-applink-service-mesh npm start", want: started,
			problems: []kind{appPortInvalid}, suggested: "web: export APP_PORT=3000; heroku-applink-service-mesh npm start"},
		{name: "APP_PORT from another variable is not judged", procfile: "web: APP_PORT=$MY_PORT heroku-applink-service-mesh npm start", want: started},

		{name: "operators without spaces, not wrapped", procfile: "web: cd server&&npm start", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'cd server && npm start'"},
		{name: "operators without spaces, not wrapped, $PORT", procfile: "web: bin/setup&&npm start --port $PORT", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'bin/setup && npm start --port 3000'"},
		{name: "a semicolon without spaces, not wrapped", procfile: "web: npm run build;npm start -- --port $PORT", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'npm run build; npm start -- --port 3000'"},
		{name: "operators without spaces after the app", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh npm run build&&npm start", want: started,
			problems: []kind{chained}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'npm run build && npm start'"},
		{name: "redirections are no operators", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh npm start 2>&1 &>/dev/null", want: started},
		{name: "a pipe of both streams", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh npm start |& tee log", want: started},
		{name: "a trailing &", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh npm start &", want: started,
			problems: []kind{inBackground}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh npm start"},
		{name: "a trailing &, not wrapped", procfile: "web: npm start &", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh npm start"},

		{name: "an assignment after exec", procfile: "web: exec APP_PORT=3000 heroku-applink-service-mesh npm start", want: started,
			problems: []kind{assignmentAfterWrapper}, suggested: "web: APP_PORT=3000 exec heroku-applink-service-mesh npm start"},
		{name: "assignments after nice", procfile: "web: nice -n 5 NODE_ENV=production APP_PORT=3000 heroku-applink-service-mesh npm start", want: started,
			problems: []kind{assignmentAfterWrapper}, suggested: "web: NODE_ENV=production APP_PORT=3000 nice -n 5 heroku-applink-service-mesh npm start"},
		{name: "an assignment after env is fine", procfile: "web: exec env APP_PORT=3000 heroku-applink-service-mesh npm start", want: started},

		{name: "PORT exported for the mesh", procfile: "web: export PORT=5000; heroku-applink-service-mesh npm start", want: started,
			problems: []kind{meshPort}, suggested: "web: heroku-applink-service-mesh env PORT=3000 npm start"},
		{name: "PORT exported beside APP_PORT", procfile: "web: export APP_PORT=4000 PORT=5; heroku-applink-service-mesh npm start", want: started,
			problems: []kind{meshPort}, suggested: "web: export APP_PORT=4000; heroku-applink-service-mesh env PORT=4000 npm start"},
		{name: "PORT assigned, which Heroku exports", procfile: "web: PORT=5000 && APP_PORT=3000 heroku-applink-service-mesh npm start", want: started,
			problems: []kind{meshPort}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh env PORT=3000 npm start"},
		{name: "PORT=$PORT changes nothing", procfile: "web: PORT=$PORT APP_PORT=3000 heroku-applink-service-mesh npm start", want: started},
		{name: "the mesh's --port ${PORT:-5000} is $PORT", procfile: "web: heroku-applink-service-mesh --port ${PORT:-5000} -- npm start", want: started},

		{name: "the app on another port than APP_PORT", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh uvicorn app:app --port 4000", want: started,
			problems: []kind{appPortMismatch}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh uvicorn app:app --port 3000"},
		{name: "the app on another port than the default", procfile: "web: heroku-applink-service-mesh -- gunicorn app:app -b 0.0.0.0:8000", want: started,
			problems: []kind{appPortMismatch}, suggested: "web: heroku-applink-service-mesh -- gunicorn app:app -b 0.0.0.0:3000"},
		{name: "the app on APP_PORT's port", procfile: "web: APP_PORT=8000 heroku-applink-service-mesh rails s -p 8000 --binding=0.0.0.0", want: started},
		{name: "not wrapped, on a port of its own", procfile: "web: uvicorn app:app --host 0.0.0.0 --port=8000", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh uvicorn app:app --host 0.0.0.0 --port=3000"},

		{name: "APP_PORT exported by name", procfile: "web: APP_PORT=4000; export APP_PORT; heroku-applink-service-mesh node app --port $APP_PORT", mesh: withVars(), want: started},
		{name: "APP_PORT assigned over a config var reaches the mesh", procfile: "web: APP_PORT=4000; heroku-applink-service-mesh node app --port $APP_PORT", mesh: withVars("APP_PORT"), want: started},
		{name: "a comment after the command", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh npm start # uses $PORT", want: started},
		{name: "the app command commented out", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh #npm start", want: noCommand},
		{name: "a flag of the mesh's own", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh -v", want: noCommand},
		{name: "a program named like a flag after --", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh -- -app", want: started},

		{name: "an assignment of its own before the command, not wrapped", procfile: "web: NODE_ENV=production && node server.js", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'NODE_ENV=production && node server.js'"},
		{name: "PORT assigned as a command, not wrapped", procfile: "web: PORT=4000; node server.js", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'PORT=3000; node server.js'"},
		{name: "exec with options, not wrapped", procfile: "web: exec -a web node server.js", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh node server.js"},
		{name: "a URL with a port is no listening address", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh app --redis redis://localhost:6379 --metrics-addr=:9090", want: started},
		{name: "a bind option's address", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh puma --bind=tcp://0.0.0.0:9292", want: started,
			problems: []kind{appPortMismatch}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh puma --bind=tcp://0.0.0.0:3000"},
		{name: "a bare listening address", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh python manage.py runserver 0.0.0.0:8000", want: started,
			problems: []kind{appPortMismatch}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh python manage.py runserver 0.0.0.0:3000"},
		{name: "env PORT= for the app, on another port", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh env PORT=4000 node server.js", want: started,
			problems: []kind{appPortMismatch}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh env PORT=3000 node server.js"},
		{name: "env PORT= on another port, not wrapped", procfile: "web: env PORT=4000 node server.js", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh env PORT=3000 node server.js"},
		{name: "leading zeros are the same port", procfile: "web: APP_PORT=03000 heroku-applink-service-mesh app --port 3000", want: started},
		{name: "the trap with an exported APP_PORT of another value", procfile: "web: export APP_PORT=4000 && APP_PORT=3000 heroku-applink-service-mesh app --port $APP_PORT", want: started,
			problems: []kind{appPortTrap}, suggested: "web: export APP_PORT=4000 && APP_PORT=3000 heroku-applink-service-mesh app --port 3000"},
		{name: "APP_PORT exported before it is assigned", procfile: "web: export APP_PORT; APP_PORT=4000; heroku-applink-service-mesh app --port $APP_PORT", mesh: withVars(), want: started},
		{name: "the mesh only when the build fails", procfile: "web: npm run build || APP_PORT=3000 heroku-applink-service-mesh npm start", want: started,
			problems: []kind{meshOnFailure}, suggested: "web: npm run build && APP_PORT=3000 heroku-applink-service-mesh npm start"},
		{name: "a redirection is no app command", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh >log 2>&1", want: noCommand},
		{name: "a redirection with its target apart is no app command", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh > log", want: noCommand},
		{name: "a redirection before the app command", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh 2>&1 npm start", want: started},

		{name: "another option's address is no listening address", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh gunicorn --bind 0.0.0.0:3000 --statsd-host localhost:8125 --metrics-addr :9090 app:app", want: started},
		{name: "another option's address, not wrapped", procfile: "web: gunicorn --bind 0.0.0.0:$PORT --statsd-host localhost:8125 app:app", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh gunicorn --bind 0.0.0.0:3000 --statsd-host localhost:8125 app:app"},
		{name: "APP_PORT exported, then assigned again", procfile: "web: export APP_PORT=$PORT; APP_PORT=4000; heroku-applink-service-mesh node x --port 4000", want: started},
		{name: "APP_PORT exported, then assigned another port", procfile: "web: export APP_PORT=4000; APP_PORT=5001; heroku-applink-service-mesh node x --port 4000", want: started,
			problems: []kind{appPortMismatch}, suggested: "web: export APP_PORT=4000; APP_PORT=5001; heroku-applink-service-mesh node x --port 5001"},
		{name: "APP_PORT exported by declare -x", procfile: "web: declare -x APP_PORT=4000; heroku-applink-service-mesh node x --port 4000", want: started},
		{name: "a quoted APP_PORT", procfile: `web: APP_PORT="4000" heroku-applink-service-mesh node x --port 4000`, want: started},
		{name: "a quoted APP_PORT, another port", procfile: `web: APP_PORT='4000' heroku-applink-service-mesh node x --port 3000`, want: started,
			problems: []kind{appPortMismatch}, suggested: `web: APP_PORT='4000' heroku-applink-service-mesh node x --port 4000`},
		{name: "APP_PORT exported inside the command, not wrapped", procfile: "web: export APP_PORT=4000 && npm start", want: notWrapped,
			suggested: "web: APP_PORT=4000 heroku-applink-service-mesh bash -c 'export APP_PORT=4000 && npm start'"},
		{name: "APP_PORT=$PORT inside the command, not wrapped", procfile: "web: APP_PORT=$PORT; srv --port $APP_PORT", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'APP_PORT=3000; srv --port 3000'"},
		{name: "a subshell, not wrapped", procfile: "web: (node server.js)", want: notWrapped,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh bash -c '(node server.js)'"},
		{name: "a trailing ;", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh node x;", want: started},
		{name: "a ; inside a command substitution", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh node x --id $(hostname; date)", want: started},
		{name: "exec -a before the mesh", procfile: "web: APP_PORT=3000 exec -a web heroku-applink-service-mesh node x", want: started},
		{name: "the forward port unknown: no mismatch asserted", procfile: "web: cd $APP && heroku-applink-service-mesh node x --port 4000",
			mesh: withPort(""), want: started},
		{name: "the forward port unknown: the fix says it", procfile: "web: cd $APP && heroku-applink-service-mesh node x --port $PORT",
			mesh: withPort(""), want: started,
			problems: []kind{appUsesPORT}, suggested: "web: cd $APP && APP_PORT=3000 heroku-applink-service-mesh node x --port 3000"},

		{name: "no web", procfile: "worker: pnpm worker", want: noWeb,
			suggested: "web: APP_PORT=3000 heroku-applink-service-mesh <your app's start command>"},
		{name: "a byte-order mark hides nothing", procfile: "\uFEFFweb: APP_PORT=3000 heroku-applink-service-mesh npm start", want: started},

		{name: "the process type again", procfile: "web: web: APP_PORT=3000 heroku-applink-service-mesh python app.py", want: started,
			problems: []kind{repeatedType}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh python app.py"},
		{name: "the process type again, not wrapped", procfile: "web: web: node app.js", want: notWrapped,
			problems: []kind{repeatedType}, suggested: "web: APP_PORT=3000 heroku-applink-service-mesh node app.js"},
		{name: "$PORT inside sh -c", procfile: "web: sh -c 'APP_PORT=3000 heroku-applink-service-mesh node app.js --port $PORT'", want: started,
			problems: []kind{appUsesPORT}, suggested: "web: sh -c 'APP_PORT=3000 heroku-applink-service-mesh node app.js --port 3000'"},
		{name: "a cd inside bash -lc", procfile: `web: exec bash -lc "cd api && heroku-applink-service-mesh-latest-amd64 npm start"`, want: legacy,
			suggested: "web: exec bash -lc 'cd api && heroku-applink-service-mesh npm start'"},
		{name: "ANSI-C quoting and -pN", procfile: "web: APP_PORT=$'3000' heroku-applink-service-mesh rails s -p8080", want: started,
			problems: []kind{appPortMismatch}, suggested: "web: APP_PORT=$'3000' heroku-applink-service-mesh rails s -p3000"},
		{name: "env -u PORT before the mesh", procfile: "web: env -u PORT APP_PORT=3000 heroku-applink-service-mesh npm start", want: started,
			problems: []kind{meshPort}, suggested: "web: env APP_PORT=3000 heroku-applink-service-mesh npm start"},
		{name: "env -u PORT for the app", procfile: "web: APP_PORT=3000 heroku-applink-service-mesh env -u PORT npm start", want: started},
		{name: "a cd || exit before the mesh", procfile: "web: cd api || exit 1; APP_PORT=3000 heroku-applink-service-mesh npm start", want: started},
		{name: "bash cannot read it", procfile: `web: APP_PORT=3000 heroku-applink-service-mesh "npm start`, want: badSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.mesh
			if m.Names == nil {
				m = installed
			}
			a := advise(parsed(t, tt.procfile), m)
			web := a.web()
			require.Equal(t, tt.want, web.Kind)
			require.Equal(t, tt.problems, web.Problems)
			require.Equal(t, tt.suggested, web.Suggested)

			// A suggested line, written back as the Procfile, draws no
			// advice on the next build.
			if tt.suggested != "" && !strings.Contains(tt.suggested, "<") {
				again := advise(parsed(t, tt.suggested), m).web()
				require.Equal(t, started, again.Kind, "the suggestion %q", tt.suggested)
				require.Empty(t, again.Problems, "the suggestion %q", tt.suggested)
				require.Empty(t, again.Suggested)
			}
		})
	}
}

// TestWhereTheMeshStarts: a cd before the mesh moves where it reads its
// config file from.
func TestWhereTheMeshStarts(t *testing.T) {
	tests := []struct {
		procfile string
		dir      string
		unknown  bool
	}{
		{"web: APP_PORT=3000 heroku-applink-service-mesh npm start", "", false},
		{"web: cd server && APP_PORT=3000 heroku-applink-service-mesh npm start", "server", false},
		{"web: cd server/api; cd .. && heroku-applink-service-mesh npm start", "server", false},
		{"web: cd /app/web && heroku-applink-service-mesh npm start", "web", false},
		{"web: cd ./ && heroku-applink-service-mesh npm start", "", false},
		{"web: cd $APP_DIR && heroku-applink-service-mesh npm start", "", true},
		{"web: cd .. && heroku-applink-service-mesh npm start", "", true},
		{"web: cd /tmp && heroku-applink-service-mesh npm start", "", true},
		{"web: cd && heroku-applink-service-mesh npm start", "", false},
		{"web: cd ~/api && heroku-applink-service-mesh npm start", "api", false},
		{"web: cd $HOME/api && heroku-applink-service-mesh npm start", "api", false},
		{"web: cd api; cd \"$HOME\" && heroku-applink-service-mesh npm start", "", false},
		{"web: (cd api && heroku-applink-service-mesh npm start)", "", true},
		{"web: pushd api && heroku-applink-service-mesh npm start", "", true},
		{"web: env -C api heroku-applink-service-mesh npm start", "", true},
		{"web: cd web | heroku-applink-service-mesh npm start", "", false},
		{"web: cd web & heroku-applink-service-mesh npm start", "", false},
		{"web: cd web; cd api & heroku-applink-service-mesh npm start", "web", false},
		{"web: " + strings.Repeat("cd a/b/c/d/e/f; ", 400) + "heroku-applink-service-mesh npm start", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.procfile[:min(len(tt.procfile), 60)], func(t *testing.T) {
			a := advise(parsed(t, tt.procfile), installed).web()
			require.Equal(t, started, a.Kind)
			require.Equal(t, tt.dir, a.Dir)
			require.Equal(t, tt.unknown, a.DirUnknown)
		})
	}
}

func TestInspectFiles(t *testing.T) {
	require.Equal(t, missing, inspected(t, t.TempDir(), installed).web().Kind)

	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("web: heroku-applink-service-mesh x\n"), 0o644))
	for name, create := range map[string]func(p string) error{
		"a directory":                    func(p string) error { return os.Mkdir(p, 0o755) },
		"a named pipe":                   func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"a symbolic link out of the app": func(p string) error { return os.Symlink(victim, p) },
		"larger than 64 KiB":             func(p string) error { return os.WriteFile(p, make([]byte, 65<<10), 0o644) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, create(filepath.Join(dir, "Procfile")))
			a := inspected(t, dir, installed).web()
			require.Equal(t, unreadable, a.Kind)
			require.Equal(t, "it is "+name, a.Reason, "a pipe is never opened for a blocking read, a link never followed")
		})
	}
}

func TestKinds(t *testing.T) {
	p := parsed(t, "\uFEFFweb: x\nweb: APP_PORT=3000 heroku-applink-service-mesh-latest-amd64 app --port $PORT\n")
	require.Equal(t, []string{"procfile-bom", "procfile-duplicate-web", "procfile-link-name", "procfile-app-uses-port"},
		advise(p, installed).report(output.New(io.Discard, io.Discard, output.Classic, false)))
	require.Empty(t, advise(parsed(t, "web: APP_PORT=3000 heroku-applink-service-mesh npm start\n"), installed).report(output.New(io.Discard, io.Discard, output.Classic, false)))
}

func TestProcfileTranscripts(t *testing.T) {
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
			name:     "not wrapped, binding $PORT",
			procfile: "web: gunicorn app:app --bind 0.0.0.0:$PORT\n",
			wantOut:  "-----> Checking Procfile\n",
			wantErr: "\n" +
				" !     Warning: Your Procfile's web process does not start the service mesh, so\n" +
				" !     requests from Salesforce will not reach your app:\n" +
				" !\n" +
				" !       web: gunicorn app:app --bind 0.0.0.0:$PORT\n" +
				" !\n" +
				" !     Start it through the mesh instead:\n" +
				" !\n" +
				" !       web: APP_PORT=3000 heroku-applink-service-mesh gunicorn app:app --bind 0.0.0.0:3000\n" +
				" !\n" +
				" !     The mesh listens on $PORT and forwards to your app on APP_PORT: the app must\n" +
				" !     listen on 3000.\n" +
				"\n",
		},
		{
			name:     "app binds $PORT",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh rails s -p ${PORT:-5000}\n",
			wantOut: "-----> Checking Procfile\n" +
				"       The web process starts the service mesh:\n" +
				"         web: APP_PORT=3000 heroku-applink-service-mesh rails s -p ${PORT:-5000}\n",
			wantErr: "\n" +
				" !     Warning: Your app's command refers to $PORT, but the mesh listens on $PORT. The app\n" +
				" !     must listen on the port the mesh forwards to, APP_PORT (3000 here), or\n" +
				" !     the two collide and requests fail.\n" +
				" !\n" +
				" !     Use this line instead:\n" +
				" !\n" +
				" !       web: APP_PORT=3000 heroku-applink-service-mesh rails s -p 3000\n" +
				"\n",
		},
		{
			name:     "the APP_PORT trap",
			procfile: "web: APP_PORT=3000 heroku-applink-service-mesh app --port $APP_PORT\n",
			wantOut: "-----> Checking Procfile\n" +
				"       The web process starts the service mesh:\n" +
				"         web: APP_PORT=3000 heroku-applink-service-mesh app --port $APP_PORT\n",
			wantErr: "\n" +
				" !     Warning: Your app's command refers to $APP_PORT, but APP_PORT is set only for the\n" +
				" !     mesh's command: the shell expands $APP_PORT before that assignment takes\n" +
				" !     effect, so the app gets no port (or the config var's). Give the app the\n" +
				" !     port itself.\n" +
				" !\n" +
				" !     Use this line instead:\n" +
				" !\n" +
				" !       web: APP_PORT=3000 heroku-applink-service-mesh app --port 3000\n" +
				"\n",
		},
		{
			name:     "a link name, a BOM, CRLF and two web lines",
			procfile: "\uFEFFweb: npm start\r\nweb: APP_PORT=3000 heroku-applink-service-mesh-latest-amd64 npm start\r\n",
			wantOut:  "-----> Checking Procfile\n",
			wantErr: "\n" +
				" !     Warning: Your Procfile starts with a byte-order mark (U+FEFF). Heroku reads Procfiles\n" +
				" !     without one: the first line may be dropped, or the file refused. Save the\n" +
				" !     Procfile as UTF-8 without a byte-order mark.\n" +
				"\n" +
				"\n" +
				" !     Warning: Your Procfile defines the web process 2 times (lines 1 and 2).\n" +
				" !     Heroku runs the last one, which is the one checked here:\n" +
				" !\n" +
				" !       web: APP_PORT=3000 heroku-applink-service-mesh-latest-amd64 npm start\n" +
				" !\n" +
				" !     Remove the others.\n" +
				"\n" +
				"\n" +
				" !     Warning: Your Procfile's web process starts the mesh as\n" +
				" !\n" +
				" !       heroku-applink-service-mesh-latest-amd64\n" +
				" !\n" +
				" !     a name this buildpack links only so that old Procfiles keep working. It\n" +
				" !     breaks when the architecture or the version changes: use the plain name,\n" +
				" !     heroku-applink-service-mesh.\n" +
				" !\n" +
				" !     Use this line instead:\n" +
				" !\n" +
				" !       web: APP_PORT=3000 heroku-applink-service-mesh npm start\n" +
				"\n",
		},
		{
			name:     "another version's name",
			procfile: "web: heroku-applink-service-mesh-v0.2.2-amd64 npm start\n",
			wantOut:  "-----> Checking Procfile\n",
			wantErr: "\n" +
				" !     Warning: Your Procfile's web process starts\n" +
				" !\n" +
				" !       heroku-applink-service-mesh-v0.2.2-amd64\n" +
				" !\n" +
				" !     which this build did not install, so the web process will not start. This\n" +
				" !     build installed heroku-applink-service-mesh 0.3.0 for amd64, also linked as:\n" +
				" !\n" +
				" !       heroku-applink-service-mesh-latest-amd64\n" +
				" !       heroku-applink-service-mesh-v0.3.0-amd64\n" +
				" !\n" +
				" !     Use the plain name.\n" +
				" !\n" +
				" !     Use this line instead:\n" +
				" !\n" +
				" !       web: heroku-applink-service-mesh npm start\n" +
				"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "Procfile"), []byte(tt.procfile), 0o644))
			var out, errOut bytes.Buffer
			inspected(t, dir, installed).report(output.New(&out, &errOut, output.Classic, false))
			if diff := cmp.Diff(tt.wantOut, out.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, errOut.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNoCommandExampleUsesTheForwardPort: the example line for a mesh with
// no app command gives the port the mesh forwards to, so taking it draws
// no advice about app.port on the next build.
func TestNoCommandExampleUsesTheForwardPort(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Procfile"), []byte("web: heroku-applink-service-mesh\n"), 0o644))
	m := installed
	m.AppPort = "4000"
	var out, errOut bytes.Buffer
	inspected(t, dir, m).report(output.New(&out, &errOut, output.Classic, false))
	require.Contains(t, errOut.String(), " !       web: APP_PORT=4000 heroku-applink-service-mesh npm start\n")
}

// TestFilesOfTheApp: the app's own files decide whether a quoted word is a
// path and whether a bare name is a program of the app's.
func TestFilesOfTheApp(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"startup.sh", "my app/start.sh", "server/start.sh", "bash"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755))
	}
	tests := []struct {
		procfile  string
		want      kind
		problems  []kind
		suggested string
	}{
		{"web: APP_PORT=3000 heroku-applink-service-mesh startup.sh", started, []kind{bareProgram}, "web: APP_PORT=3000 heroku-applink-service-mesh ./startup.sh"},
		{"web: startup.sh", notWrapped, nil, "web: APP_PORT=3000 heroku-applink-service-mesh ./startup.sh"},
		{"web: cd server && APP_PORT=3000 heroku-applink-service-mesh start.sh --port $PORT", started, []kind{appUsesPORT, bareProgram},
			"web: cd server && APP_PORT=3000 heroku-applink-service-mesh ./start.sh --port 3000"},
		{`web: APP_PORT=3000 heroku-applink-service-mesh "./my app/start.sh"`, started, nil, ""},
		{`web: APP_PORT=3000 heroku-applink-service-mesh "$HOME/my app/start.sh" --port 3000`, started, nil, ""},
		{`web: APP_PORT=3000 heroku-applink-service-mesh "/app/my app/start.sh"`, started, nil, ""},
		{`web: APP_PORT=3000 heroku-applink-service-mesh "my app/stop.sh"`, started, []kind{quotedCommand}, "web: APP_PORT=3000 heroku-applink-service-mesh my app/stop.sh"},
		{"web: APP_PORT=3000 heroku-applink-service-mesh npm start", started, nil, ""},
		{"web: APP_PORT=3000 heroku-applink-service-mesh bash -c 'exec node x'", started, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.procfile, func(t *testing.T) {
			m := inApp(t, dir, installed)
			web := advise(parsed(t, tt.procfile), m).web()
			require.Equal(t, tt.want, web.Kind)
			require.Equal(t, tt.problems, web.Problems)
			require.Equal(t, tt.suggested, web.Suggested)
			if tt.suggested != "" {
				again := advise(parsed(t, tt.suggested), m).web()
				require.Equal(t, started, again.Kind)
				require.Empty(t, again.Problems)
			}
		})
	}
}

// TestEveryProcessThatStartsTheMesh: not only web gets the mesh's checks;
// a process that does not start the mesh is none of the build's business.
func TestEveryProcessThatStartsTheMesh(t *testing.T) {
	a := advise(parsed(t, "web-mesh: APP_PORT=3000 heroku-applink-service-mesh\nworker: node worker.js --port $PORT\n"+
		"web: APP_PORT=3000 heroku-applink-service-mesh npm start\nquoted: APP_PORT=3000 heroku-applink-service-mesh \"java -jar app.jar\"\n"), installed)
	var got []string
	for _, p := range a.Processes {
		var problems []string
		for _, k := range p.Problems {
			problems = append(problems, k.name)
		}
		got = append(got, p.Type+" "+p.Kind.name+fmt.Sprint(problems)+" "+p.Suggested)
	}
	want := []string{
		"web [] ",
		"web-mesh procfile-no-command[] ",
		"quoted [procfile-quoted-command] quoted: APP_PORT=3000 heroku-applink-service-mesh java -jar app.jar",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var out, errOut bytes.Buffer
	a.report(output.New(&out, &errOut, output.Classic, false))
	require.Contains(t, errOut.String(), " !     Warning: Your Procfile's web-mesh process runs heroku-applink-service-mesh with no app command:\n !\n !       web-mesh: APP_PORT=3000 heroku-applink-service-mesh\n")
	require.Contains(t, errOut.String(), " !       quoted: APP_PORT=3000 heroku-applink-service-mesh java -jar app.jar\n")
	require.NotContains(t, out.String()+errOut.String(), "worker")
}
