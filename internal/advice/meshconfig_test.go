package advice

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

func appWith(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func root(t *testing.T, dir string) *os.Root {
	t.Helper()
	r, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// check checks the app in dir, whose web process starts the mesh at its
// root.
func check(t *testing.T, dir string) config {
	return checkConfig(root(t, dir), "", false)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		procfile  string
		configVar bool
		fatal     bool
		structure []finding
		warnings  []string
		bypass    []string
	}{
		{name: "the defaults", yaml: "app:\n  port: 3000\n", bypass: []string{"/healthcheck (the health check)"}},
		{name: "everything", yaml: "app:\n  port: \"8080\"\n  host: http://127.0.0.1\nmesh:\n  authentication:\n    bypassRoutes:\n      - /health\n      - /public/*\n  healthcheck:\n    enable: true\n    route: /ping\n",
			bypass: []string{"/ping (the health check)", "/health", "/public/*"}},
		{name: "the health check off", yaml: "mesh:\n  healthcheck:\n    enable: false\n"},
		{name: "null sections", yaml: "app:\nmesh: ~\n", bypass: []string{"/healthcheck (the health check)"}},
		{name: "a comment only", yaml: "# nothing yet\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-invalid", Text: "the file has no content (the mesh reads an empty file as an error)"}}},
		{name: "not YAML", yaml: "app: [\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-invalid", Line: 1, Text: "did not find expected node content"}}},
		{name: "a tab", yaml: "app:\n\tport: 1\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-invalid", Line: 2, Text: "found character that cannot start any token"}}},
		{name: "an unknown top-level key", yaml: "authentication:\n  bypassRoutes: [/health]\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-unknown-key", Line: 1, Text: "field authentication not found"}}},
		{name: "an unknown nested key", yaml: "mesh:\n  healthchecks:\n    enable: true\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-unknown-key", Line: 2, Text: "field healthchecks not found"}}},
		{name: "the wrong case", yaml: "mesh:\n  authentication:\n    bypassroutes: [/health]\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-unknown-key", Line: 3, Text: "field bypassroutes not found"}}},
		{name: "a route where a list belongs", yaml: "mesh:\n  authentication:\n    bypassRoutes: /health\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-wrong-shape", Line: 3, Text: "cannot unmarshal !!str `/health` into []string"}}},
		{name: "a list where a value belongs", yaml: "app:\n  port: [3000]\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-wrong-shape", Line: 2, Text: "cannot unmarshal !!seq into string"}}},
		{name: "a value where a mapping belongs", yaml: "app: 3000\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-wrong-shape", Line: 1, Text: "cannot unmarshal !!int `3000` into a mapping"}}},
		{name: "a mapping in the routes", yaml: "mesh:\n  authentication:\n    bypassRoutes:\n      - path: /health\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-wrong-shape", Line: 4, Text: "cannot unmarshal !!map into string"}}},
		{name: "a key twice", yaml: "app:\n  port: 1\napp:\n  port: 2\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-duplicate-key", Line: 3, Text: "mapping key \"app\" already defined at line 1"}}},
		{name: "a null document", yaml: "---\n# mesh:\n#   authentication: {}\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-invalid", Text: "the file's first YAML document is empty (null)"}}},
		{name: "a tilde", yaml: "~\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-invalid", Text: "the file's first YAML document is empty (null)"}}},
		{name: "an unknown key through a merge", yaml: "app: {<<: {bogus: 1}}\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-unknown-key", Line: 1, Text: "field bogus not found"}}},
		{name: "a merge of known keys", yaml: "base: &b {port: \"8080\"}\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-unknown-key", Line: 1, Text: "field base not found"}}},
		{name: "a mapping that merges itself", yaml: "app: &x {<<: *x}\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-invalid", Text: "the file holds over 200 keys or 100000 values once its aliases are expanded, where a file the mesh loads holds 9 keys at most"}}},
		{name: "mappings that merge each other", yaml: "app: &a {<<: &b {<<: *a}}\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-invalid", Text: "the file holds over 200 keys or 100000 values once its aliases are expanded, where a file the mesh loads holds 9 keys at most"}}},
		{name: "a port out of range", yaml: "app:\n  port: 99999\n",
			warnings: []string{"mesh-config-app-port"}, bypass: []string{"/healthcheck (the health check)"}},
		{name: "a list at the top", yaml: "- app\n", fatal: true,
			structure: []finding{{Kind: "mesh-config-wrong-shape", Line: 1, Text: "cannot unmarshal !!seq into a mapping"}}},

		{name: "a route without a slash", yaml: "mesh:\n  authentication:\n    bypassRoutes: [health, /ok]\n",
			warnings: []string{"mesh-config-route"}, bypass: []string{"/healthcheck (the health check)", "/ok"}},
		{name: "a route that opens everything", yaml: "mesh:\n  authentication:\n    bypassRoutes: [\"/*\"]\n",
			warnings: []string{"mesh-config-bypasses-everything"}, bypass: []string{"/healthcheck (the health check)", "/*"}},
		{name: "enable: yes is off", yaml: "mesh:\n  healthcheck:\n    enable: yes\n", warnings: []string{"mesh-config-healthcheck-enable"}},
		{name: "enable: True is off", yaml: "mesh:\n  healthcheck:\n    enable: True\n", warnings: []string{"mesh-config-healthcheck-enable"}},
		{name: "a health route without a slash", yaml: "mesh:\n  healthcheck:\n    route: health\n",
			warnings: []string{"mesh-config-route"}, bypass: []string{"health (the health check)"}},
		{name: "a host without its scheme", yaml: "app:\n  host: 127.0.0.1\n",
			warnings: []string{"mesh-config-app-host"}, bypass: []string{"/healthcheck (the health check)"}},
		{name: "a host with a port", yaml: "app:\n  host: http://127.0.0.1:3000\n",
			warnings: []string{"mesh-config-app-host"}, bypass: []string{"/healthcheck (the health check)"}},
		{name: "a host with a path", yaml: "app:\n  host: http://localhost/api\n",
			warnings: []string{"mesh-config-app-host"}, bypass: []string{"/healthcheck (the health check)"}},
		{name: "a host with a slash", yaml: "app:\n  host: http://localhost/\n",
			warnings: []string{"mesh-config-app-host"}, bypass: []string{"/healthcheck (the health check)"}},
		{name: "a host with user info", yaml: "app:\n  host: http://user:s3cret@localhost\n",
			warnings: []string{"mesh-config-app-host"}, bypass: []string{"/healthcheck (the health check)"}},
		{name: "a scheme in capitals", yaml: "app:\n  host: HTTP://127.0.0.1\n", bypass: []string{"/healthcheck (the health check)"}},
		{name: "an https host on the dyno", yaml: "app:\n  host: https://localhost\n", bypass: []string{"/healthcheck (the health check)"}},
		{name: "a host off the dyno", yaml: "app:\n  host: https://mesh\n",
			warnings: []string{"mesh-config-app-host-remote"}, bypass: []string{"/healthcheck (the health check)"}},
		{name: "IPv6 loopback", yaml: "app:\n  host: http://[::1]\n", bypass: []string{"/healthcheck (the health check)"}},
		{name: "all interfaces", yaml: "app:\n  host: http://0.0.0.0\n", bypass: []string{"/healthcheck (the health check)"}},
		{name: "placeholder segments", yaml: "mesh:\n  authentication:\n    bypassRoutes: [/api/summary/:systemId, \"/users/{id}/orders\", /ok/*]\n",
			warnings: []string{"mesh-config-route-placeholder", "mesh-config-route-placeholder"}, bypass: []string{"/healthcheck (the health check)", "/ok/*"}},
		{name: "a health route that opens everything", yaml: "mesh:\n  healthcheck:\n    route: /*\n",
			warnings: []string{"mesh-config-bypasses-everything"}, bypass: []string{"/* (the health check)"}},
		{name: "a port that is not one", yaml: "app:\n  port: eighty\n",
			warnings: []string{"mesh-config-app-port"}, bypass: []string{"/healthcheck (the health check)"}},
		{name: "app.port under the Procfile's APP_PORT", yaml: "app:\n  port: 8080\n", procfile: "3000",
			warnings: []string{"mesh-config-app-port-overridden"}, bypass: []string{"/healthcheck (the health check)"}},
		{name: "app.port equal to the Procfile's", yaml: "app:\n  port: 3000\n", procfile: "3000",
			bypass: []string{"/healthcheck (the health check)"}},
		{name: "app.port under an APP_PORT config var", yaml: "app:\n  port: 8080\n", configVar: true,
			warnings: []string{"mesh-config-app-port-overridden"}, bypass: []string{"/healthcheck (the health check)"}},
		{name: "two documents", yaml: "app:\n  port: 3000\n---\nmesh: {}\n",
			warnings: []string{"mesh-config-documents"}, bypass: []string{"/healthcheck (the health check)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := check(t, appWith(t, map[string]string{configName: tt.yaml}))
			r.against(tt.procfile, tt.configVar)
			require.True(t, r.found)
			require.Equal(t, tt.fatal, r.fatal)
			if diff := cmp.Diff(tt.structure, r.decoded); diff != "" {
				t.Errorf("structure (-want +got):\n%s", diff)
			}
			var kinds []string
			for _, w := range r.warnings {
				kinds = append(kinds, w.Kind)
			}
			require.Equal(t, tt.warnings, kinds)
			require.Equal(t, tt.bypass, r.bypass)
			require.NotContains(t, fmt.Sprint(r.warnings), "s3cret")
		})
	}
}

