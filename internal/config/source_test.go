package config_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
)

func TestURLAndKind(t *testing.T) {
	const object = "heroku-applink-service-mesh-v0.2.2-amd64"
	mirror := func(raw string) config.Source {
		s, err := config.Mirror(raw)
		require.NoError(t, err)
		return s
	}
	bucket := func(name string) config.Source {
		s, err := config.Bucket(name)
		require.NoError(t, err)
		return s
	}
	tests := []struct {
		name     string
		src      config.Source
		wantURL  string
		wantText string
	}{
		{"official", config.Source{}, "https://heroku-applink-service-mesh-binaries.s3.dualstack.us-east-1.amazonaws.com/" + object, "official"},
		{"official bucket named", bucket(config.OfficialBucket), config.OfficialURL(object), "official"},
		{"bucket", bucket("my-bucket-2"), "https://my-bucket-2.s3.dualstack.us-east-1.amazonaws.com/" + object, "bucket"},
		{"mirror with a path", mirror("https://mirror.example.com/applink/"), "https://mirror.example.com/applink/" + object, "mirror"},
		{"loopback http", mirror("http://127.0.0.1:8080"), "http://127.0.0.1:8080/" + object, "mirror"},
		{"localhost", mirror("http://localhost:1/m"), "http://localhost:1/m/" + object, "mirror"},
		{"ipv6 loopback", mirror("http://[::1]:9/"), "http://[::1]:9/" + object, "mirror"},
		{"password", mirror("https://user:s3cret@mirror.example.com"), "https://user:s3cret@mirror.example.com/" + object, "mirror"},
		{"token as user name", mirror("https://TOKEN@mirror.example.com"), "https://TOKEN@mirror.example.com/" + object, "mirror"},
		{"an encoded path", mirror("https://user:pw@mirror.example.com/scope/bin%2Fs/"), "https://user:pw@mirror.example.com/scope/bin%2Fs/" + object, "mirror"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.wantURL, tt.src.URL(object))
			require.NotRegexp(t, "s3cret|pw|TOKEN", config.Redact(tt.src.URL(object)), "the log's URL holds no credential")
			require.Equal(t, tt.wantText, tt.src.Kind())
			require.Equal(t, tt.name != "official" && tt.name != "official bucket named", tt.src.Overridden())
		})
	}
}

func TestInvalidSources(t *testing.T) {
	for raw, want := range map[string]string{
		"ftp://mirror.example.com":                          `uses the scheme "ftp"`,
		"http://mirror.example.com":                         "uses http to a host that is not loopback",
		"http://10.0.0.1":                                   "uses http to a host that is not loopback",
		"/just/a/path":                                      "is not an absolute URL",
		"https://user:pw@[::1":                              "https://xxxxx@[::1 is not an absolute URL",
		"https://m.example.com/?a=b":                        "has a query or fragment",
		"https://m.example.com/a b":                         "white space",
		"https://m.example.com/#pw@x":                       "https://xxxxx@x has a query or fragment",
		"http://TOKEN@mirror.example.com/":                  "http://xxxxx@mirror.example.com/ uses http",
		"https://Zm9v/YmFyTOKEN@mirror.example.com":         `https://xxxxx@mirror.example.com has an "@" after its host`,
		"https://deploy:2024/S3CRETpw@mirror.example.com":   `https://xxxxx@mirror.example.com has an "@" after its host`,
		"https://mirror.example.com/@scope/":                `https://xxxxx@scope/ has an "@" after its host`,
		"https://mirror.example.com/%40scope/":              `https://xxxxx@scope/ has an "@" after its host`,
		"https://deploy:2024/S3CRETpw%40mirror.example.com": `https://xxxxx@mirror.example.com has an "@" after its host`,
		"https://Zm9v/YmFyTOKEN%40mirror.example.com":       `https://xxxxx@mirror.example.com has an "@" after its host`,
	} {
		t.Run(raw, func(t *testing.T) {
			_, err := config.Mirror(raw)
			require.ErrorContains(t, err, want)
			require.NotContains(t, err.Error(), "pw@")
			require.NotContains(t, err.Error(), "TOKEN")
			require.NotContains(t, err.Error(), "S3CRET")
		})
	}
	for _, name := range []string{"My_Bucket", "192.168.1.1", "ab", "a/b/c", "a..b", "-ab", "ab-", ".ab", "ab.", "caf\u00e9", strings.Repeat("a", 64)} {
		_, err := config.Bucket(name)
		require.ErrorContains(t, err, "is not a valid S3 bucket name", name)
	}
}

func TestRedactAndPublic(t *testing.T) {
	tests := []struct{ raw, redacted, public string }{
		{"https://mirror.example.com/x", "https://mirror.example.com/x", "https://mirror.example.com/x"},
		{"https://user:pw@mirror.example.com/x", "https://xxxxx@mirror.example.com/x", "https://mirror.example.com/x"},
		{"http://TOKEN@127.0.0.1:9/x", "http://xxxxx@127.0.0.1:9/x", "http://127.0.0.1:9/x"},
		{"https://user:pw@[::1", "https://xxxxx@[::1", "https://[::1"},
		{"//0#pw@x", "xxxxx@x", "x"},
		{"https://Zm9v/YmFyS3CRET@mirror.example.com/x", "https://xxxxx@mirror.example.com/x", "https://mirror.example.com/x"},
		{"https://Zm9v/YmFyS3CRET%40mirror.example.com/x", "https://xxxxx@mirror.example.com/x", "https://mirror.example.com/x"},
		{"https://us%40er:pw@mirror.example.com/x", "https://xxxxx@mirror.example.com/x", "https://mirror.example.com/x"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.redacted, config.Redact(tt.raw))
		require.Equal(t, tt.public, config.Public(tt.raw))
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.8.9.1": true, "::1": true,
		"10.0.0.1": false, "example.com": false, "": false} {
		require.Equal(t, want, config.IsLoopback(host), host)
	}
}
