package install_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

const latestObject = "heroku-applink-service-mesh-latest-amd64"

type signedFixture struct {
	mirror   *harness.Mirror
	official *harness.Mirror
	key      *harness.SigningKey
	cfg      config.Config
	out, err bytes.Buffer
	inst     *install.Installer
}

func newSignedFixture(t *testing.T) *signedFixture {
	t.Helper()
	f := &signedFixture{mirror: harness.NewMirror(), official: harness.NewMirror()}
	t.Cleanup(f.mirror.Close)
	t.Cleanup(f.official.Close)
	var err error
	f.key, err = harness.NewSigningKey("Release")
	require.NoError(t, err)
	f.mirror.PublishSigned(latestObject, mesh, f.key, true)
	f.official.Put("public-key.asc", f.key.PublicKey())
	f.cfg, err = config.Parse(map[string]string{config.VarMirror: f.mirror.URL(), config.VarVersion: "latest"})
	require.NoError(t, err)
	client := fetch.New("test")
	client.Backoff = func(int) time.Duration { return 0 }
	f.inst = &install.Installer{Fetcher: client, Out: output.New(&f.out, &f.err, output.Classic, false), Now: time.Now}
	return f
}

func (f *signedFixture) target(t *testing.T, trust install.Trust) install.Target {
	t.Helper()
	tg, err := install.Plan(f.cfg, inventory.Inventory{}, "amd64")
	require.NoError(t, err)
	require.NotNil(t, tg.Unpinned)
	tg.Unpinned.Trust = trust
	return tg
}

func (f *signedFixture) install(t *testing.T, tg install.Target, root string, cache *install.Cache) (install.SignedMeta, error) {
	t.Helper()
	f.out.Reset()
	f.err.Reset()
	_, meta, err := f.inst.InstallSigned(context.Background(), tg, root, "bin", cache)
	return meta, err
}

func assertNothingInstalled(t *testing.T, root string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "bin"))
	require.NoError(t, err)
	require.Empty(t, entries)
}

func TestTrustRules(t *testing.T) {
	bp := t.TempDir()
	pinned := inventory.Inventory{SigningKey: "ABCDEF0123456789ABCDEF0123456789ABCDEF01"}
	mirror, err := config.Parse(map[string]string{config.VarMirror: "https://mirror.example.com/m"})
	require.NoError(t, err)
	bucket, err := config.Parse(map[string]string{config.VarBucket: "other-bucket"})
	require.NoError(t, err)
	official := config.OfficialURL("public-key.asc")

	require.Equal(t, install.Trust{KeyURL: official}, install.TrustFor(config.Config{}, inventory.Inventory{}, bp))
	require.Equal(t, install.Trust{KeyURL: official}, install.TrustFor(mirror, inventory.Inventory{}, bp),
		"without a pinned fingerprint the key never comes from a mirror")
	require.Equal(t, install.Trust{KeyURL: official}, install.TrustFor(bucket, inventory.Inventory{}, bp),
		"nor from an overridden bucket")
	require.Equal(t, install.Trust{Fingerprint: pinned.SigningKey, KeyURL: "https://mirror.example.com/m/public-key.asc"},
		install.TrustFor(mirror, pinned, bp), "a pinned fingerprint makes the mirror's key safe to use")

	require.NoError(t, os.MkdirAll(filepath.Join(bp, "keys"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bp, "keys/public-key.asc"), []byte("k"), 0o644))
	require.Equal(t, filepath.Join(bp, "keys/public-key.asc"), install.TrustFor(mirror, inventory.Inventory{}, bp).KeyFile)
}

func TestInstallSigned(t *testing.T) {
	f := newSignedFixture(t)
	root := t.TempDir()
	meta, err := f.install(t, f.target(t, install.Trust{Fingerprint: f.key.Fingerprint, KeyURL: f.mirror.URL() + "/public-key.asc"}), root, nil)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(root, "bin/heroku-applink-service-mesh"))
	require.NoError(t, err)
	require.Equal(t, mesh, got)
	require.Equal(t, sum(mesh), meta.SHA256)
	require.Equal(t, f.key.Fingerprint, meta.Fingerprint)
	require.Contains(t, f.out.String(), "       Verified signature by key "+f.key.Fingerprint+" (from "+f.mirror.URL()+"/public-key.asc)\n")
	require.Contains(t, f.err.String(), " !     Warning: You asked for latest, which this buildpack does not pin.")
	require.NotContains(t, f.err.String(), "unpinned key")
}