// TestStartedInAFolder: a web process that starts the mesh in server/
// (cd server && …) makes it read server/heroku-applink-service-mesh.yaml;
// the one at the root is the misplaced copy.
func TestStartedInAFolder(t *testing.T) {
	dir := appWith(t, map[string]string{
		"server/heroku-applink-service-mesh.yaml": "mesh:\n  authentication:\n    bypassRoutes: [/public/*]\n",
		"server/heroku-applink-service-mesh.yml":  "app: {}\n",
		"heroku-applink-service-mesh.yaml":        "app: {}\n",
	})
	r := checkConfig(root(t, dir), "server", false)
	require.True(t, r.read)
	require.Equal(t, "server/heroku-applink-service-mesh.yaml", r.path)
	require.Equal(t, []string{"/healthcheck (the health check)", "/public/*"}, r.bypass)
	var texts []string
	for _, w := range r.warnings {
		texts = append(texts, w.Text)
	}
	require.Equal(t, []string{
		"server/heroku-applink-service-mesh.yml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml, with\nthat exact name. Rename it.",
		"heroku-applink-service-mesh.yaml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml,\n" +
			"under that exact name, from server/, where the Procfile's web process starts it. Move it there.",
	}, texts)

	var out, errOut bytes.Buffer
	r.report(output.New(&out, &errOut, output.Classic, false))
	require.Contains(t, out.String(), "-----> Checking server/heroku-applink-service-mesh.yaml\n")

	// A link to another of the app's folders is followed to it: what is
	// there is the file the mesh reads, and its copies are beside it.
	require.NoError(t, os.Symlink("server", filepath.Join(dir, "web")))
	r = checkConfig(root(t, dir), "web", false)
	require.True(t, r.read)
	require.Equal(t, "web/heroku-applink-service-mesh.yaml", r.path)
	require.Equal(t, []string{"/healthcheck (the health check)", "/public/*"}, r.bypass)
	require.Len(t, r.warnings, 2)
	require.Contains(t, r.warnings[0].Text, "server/heroku-applink-service-mesh.yml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml, with\nthat exact name. Rename it.")

	// A folder that leaves the app, or is not there yet, is not looked
	// into, and nothing else is taken for the file the mesh reads.
	outside := appWith(t, map[string]string{"heroku-applink-service-mesh.yaml": "bogus: 1\n"})
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "linked")))
	for _, d := range []string{"linked", "../" + filepath.Base(outside), outside, "dist"} {
		r := checkConfig(root(t, dir), d, false)
		require.False(t, r.read, d)
		require.False(t, r.fatal, d)
		require.Empty(t, r.bypass, d)
		require.Empty(t, r.appPort, d)
		last := r.warnings[len(r.warnings)-1]
		require.Equal(t, "mesh-config-unreadable", last.Kind, d)
		require.Contains(t, last.Text, "which this build cannot look into", d)
	}
	require.Empty(t, checkConfig(root(t, t.TempDir()), "dist", false).warnings, "no config file anywhere: nothing to say")

	r = checkConfig(root(t, dir), "", true)
	require.True(t, r.found)
	require.False(t, r.read)
	require.Contains(t, r.warnings[0].Text, "none was checked")
	require.False(t, checkConfig(root(t, t.TempDir()), "", true).found)
}

