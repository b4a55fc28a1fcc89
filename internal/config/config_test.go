package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
)

func writeVars(t *testing.T, vars map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for k, v := range vars {
		require.NoError(t, os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600))
	}
	return dir
}

func TestReadReadsOnlyItsVars(t *testing.T) {
	dir := writeVars(t, map[string]string{
		config.VarVersion: "0.2.2",
		config.VarMirror:  "https://mirror.example.com/x",
		"PATH":            "/evil",
		"LD_PRELOAD":      "/evil.so",
	})
	// Another var's file that would block or fail if it were opened.
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "GIT_DIR"), 0o600))
	got, err := config.Read(dir)
	require.NoError(t, err)
	if diff := cmp.Diff([]string{"0.2.2", "https://mirror.example.com/x/o"}, []string{got.Request.String(), got.Source.URL("o")}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, missing := range []string{filepath.Join(t.TempDir(), "nope"), ""} {
		got, err = config.Read(missing)
		require.NoError(t, err, "no config var directory is no configuration")
		require.Equal(t, "default", got.Request.String())
		require.False(t, got.Source.Overridden())
	}
}

func TestReadEnvDirErrors(t *testing.T) {
	t.Run("not a directory", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(f, nil, 0o600))
		_, err := config.Read(f)
		require.EqualError(t, err, "cannot read the config var directory "+f+": not a directory")
	})
	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("0.2.2"), 0o644))
	for kind, create := range map[string]func(p string) error{
		"a directory":            func(p string) error { return os.Mkdir(p, 0o755) },
		"a named pipe":           func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"a symbolic link out of": func(p string) error { return os.Symlink(victim, p) },
	} {
		t.Run("var is "+kind, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, create(filepath.Join(dir, config.VarVersion)))
			_, err := config.Read(dir)
			if kind == "a symbolic link out of" {
				kind += " " + dir
			}
			require.EqualError(t, err, "invalid "+config.VarVersion+": is not a regular file (it is "+kind+")",
				"never followed, never opened for a read that could block")
			var cerr *config.Error
			require.ErrorAs(t, err, &cerr)
			require.Contains(t, cerr.Help(), "write the\nvalue into a regular file of that name", "not config:unset, which cannot help")
			require.Equal(t, "config::invalid", cerr.Reason())
		})
	}
	t.Run("huge value", func(t *testing.T) {
		dir := writeVars(t, map[string]string{config.VarVersion: strings.Repeat("1", 100_000)})
		_, err := config.Read(dir)
		require.EqualError(t, err, "invalid "+config.VarVersion+": is longer than 4096 bytes")
	})
}

func TestParse(t *testing.T) {
	tests := []struct {
		name        string
		vars        map[string]string
		wantRequest string
		wantSource  string
	}{
		{"nothing set", nil, "default", config.OfficialURL("o")},
		{"version", map[string]string{config.VarVersion: " v0.2.2\n"}, "v0.2.2", config.OfficialURL("o")},
		{"official bucket named", map[string]string{config.VarBucket: config.OfficialBucket}, "default", config.OfficialURL("o")},
		{"bucket", map[string]string{config.VarBucket: "my-bucket-2"}, "default", "https://my-bucket-2.s3.dualstack.us-east-1.amazonaws.com/o"},
		{"mirror wins over bucket", map[string]string{config.VarMirror: "http://127.0.0.1:8080", config.VarBucket: "other"}, "default", "http://127.0.0.1:8080/o"},
		{"mirror credentials are kept for the request, hidden from the log", map[string]string{config.VarMirror: "https://TOKEN@mirror.example.com"}, "default", "https://xxxxx@mirror.example.com/o"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse(tt.vars)
			require.NoError(t, err)
			require.Equal(t, tt.wantRequest, cfg.Request.String())
			require.Equal(t, tt.wantSource, config.Redact(cfg.Source.URL("o")))
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string
	}{
		{"version", map[string]string{config.VarVersion: "^^1"}, "invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION"},
		{"bucket uppercase", map[string]string{config.VarBucket: "My_Bucket"}, `invalid HEROKU_APPLINK_SERVICE_MESH_S3_BUCKET: "My_Bucket" is not a valid S3 bucket name`},
		{"bucket ip", map[string]string{config.VarBucket: "192.168.1.1"}, "not a valid S3 bucket name"},
		{"bucket with dots", map[string]string{config.VarBucket: "my.bucket"}, `"my.bucket" has dots, which S3's https certificate does not cover: set HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL=https://s3.<region>.amazonaws.com/my.bucket instead`},
		{"bucket short", map[string]string{config.VarBucket: "ab"}, "not a valid S3 bucket name"},
		{"bucket with slash", map[string]string{config.VarBucket: "a/b/c"}, "not a valid S3 bucket name"},
		{"mirror ftp", map[string]string{config.VarMirror: "ftp://mirror.example.com"}, `uses the scheme "ftp"`},
		{"mirror http remote", map[string]string{config.VarMirror: "http://mirror.example.com"}, "uses http to a host that is not loopback"},
		{"mirror http private", map[string]string{config.VarMirror: "http://10.0.0.1"}, "uses http to a host that is not loopback"},
		{"mirror relative", map[string]string{config.VarMirror: "/just/a/path"}, "is not an absolute URL"},
		{"mirror garbage", map[string]string{config.VarMirror: "https://user:pw@[::1"}, "https://xxxxx@[::1 is not an absolute URL"},
		{"mirror query", map[string]string{config.VarMirror: "https://m.example.com/?a=b"}, "has a query or fragment"},
		{"mirror space", map[string]string{config.VarMirror: "https://m.example.com/a b"}, "white space"},
		{"password in a fragment", map[string]string{config.VarMirror: "//0#pw@x"}, "is not an absolute URL"},
		{"password in a fragment, https", map[string]string{config.VarMirror: "https://m.example.com/#pw@x"}, "https://xxxxx@x has a query or fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(tt.vars)
			require.ErrorContains(t, err, tt.wantErr)
			require.NotContains(t, err.Error(), "pw@")
		})
	}
}

func TestErrorHelp(t *testing.T) {
	_, err := config.Parse(map[string]string{config.VarMirror: "ftp://x"})
	var cerr *config.Error
	require.ErrorAs(t, err, &cerr)
	require.Contains(t, cerr.Help(), "https://")
}

// TestALinkWithinIsFollowed: mounted secrets are links within their own
// folder; those are read, as the platform means them.
func TestALinkWithinIsFollowed(t *testing.T) {
	dir := writeVars(t, map[string]string{"..data": "0.2.2"})
	require.NoError(t, os.Symlink("..data", filepath.Join(dir, config.VarVersion)))
	got, err := config.Read(dir)
	require.NoError(t, err)
	require.Equal(t, "0.2.2", got.Request.String())
}
