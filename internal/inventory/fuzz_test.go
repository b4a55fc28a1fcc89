package inventory_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

// FuzzParseRequest: any config var value parses or fails cleanly, and what
// parses resolves without panicking.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"", "latest", "0.2.2", "v0.2.2", "~0.2", "^1", ">=1.0, <2", "1.2.3.4", "^^1", "v", "\xff"} {
		f.Add(s)
	}
	inv, err := inventory.Parse(strings.NewReader(artifact("0.2.2", "amd64") + artifact("1.0.0-rc.1", "amd64")))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		req, err := inventory.ParseRequest(s)
		if err != nil {
			if len(err.Error()) > 400 {
				t.Fatalf("error echoes too much: %d bytes", len(err.Error()))
			}
			return
		}
		if !utf8.ValidString(req.String()) {
			t.Fatalf("request %q renders as invalid UTF-8", req.String())
		}
		a, err := inv.Resolve(req, "amd64")
		if err == nil && a.Arch != "amd64" {
			t.Fatalf("resolved %s for amd64", a.Arch)
		}
	})
}

// FuzzParse: any inventory.toml either yields only valid artifacts, which
// encode and parse back to the same inventory, or an error.
func FuzzParse(f *testing.F) {
	f.Add(artifact("0.2.2", "amd64"))
	f.Add(artifact("0.2.2", "amd64") + artifact("0.2.2", "amd64"))
	f.Add("[signing]\nfingerprint = \"" + strings.Repeat("A", 40) + "\"\n")
	f.Add("artifacts = 1\n")
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := inventory.Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, a := range inv.Artifacts {
			if (a.Arch != "amd64" && a.Arch != "arm64") || inventory.ValidChecksum(a.Checksum) != nil {
				t.Fatalf("invalid artifact accepted: %+v", a)
			}
			key := a.Version.String() + a.Arch
			if seen[key] {
				t.Fatalf("duplicate accepted: %s", key)
			}
			seen[key] = true
		}
		var buf bytes.Buffer
		if err := inv.Encode(&buf); err != nil {
			t.Fatalf("a valid inventory does not encode: %v", err)
		}
		back, err := inventory.Parse(&buf)
		if err != nil || len(back.Artifacts) != len(inv.Artifacts) || back.SigningKey != inv.SigningKey {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, inv, back)
		}
	})
}