func TestInstallSignedWithUnpinnedKey(t *testing.T) {
	f := newSignedFixture(t)
	root := t.TempDir()
	_, err := f.install(t, f.target(t, install.Trust{KeyURL: f.official.URL() + "/public-key.asc"}), root, nil)
	require.NoError(t, err)
	require.Equal(t, 1, f.official.Hits("public-key.asc"))
	require.Zero(t, f.mirror.Hits("public-key.asc"), "the mirror's key is never asked for")
	require.Contains(t, f.err.String(), "the release was verified against an unpinned key")
}

func TestInstallSignedRefusals(t *testing.T) {
	other, err := harness.NewSigningKey("Mallory")
	require.NoError(t, err)
	tests := []struct {
		name    string
		setup   func(f *signedFixture) install.Trust
		wantErr string
		as      any
	}{
		{"signature by another key", func(f *signedFixture) install.Trust {
			f.mirror.Put(latestObject+".asc", other.Sign(mesh))
			return install.Trust{Fingerprint: f.key.Fingerprint, KeyURL: f.mirror.URL() + "/public-key.asc"}
		}, "signed by another key", new(*signature.BadSignatureError)},
		{"tampered binary", func(f *signedFixture) install.Trust {
			f.mirror.Put(latestObject, append([]byte("x"), mesh...))
			return install.Trust{Fingerprint: f.key.Fingerprint, KeyURL: f.mirror.URL() + "/public-key.asc"}
		}, "signature verification failed", new(*signature.BadSignatureError)},
		{"mirror serves its own key", func(f *signedFixture) install.Trust {
			f.mirror.PublishSigned(latestObject, mesh, other, true)
			return install.Trust{Fingerprint: f.key.Fingerprint, KeyURL: f.mirror.URL() + "/public-key.asc"}
		}, "differs from the pinned " + "", new(*signature.FingerprintError)},
		{"missing signature", func(f *signedFixture) install.Trust {
			f.mirror.Fault(latestObject+".asc", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) })
			return install.Trust{Fingerprint: f.key.Fingerprint, KeyURL: f.mirror.URL() + "/public-key.asc"}
		}, "failed to download the signature", new(*install.SignatureFetchError)},
		{"garbage signature", func(f *signedFixture) install.Trust {
			f.mirror.Put(latestObject+".asc", []byte("garbage"))
			return install.Trust{Fingerprint: f.key.Fingerprint, KeyURL: f.mirror.URL() + "/public-key.asc"}
		}, "not ASCII-armoured", new(*signature.BadSignatureError)},
		{"truncated signature", func(f *signedFixture) install.Trust {
			sig := f.key.Sign(mesh)
			f.mirror.Put(latestObject+".asc", sig[:len(sig)-60])
			return install.Trust{Fingerprint: f.key.Fingerprint, KeyURL: f.mirror.URL() + "/public-key.asc"}
		}, "signature verification failed", new(*signature.BadSignatureError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSignedFixture(t)
			trust := tt.setup(f)
			root := t.TempDir()
			cache := &install.Cache{Dir: filepath.Join(t.TempDir(), "cache")}
			_, err := f.install(t, f.target(t, trust), root, cache)
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorAs(t, err, tt.as)
			assertNothingInstalled(t, root)
			_, serr := os.Stat(filepath.Join(cache.Dir, "signed"))
			require.True(t, os.IsNotExist(serr), "nothing unverified is cached")
		})
	}
}

func TestInstallSignedCache(t *testing.T) {
	f := newSignedFixture(t)
	trust := install.Trust{Fingerprint: f.key.Fingerprint, KeyURL: f.mirror.URL() + "/public-key.asc"}
	cache := &install.Cache{Dir: filepath.Join(t.TempDir(), "cache")}
	_, err := f.install(t, f.target(t, trust), t.TempDir(), cache)
	require.NoError(t, err)

	before := f.mirror.Requests()
	root := t.TempDir()
	_, err = f.install(t, f.target(t, trust), root, cache)
	require.NoError(t, err)
	require.Equal(t, before+1, f.mirror.Requests(), "one conditional request, and no key or signature request")
	require.Contains(t, f.out.String(), "Unchanged since it was cached (304 Not Modified)")
	got, err := os.ReadFile(filepath.Join(root, "bin/heroku-applink-service-mesh"))
	require.NoError(t, err)
	require.Equal(t, mesh, got)

	// A new release under the same name is downloaded and verified again.
	newer := append([]byte{}, mesh...)
	newer = append(newer, "# v0.4.0\n"...)
	f.mirror.PublishSigned(latestObject, newer, f.key, false)
	root = t.TempDir()
	meta, err := f.install(t, f.target(t, trust), root, cache)
	require.NoError(t, err)
	require.Equal(t, sum(newer), meta.SHA256)
	require.Contains(t, f.out.String(), "Verified signature by key")
	got, err = os.ReadFile(filepath.Join(root, "bin/heroku-applink-service-mesh"))
	require.NoError(t, err)
	require.Equal(t, newer, got)
}
