package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
)

func writeVars(t *testing.T, vars map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for k, v := range vars {
		require.NoError(t, os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600))
	}
	return dir
}

func TestReadEnvDirReadsOnlyTheNamedVars(t *testing.T) {
	dir := writeVars(t, map[string]string{
		config.VarVersion: "0.2.2",
		config.VarMirror:  "https://mirror.example.com/x",
		"PATH":            "/evil",
		"LD_PRELOAD":      "/evil.so",
		"GIT_DIR":         "/evil",
	})
	got, err := config.ReadEnvDir(dir, config.Names)
	require.NoError(t, err)
	want := map[string]string{config.VarVersion: "0.2.2", config.VarMirror: "https://mirror.example.com/x"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadEnvDirMissingIsEmpty(t *testing.T) {
	got, err := config.ReadEnvDir(filepath.Join(t.TempDir(), "nope"), config.Names)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestReadEnvDirErrors(t *testing.T) {
	t.Run("not a directory", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(f, nil, 0o600))
		_, err := config.ReadEnvDir(f, config.Names)
		require.ErrorContains(t, err, "is not a directory")
	})
	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("0.2.2"), 0o644))
	for kind, create := range map[string]func(p string) error{
		"a directory":     func(p string) error { return os.Mkdir(p, 0o755) },
		"a named pipe":    func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"a symbolic link": func(p string) error { return os.Symlink(victim, p) },
	} {
		t.Run("var is "+kind, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, create(filepath.Join(dir, config.VarVersion)))
			_, err := config.ReadEnvDir(dir, config.Names)
			require.EqualError(t, err, "invalid "+config.VarVersion+": is not a regular file (it is "+kind+")",
				"never followed, never opened for a read that could block")
			var cerr *config.Error
			require.ErrorAs(t, err, &cerr)
			require.Contains(t, cerr.Help(), "write the value\ninto a regular file of that name", "not config:unset, which cannot help")
		})
	}
	t.Run("huge value", func(t *testing.T) {
		dir := writeVars(t, map[string]string{config.VarVersion: strings.Repeat("1", 100_000)})
		_, err := config.ReadEnvDir(dir, config.Names)
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
		{"nothing set", nil, "default", "official release bucket"},
		{"version", map[string]string{config.VarVersion: " v0.2.2\n"}, "v0.2.2", "official release bucket"},
		{"official bucket named", map[string]string{config.VarBucket: source.OfficialBucket}, "default", "official release bucket"},
		{"bucket", map[string]string{config.VarBucket: "my-bucket.example"}, "default", "bucket my-bucket.example"},
		{"mirror wins over bucket", map[string]string{config.VarMirror: "http://127.0.0.1:8080", config.VarBucket: "other"}, "default", "mirror http://127.0.0.1:8080"},
		{"mirror credentials are never shown", map[string]string{config.VarMirror: "https://TOKEN@mirror.example.com"}, "default", "mirror https://xxxxx@mirror.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse(tt.vars)
			require.NoError(t, err)
			require.Equal(t, tt.wantRequest, cfg.Request.String())
			require.Equal(t, tt.wantSource, cfg.Source.String())
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

func TestReadKnobs(t *testing.T) {
	tests := []struct {
		name, timeout, delay, deadline string
		want                           config.Knobs
		wantErr                        string
	}{
		{name: "unset is the default"},
		{name: "seconds", timeout: "2", delay: "0.05", deadline: "600", want: config.Knobs{Timeout: 2 * time.Second, RetryDelay: 50 * time.Millisecond, Deadline: 10 * time.Minute}},
		{name: "deadline NaN", deadline: "nan", wantErr: `HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE="nan"`},
		{name: "NaN", timeout: "NaN", wantErr: `HEROKU_APPLINK_BUILDPACK_TIMEOUT="NaN": want a number of seconds greater than 0`},
		{name: "zero would switch timeouts off", timeout: "0", wantErr: `HEROKU_APPLINK_BUILDPACK_TIMEOUT="0"`},
		{name: "infinite", delay: "+Inf", wantErr: `HEROKU_APPLINK_BUILDPACK_RETRY_DELAY="+Inf"`},
		{name: "negative", delay: "-1", wantErr: `HEROKU_APPLINK_BUILDPACK_RETRY_DELAY="-1"`},
		{name: "over an hour", timeout: "3601", wantErr: "at most 3600"},
		{name: "not a number", timeout: "10s", wantErr: `"10s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{config.KnobTimeout: tt.timeout, config.KnobRetryDelay: tt.delay, config.KnobDeadline: tt.deadline}
			got, err := config.ReadKnobs(func(k string) string { return env[k] })
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestVarNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"HEROKU_APPLINK_TOKEN", "DATABASE_URL", "not-a-name", "9LIVES"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("secret"), 0o000))
	}
	require.NoError(t, os.Symlink("/nonexistent", filepath.Join(dir, "APP_PORT")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "A_DIRECTORY"), 0o755))
	names, ok := config.VarNames(dir)
	require.True(t, ok)
	require.Equal(t, []string{"APP_PORT", "DATABASE_URL", "HEROKU_APPLINK_TOKEN"}, names, "names only: no file is opened, so mode 000 and dangling links are fine")

	names, ok = config.VarNames(filepath.Join(dir, "missing"))
	require.False(t, ok)
	require.Nil(t, names)
	names, ok = config.VarNames(t.TempDir())
	require.True(t, ok)
	require.Empty(t, names)
}
