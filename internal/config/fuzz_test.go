package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
)

// FuzzEnvDir: any bytes in the config var files read and parse or fail
// cleanly, and a password in a mirror URL never reaches an error or the
// source description.
func FuzzEnvDir(f *testing.F) {
	f.Add([]byte("0.2.2"), []byte("https://mirror.example.com/m"), []byte("my-bucket"))
	f.Add([]byte(" latest\n"), []byte("http://u:hunter2@127.0.0.1:9/x"), []byte(""))
	f.Add([]byte("^^1"), []byte("ftp://u:hunter2@x"), []byte("Bad_Bucket"))
	f.Add([]byte("\xff"), []byte("https://[::1"), []byte("192.168.1.1"))
	f.Fuzz(func(t *testing.T, version, mirror, bucket []byte) {
		dir := t.TempDir()
		for name, data := range map[string][]byte{config.VarVersion: version, config.VarMirror: mirror, config.VarBucket: bucket} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cfg, err := config.Read(dir)
		const secret = "hunter2"
		// The secret is a credential only before the mirror URL's last "@";
		// after it, it is the host, and a bad version or bucket name is
		// echoed on purpose.
		m := string(mirror)
		at := strings.LastIndex(m, "@")
		credential := at > 0 && strings.Contains(m[:at], secret) && !strings.Contains(m[at:], secret) &&
			!strings.Contains(string(version), secret) && !strings.Contains(string(bucket), secret)
		if err != nil {
			if credential && strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the password: %v", err)
			}
			return
		}
		if credential && strings.Contains(config.Redact(cfg.Source.URL("o")), secret) {
			t.Fatalf("the log's URL leaks the password: %s", config.Redact(cfg.Source.URL("o")))
		}
	})
}