func TestMisplaced(t *testing.T) {
	r := check(t, appWith(t, map[string]string{
		"heroku-applink-service-mesh.yml":                 "app: {}\n",
		"Heroku-AppLink-Service-Mesh.yaml":                "app: {}\n",
		"heroku-integration-service-mesh.yaml":            "app: {}\n",
		"config/heroku-applink-service-mesh.yaml":         "app: {}\n",
		"a/b/c/heroku-applink-service-mesh.yaml":          "app: {}\n",
		"a/b/c/d/heroku-applink-service-mesh.yaml":        "too deep to look",
		"node_modules/x/heroku-applink-service-mesh.yaml": "a dependency's",
		".git/heroku-applink-service-mesh.yaml":           "hidden",
		"old/heroku-integration-service-mesh.yml":         "the old name, elsewhere",
	}))
	require.False(t, r.found)
	var texts []string
	for _, w := range r.warnings {
		require.Equal(t, "mesh-config-misplaced", w.Kind)
		texts = append(texts, w.Text)
	}
	want := []string{
		"Heroku-AppLink-Service-Mesh.yaml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml, with\nthat exact name. Rename it.",
		"heroku-applink-service-mesh.yml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml, with\nthat exact name. Rename it.",
		"heroku-integration-service-mesh.yaml is the name from before AppLink: the AppLink mesh reads\nheroku-applink-service-mesh.yaml. Rename it.",
		"a/b/c/heroku-applink-service-mesh.yaml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml,\nunder that exact name, from the app's root directory. Move it there.",
		"config/heroku-applink-service-mesh.yaml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml,\nunder that exact name, from the app's root directory. Move it there.",
		"old/heroku-integration-service-mesh.yml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml,\nunder that exact name, from the app's root directory. Move it there.",
	}
	if diff := cmp.Diff(want, texts); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPreAppLinkContent: a file under the pre-AppLink name is worth
// renaming only when the AppLink mesh loads what it holds.
func TestPreAppLinkContent(t *testing.T) {
	for content, want := range map[string]string{
		"mesh:\n  authentication:\n    bypassRoutes: [/health]\n": "heroku-integration-service-mesh.yaml is the name from before AppLink: the AppLink mesh reads\n" +
			"heroku-applink-service-mesh.yaml. Rename it.",
		"integration:\n  apiUrl: https://example.com\n": "heroku-integration-service-mesh.yaml is the name from before AppLink: the AppLink mesh reads\n" +
			"heroku-applink-service-mesh.yaml, but would not load this file once renamed, and would exit at\n" +
			"boot: line 1: field integration not found.\nFix it before you rename it, or remove it.",
	} {
		r := check(t, appWith(t, map[string]string{"heroku-integration-service-mesh.yaml": content}))
		require.Equal(t, []finding{{"mesh-config-misplaced", 0, want}}, r.warnings)
	}
}

func TestUnreadable(t *testing.T) {
	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("app: {}\n"), 0o644))
	for name, create := range map[string]func(p string) error{
		"a symbolic link":    func(p string) error { return os.Symlink(victim, p) },
		"a named pipe":       func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"a directory":        func(p string) error { return os.Mkdir(p, 0o755) },
		"larger than 64 KiB": func(p string) error { return os.WriteFile(p, make([]byte, 65<<10), 0o644) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, create(filepath.Join(dir, configName)))
			r := check(t, dir)
			require.True(t, r.found)
			require.False(t, r.read)
			require.Len(t, r.warnings, 1)
			require.Equal(t, "mesh-config-unreadable", r.warnings[0].Kind)
			require.Contains(t, r.warnings[0].Text, "it is "+name)
			var out, errOut bytes.Buffer
			r.report(output.New(&out, &errOut, output.Classic, false))
			require.Equal(t, "-----> Checking heroku-applink-service-mesh.yaml\n", out.String(), "nothing said of routes in a file not read")
		})
	}
}

func TestConfigTranscripts(t *testing.T) {
	tests := []struct {
		name             string
		files            map[string]string
		wantOut, wantErr string
		kinds            []string
	}{
		{name: "no file: nothing said", files: map[string]string{"Procfile": "web: x\n"}},
		{
			name:  "bypass routes",
			files: map[string]string{configName: "mesh:\n  authentication:\n    bypassRoutes:\n      - /health\n      - /public/*\n"},
			wantOut: "-----> Checking heroku-applink-service-mesh.yaml\n" +
				"       Routes that skip AppLink authentication:\n" +
				"         /healthcheck (the health check)\n" +
				"         /health\n" +
				"         /public/*\n" +
				"       Every other route answers 401 unless the request comes from Salesforce\n" +
				"       through AppLink.\n",
		},
		{
			name:  "nothing bypasses",
			files: map[string]string{configName: "mesh:\n  healthcheck:\n    enable: \"false\"\n"},
			wantOut: "-----> Checking heroku-applink-service-mesh.yaml\n" +
				"       No route skips AppLink authentication: every request must come from\n" +
				"       Salesforce through AppLink.\n",
		},
		{
			name:    "an unknown key",
			files:   map[string]string{configName: "app:\n  port: 3000\nmesh:\n  healthchecks:\n    route: /health\n"},
			wantOut: "-----> Checking heroku-applink-service-mesh.yaml\n",
			wantErr: "\n" +
				" !     Warning: The service mesh will not start with heroku-applink-service-mesh.yaml: it reads the\n" +
				" !     file strictly, and exits at boot with \"Invalid YAML config\":\n" +
				" !\n" +
				" !       line 4: field healthchecks not found\n" +
				" !\n" +
				" !     The mesh knows app.port, app.host, mesh.authentication.bypassRoutes,\n" +
				" !     mesh.healthcheck.enable and mesh.healthcheck.route.\n" +
				" !\n" +
				" !     Fix the file, or remove it to use the mesh's defaults.\n" +
				"\n",
			kinds: []string{"mesh-config-unknown-key"},
		},
		{
			name:  "a route without a slash, and a misplaced copy",
			files: map[string]string{configName: "mesh:\n  authentication:\n    bypassRoutes: [health]\n", "config/heroku-applink-service-mesh.yml": "x"},
			wantOut: "-----> Checking heroku-applink-service-mesh.yaml\n" +
				"       Routes that skip AppLink authentication:\n" +
				"         /healthcheck (the health check)\n" +
				"       Every other route answers 401 unless the request comes from Salesforce\n" +
				"       through AppLink.\n",
			wantErr: "\n" +
				" !     Warning: config/heroku-applink-service-mesh.yml is not read by the mesh, which reads only heroku-applink-service-mesh.yaml,\n" +
				" !     under that exact name, from the app's root directory. Move it there.\n" +
				"\n" +
				"\n" +
				" !     Warning: mesh.authentication.bypassRoutes has \"health\", which does not start with /: it\n" +
				" !     never matches a request path, so that route still needs authentication.\n" +
				"\n",
			kinds: []string{"mesh-config-misplaced", "mesh-config-route"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			kinds := check(t, appWith(t, tt.files)).report(output.New(&out, &errOut, output.Classic, false))
			if diff := cmp.Diff(tt.wantOut, out.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, errOut.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			require.Equal(t, tt.kinds, kinds)
		})
	}
}

func TestAFileWrongEverywhereIsCut(t *testing.T) {
	var b bytes.Buffer
	for i := range 25 {
		b.WriteString("key" + string(rune('a'+i)) + ": 1\n")
	}
	r := check(t, appWith(t, map[string]string{configName: b.String()}))
	require.True(t, r.fatal)
	require.Len(t, r.decoded, 11)
	require.Equal(t, "and 15 more", r.decoded[10].Text)
}

func writeFile(dir, name string, data []byte) error {
	return os.WriteFile(filepath.Join(dir, name), data, 0o644)
}

// TestMergeBomb: each level merges the one before twice, which doubles the
// work per level; the check refuses it at once, counting its aliases before
// any decoder expands them (the mesh's decoder refuses it too, as excessive
// aliasing).
func TestMergeBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("app: &a0 {port: \"3000\"}\n")
	for i := 1; i < 64; i++ {
		fmt.Fprintf(&b, "l%d: &a%d {<<: [*a%d, *a%d]}\n", i, i, i-1, i-1)
	}
	b.WriteString("mesh: {<<: [*a63, *a63]}\n")
	r := check(t, appWith(t, map[string]string{configName: b.String()}))
	require.True(t, r.fatal)
	require.Equal(t, []finding{{Kind: "mesh-config-invalid",
		Text: "the file holds over 200 keys or 100000 values once its aliases are expanded, where a file the mesh loads holds 9 keys at most"}}, r.decoded)
}
