package install_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/digest"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

const binRel = "vendor/heroku-applink/bin"

var (
	mesh    = testhelpers.FakeMesh("0.2.2", "amd64")
	latest  = source.Object("latest", "amd64")
	meshLen = output.Size(int64(len(mesh.Data)))
)

// world is a mirror, an inventory and an installer writing a plain
// transcript.
type world struct {
	mirror   *testhelpers.Mirror
	inv      inventory.Inventory
	out, err bytes.Buffer
	inst     *install.Installer
	cache    *install.Cache
}

func newWorld(t *testing.T, arts ...testhelpers.Artifact) *world {
	t.Helper()
	w := &world{mirror: testhelpers.StartMirror(t), inv: testhelpers.Inventory("", arts...)}
	for _, a := range arts {
		w.mirror.Put(a.Object(), a.Data)
	}
	w.inst = testhelpers.Installer(&w.out, &w.err, output.Classic)
	w.cache = &install.Cache{Dir: t.TempDir()}
	return w
}

// release resolves the request against the inventory, downloading from the
// mirror; keyFile is a key shipped in the buildpack, or empty.
func (w *world) release(t *testing.T, request, keyFile string) install.Release {
	t.Helper()
	cfg, err := config.Parse(map[string]string{config.VarVersion: request, config.VarMirror: w.mirror.URL()})
	require.NoError(t, err)
	rel, err := install.Select(cfg, w.inv, keyFile, "amd64")
	require.NoError(t, err)
	return rel
}

// install runs the pipeline into a fresh root and, on success, saves what
// it installed to the cache, as the classic adapter does.
func (w *world) install(t *testing.T, rel install.Release, store install.Store) (install.Installed, string, error) {
	t.Helper()
	w.out.Reset()
	w.err.Reset()
	root := t.TempDir()
	inst, err := w.inst.Install(context.Background(), rel, root, binRel, store)
	if err == nil && store != nil {
		require.NoError(t, w.cache.Save(context.Background(), inst))
	}
	return inst, root, err
}

func (w *world) log() string {
	return strings.ReplaceAll(w.out.String(), w.mirror.URL(), "http://MIRROR")
}

func assertInstalled(t *testing.T, root string, want []byte) {
	t.Helper()
	bin := filepath.Join(root, binRel)
	got, err := os.ReadFile(filepath.Join(bin, source.MeshBinary))
	require.NoError(t, err)
	require.Equal(t, want, got)
	info, err := os.Stat(filepath.Join(bin, source.MeshBinary))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), info.Mode().Perm())
	link, err := os.Readlink(filepath.Join(bin, "heroku-applink-service-mesh-latest-amd64"))
	require.NoError(t, err)
	require.Equal(t, source.MeshBinary, link, "the legacy link is relative so it survives the slug's move to /app")
	entries, err := os.ReadDir(bin)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() == source.MeshBinary {
			continue
		}
		// Only the upstream's link names, no temporary file.
		require.Regexp(t, `^heroku-applink-service-mesh-(latest|v\d+\.\d+\.\d+)-amd64$`, e.Name())
		target, err := os.Readlink(filepath.Join(bin, e.Name()))
		require.NoError(t, err)
		require.Equal(t, source.MeshBinary, target)
	}
}

func assertNothingInstalled(t *testing.T, root string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, binRel))
	require.NoError(t, err)
	require.Empty(t, entries, "no binary, link or temporary file")
}

func TestPinnedRelease(t *testing.T) {
	w := newWorld(t, mesh)
	rel := w.release(t, "", "")
	inst, root, err := w.install(t, rel, w.cache)
	require.NoError(t, err)
	assertInstalled(t, root, mesh.Data)
	testhelpers.Equal(t, `-----> Installing Heroku AppLink Service Mesh 0.2.2 (linux-amd64)
       Version 0.2.2 (newest pinned release)
       Downloading from http://MIRROR/heroku-applink-service-mesh-v0.2.2-amd64
       Downloaded `+meshLen+` in 1.0s
       Verified `+mesh.Checksum()+` (pinned checksum)
`, w.log())
	require.Empty(t, w.err.String())
	testhelpers.Equal(t, install.Record{Version: "0.2.2", OS: "linux", Arch: "amd64", URL: source.OfficialURL(mesh.Object()),
		Checksum: mesh.Digest(), Verified: install.ByPin}, inst.Record)
	require.False(t, inst.Reused)

	t.Run("a cached copy is used with zero requests", func(t *testing.T) {
		before := w.mirror.Requests()
		inst, root, err := w.install(t, rel, w.cache)
		require.NoError(t, err)
		require.True(t, inst.Reused)
		require.Equal(t, before, w.mirror.Requests())
		assertInstalled(t, root, mesh.Data)
		testhelpers.Equal(t, `-----> Installing Heroku AppLink Service Mesh 0.2.2 (linux-amd64)
       Version 0.2.2 (newest pinned release)
       Using the cached copy (`+meshLen+`)
       Verified `+mesh.Checksum()+` (pinned checksum)
`, w.log())
	})

	t.Run("a cached copy that no longer hashes to the pin is discarded", func(t *testing.T) {
		entry := filepath.Join(w.cache.Dir, "sha256", mesh.Digest().Hex())
		require.NoError(t, os.WriteFile(entry, []byte("tampered"), 0o600))
		before := w.mirror.Requests()
		inst, root, err := w.install(t, rel, w.cache)
		require.NoError(t, err)
		require.False(t, inst.Reused)
		require.Equal(t, before+1, w.mirror.Requests())
		assertInstalled(t, root, mesh.Data)
		require.Contains(t, w.log(), "       Discarding the cached copy: it no longer matches "+mesh.Checksum()+" (got sha256:")
		cached, err := os.ReadFile(entry)
		require.NoError(t, err)
		require.Equal(t, mesh.Data, cached, "the cache is repaired")
	})

	t.Run("a cache folder that is a link is not followed, nor emptied", func(t *testing.T) {
		victim := t.TempDir()
		precious := filepath.Join(victim, mesh.Digest().Hex(), "precious")
		require.NoError(t, os.MkdirAll(filepath.Dir(precious), 0o755))
		require.NoError(t, os.WriteFile(precious, []byte("not the buildpack's"), 0o600))
		entries := filepath.Join(w.cache.Dir, "sha256")
		require.NoError(t, os.RemoveAll(entries))
		require.NoError(t, os.Symlink(victim, entries))

		inst, root, err := w.install(t, rel, w.cache)
		require.NoError(t, err)
		require.False(t, inst.Reused)
		assertInstalled(t, root, mesh.Data)
		require.Contains(t, w.log(), "       Discarding the cached copy: the cache's sha256 folder is a symbolic link\n")
		kept, err := os.ReadFile(precious)
		require.NoError(t, err)
		require.Equal(t, "not the buildpack's", string(kept))
		info, err := os.Lstat(entries)
		require.NoError(t, err)
		require.True(t, info.IsDir(), "the link is gone, and the cache has a folder of its own again")
		cached, err := os.ReadFile(filepath.Join(entries, mesh.Digest().Hex()))
		require.NoError(t, err)
		require.Equal(t, mesh.Data, cached, "the cache works again")
	})

	t.Run("a mirror that changes does not invalidate a pinned copy", func(t *testing.T) {
		other := newWorld(t, mesh)
		other.cache = w.cache
		before := w.mirror.Requests()
		inst, _, err := other.install(t, other.release(t, "", ""), other.cache)
		require.NoError(t, err)
		require.True(t, inst.Reused, "the pin names the bytes, wherever they come from")
		require.Equal(t, before, w.mirror.Requests())
		require.Zero(t, other.mirror.Requests())
	})
}

func TestPinnedFailuresLeaveNothing(t *testing.T) {
	tests := []struct {
		name     string
		fault    http.HandlerFunc
		wantErr  string
		wantHelp string
	}{
		{"404", testhelpers.Status(404), "server answered 404 Not Found", "Version 0.2.2 for amd64 was not found at mirror"},
		{"403", testhelpers.Status(403), "server answered 403 Forbidden", "was not found"},
		{"tampered", testhelpers.Body([]byte("#!/bin/sh\necho evil\n")), "checksum mismatch: expected " + mesh.Checksum(), "does not match the checksum pinned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, mesh)
			w.mirror.Fault(mesh.Object(), tt.fault)
			root := t.TempDir()
			bin := filepath.Join(root, binRel)
			// A binary this build did not install (another build's, beside
			// this one in the same directory) is not this build's to remove.
			require.NoError(t, os.MkdirAll(bin, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(bin, source.MeshBinary), []byte("another build's"), 0o755))

			_, err := w.inst.Install(context.Background(), w.release(t, "", ""), root, binRel, w.cache)
			require.ErrorContains(t, err, tt.wantErr)
			var derr *install.DownloadError
			require.ErrorAs(t, err, &derr)
			require.Contains(t, derr.Help(), tt.wantHelp)
			entries, err := os.ReadDir(bin)
			require.NoError(t, err)
			require.Len(t, entries, 1, "no temporary file and no link is left")
			kept, err := os.ReadFile(filepath.Join(bin, source.MeshBinary))
			require.NoError(t, err)
			require.Equal(t, "another build's", string(kept))
			cached, err := os.ReadDir(w.cache.Dir)
			require.NoError(t, err)
			require.Empty(t, cached, "the cache holds no unverified bytes")
		})
	}
}

func TestPathsAreCheckedBeforeDownloading(t *testing.T) {
	w := newWorld(t, mesh)
	root, outside := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "vendor"), 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "vendor/heroku-applink")))
	_, err := w.inst.Install(context.Background(), w.release(t, "", ""), root, binRel, nil)
	var perr *files.PathError
	require.ErrorAs(t, err, &perr)
	require.ErrorContains(t, err, "it is a symlink")
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing is written through the link")
	require.Zero(t, w.mirror.Requests())
}

// signedWorld publishes latest, signed by key, on the mirror, and the key
// itself on a second mirror that stands in for the official bucket.
type signedWorld struct {
	*world
	key      *testhelpers.SigningKey
	official *testhelpers.Mirror
}

func newSignedWorld(t *testing.T) *signedWorld {
	t.Helper()
	w := &signedWorld{world: newWorld(t), key: testhelpers.Key(t, "Release"), official: testhelpers.StartMirror(t)}
	w.mirror.PublishSigned(latest, mesh.Data, w.key, true)
	w.official.Put(source.KeyObject, w.key.PublicKey())
	return w
}

// latest is the release with the key from the stand-in official bucket,
// pinned to fingerprint (empty: not pinned).
func (w *signedWorld) latest(t *testing.T, fingerprint string) install.Release {
	t.Helper()
	w.inv.SigningKey = fingerprint
	rel := w.release(t, "latest", "")
	rel.Trust.KeyURL = w.official.URL() + "/" + source.KeyObject
	return rel
}

// keyFor parses the world's release key as the buildpack would.
func (w *signedWorld) keyFor(t *testing.T) *signature.Key {
	t.Helper()
	key, err := signature.ParseKey(w.key.PublicKey(), "")
	require.NoError(t, err)
	return key
}

func (w *signedWorld) log() string {
	return strings.ReplaceAll(w.world.log(), w.official.URL(), "http://OFFICIAL")
}

func TestSignedRelease(t *testing.T) {
	w := newSignedWorld(t)
	rel := w.latest(t, w.key.Fingerprint)
	inst, root, err := w.install(t, rel, w.cache)
	require.NoError(t, err)
	assertInstalled(t, root, mesh.Data)
	testhelpers.Equal(t, `-----> Installing Heroku AppLink Service Mesh latest (linux-amd64)
       Downloading from http://MIRROR/heroku-applink-service-mesh-latest-amd64
       Downloaded `+meshLen+` in 1.0s
       Verified `+mesh.Checksum()+` (signature by key `+w.key.Fingerprint+` from http://OFFICIAL/public-key.asc)
`, w.log())
	testhelpers.Equal(t, `
 !     Warning: You asked for latest, which this buildpack does not pin.
 !     It is verified by its OpenPGP signature instead of a pinned checksum.
 !     For builds that install exactly the same bytes every time, set
 !     HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION to a pinned version.

`, w.err.String())
	testhelpers.Equal(t, install.Record{Version: "latest", OS: "linux", Arch: "amd64", URL: w.mirror.URL() + "/" + latest,
		Checksum: mesh.Digest(), Verified: install.BySignature, Signer: w.key.Fingerprint,
		KeySource: w.official.URL() + "/public-key.asc", Signature: inst.Record.Signature}, inst.Record)
	require.NoError(t, w.keyFor(t).Verify(bytes.NewReader(mesh.Data), []byte(inst.Record.Signature)), "the record keeps the release's signature")
	require.Zero(t, w.mirror.Hits(source.KeyObject), "the key never comes from the mirror")

	t.Run("an unchanged release is reused after asking for its signature", func(t *testing.T) {
		before := w.mirror.Requests() + w.official.Requests()
		inst, root, err := w.install(t, rel, w.cache)
		require.NoError(t, err)
		require.True(t, inst.Reused)
		require.Equal(t, before+2, w.mirror.Requests()+w.official.Requests(), "the key and the signature, to check the kept copy against")
		require.Equal(t, 1, w.mirror.Hits(latest), "the release is not downloaded again")
		assertInstalled(t, root, mesh.Data)
		testhelpers.Equal(t, `-----> Installing Heroku AppLink Service Mesh latest (linux-amd64)
       Unchanged at its source (the same signature): using the cached copy (`+meshLen+`)
       Verified `+mesh.Checksum()+` (signature by key `+w.key.Fingerprint+` from http://OFFICIAL/public-key.asc)
`, w.log())
	})

	t.Run("a changed release is downloaded and verified with the signature fetched once", func(t *testing.T) {
		newer := testhelpers.FakeMesh("0.4.0", "amd64")
		w.mirror.PublishSigned(latest, newer.Data, w.key, false)
		before, sigs := w.mirror.Hits(latest), w.mirror.Hits(latest+".asc")
		inst, root, err := w.install(t, rel, w.cache)
		require.NoError(t, err)
		require.False(t, inst.Reused)
		require.Equal(t, before+1, w.mirror.Hits(latest))
		require.Equal(t, sigs+1, w.mirror.Hits(latest+".asc"), "the signature that judged the copy verifies the download")
		assertInstalled(t, root, newer.Data)
		require.Contains(t, w.log(), "       Discarding the cached copy: the release changed at its source (it publishes another signature)\n")
		require.Equal(t, newer.Digest(), inst.Record.Checksum)
	})
}

func TestSignedReleaseRefusals(t *testing.T) {
	mallory := testhelpers.Key(t, "Mallory")
	tests := []struct {
		name    string
		setup   func(w *signedWorld)
		wantErr string
		as      any
	}{
		{"signature by another key", func(w *signedWorld) {
			w.mirror.Put(latest+".asc", mallory.Sign(mesh.Data))
		}, "signed by another key", new(*signature.BadSignatureError)},
		{"tampered binary", func(w *signedWorld) {
			w.mirror.Put(latest, append([]byte("x"), mesh.Data...))
		}, "signature verification failed", new(*signature.BadSignatureError)},
		{"the key source serves another key", func(w *signedWorld) {
			w.official.Put(source.KeyObject, mallory.PublicKey())
		}, "differs from the pinned", new(*signature.FingerprintError)},
		{"missing signature", func(w *signedWorld) {
			w.mirror.Fault(latest+".asc", testhelpers.Status(404))
		}, "failed to download the signature", new(*install.SignatureFetchError)},
		{"garbage signature", func(w *signedWorld) {
			w.mirror.Put(latest+".asc", []byte("garbage"))
		}, "not ASCII-armoured", new(*signature.BadSignatureError)},
		{"truncated signature", func(w *signedWorld) {
			sig := w.key.Sign(mesh.Data)
			w.mirror.Put(latest+".asc", sig[:len(sig)-60])
		}, "signature verification failed", new(*signature.BadSignatureError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newSignedWorld(t)
			tt.setup(w)
			root := t.TempDir()
			_, err := w.inst.Install(context.Background(), w.latest(t, w.key.Fingerprint), root, binRel, w.cache)
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorAs(t, err, tt.as)
			assertNothingInstalled(t, root)
			cached, err := os.ReadDir(w.cache.Dir)
			require.NoError(t, err)
			require.Empty(t, cached, "nothing unverified is cached")
		})
	}
}

// TestReuseOnlyWhatThisBuildTrusts: a copy cached under earlier trust rules
// is kept only when this build's rules accept its evidence; anything else
// is verified afresh, and the log says why.
func TestReuseOnlyWhatThisBuildTrusts(t *testing.T) {
	t.Run("a newly pinned fingerprint refuses a copy signed by another key", func(t *testing.T) {
		w := newSignedWorld(t)
		_, _, err := w.install(t, w.latest(t, ""), w.cache)
		require.NoError(t, err, "first build: verified against a key that is not pinned")
		require.Contains(t, w.err.String(), "the release was verified against an unpinned key")

		pinned := testhelpers.Key(t, "Heroku").Fingerprint
		_, root, err := w.install(t, w.latest(t, pinned), w.cache)
		require.ErrorContains(t, err, "signing key fingerprint "+w.key.Fingerprint+" differs from the pinned "+pinned)
		require.Contains(t, w.log(), "       Discarding the cached copy: it was signed by key "+w.key.Fingerprint+"; this build accepts only key "+pinned+"\n")
		require.NotContains(t, w.log(), "304 Not Modified")
		assertNothingInstalled(t, root)

		// And with an empty cache the same build is refused the same way.
		_, _, err = w.install(t, w.latest(t, pinned), nil)
		require.ErrorContains(t, err, "differs from the pinned "+pinned)
	})

	t.Run("a copy whose key came from another source is verified again", func(t *testing.T) {
		w := newSignedWorld(t)
		keyFile := testhelpers.WriteKeyFile(t, t.TempDir(), w.key)
		_, _, err := w.install(t, w.release(t, "latest", keyFile), w.cache)
		require.NoError(t, err)
		require.Contains(t, w.log(), "(signature by key "+w.key.Fingerprint+" from the key file "+keyFile+")")

		inst, _, err := w.install(t, w.latest(t, ""), w.cache)
		require.NoError(t, err)
		require.False(t, inst.Reused)
		require.Contains(t, w.log(), "       Discarding the cached copy: its signing key came from buildpack keys/public-key.asc; this build takes the key from "+
			"http://OFFICIAL/public-key.asc\n")
		require.Equal(t, w.official.URL()+"/public-key.asc", inst.Record.KeySource)
	})

	t.Run("a key file replaced by another key refuses the old signature", func(t *testing.T) {
		w := newSignedWorld(t)
		bp := t.TempDir()
		keyFile := testhelpers.WriteKeyFile(t, bp, w.key)
		_, _, err := w.install(t, w.release(t, "latest", keyFile), w.cache)
		require.NoError(t, err)

		rotated := testhelpers.Key(t, "Rotated")
		testhelpers.WriteKeyFile(t, bp, rotated)
		_, _, err = w.install(t, w.release(t, "latest", keyFile), w.cache)
		require.ErrorContains(t, err, "signed by another key")
		require.Contains(t, w.log(), "Discarding the cached copy: it was signed by key "+w.key.Fingerprint+"; this build accepts only key "+rotated.Fingerprint)
	})

	// Whoever can write the cache can write the record beside the bytes: only
	// the kept signature, checked again with this build's key, ties them to
	// the release.
	for _, tt := range []struct {
		name string
		edit func(w *signedWorld, rec *install.Record, evil []byte)
		want string
	}{
		{"other bytes under their own checksum", func(w *signedWorld, rec *install.Record, evil []byte) {},
			"its recorded signature does not verify over it: "},
		{"other bytes with a signature by another key", func(w *signedWorld, rec *install.Record, evil []byte) {
			rec.Signature = string(testhelpers.Key(t, "Mallory").Sign(evil))
		}, "the release changed at its source (it publishes another signature)"},
		{"other bytes without a signature", func(w *signedWorld, rec *install.Record, evil []byte) { rec.Signature = "" },
			"its metadata does not hold the signature to check it against again"},
		{"other bytes with garbage for a signature", func(w *signedWorld, rec *install.Record, evil []byte) { rec.Signature = "trust me" },
			"the release changed at its source (it publishes another signature)"},
		{"an older release, signed by the release key", func(w *signedWorld, rec *install.Record, evil []byte) {
			rec.Signature = string(w.key.Sign(evil))
		}, "the release changed at its source (it publishes another signature)"},
	} {
		t.Run("a cache holding "+tt.name+" is not trusted", func(t *testing.T) {
			for _, fingerprint := range []string{"pinned", ""} {
				w := newSignedWorld(t)
				rel := w.latest(t, map[string]string{"pinned": w.key.Fingerprint}[fingerprint])
				_, _, err := w.install(t, rel, w.cache)
				require.NoError(t, err)

				evil := []byte("#!/bin/sh\necho unsigned\n")
				sum := digest.Of(evil)
				require.NoError(t, os.WriteFile(filepath.Join(w.cache.Dir, "sha256", sum.Hex()), evil, 0o600))
				idx := readIndex(t, w.cache.Dir)
				idx.Releases[0].Checksum = sum
				tt.edit(w, &idx.Releases[0], evil)
				writeIndex(t, w.cache.Dir, idx)

				inst, root, err := w.install(t, rel, w.cache)
				require.NoError(t, err)
				require.False(t, inst.Reused)
				assertInstalled(t, root, mesh.Data)
				require.Contains(t, w.log(), "       Discarding the cached copy: "+tt.want)
				require.NotContains(t, w.log(), "Unchanged at its source")
				require.Equal(t, mesh.Digest(), inst.Record.Checksum)
			}
		})
	}

	t.Run("a cache and a source that agree on another key's signature are refused", func(t *testing.T) {
		w := newSignedWorld(t)
		rel := w.latest(t, w.key.Fingerprint)
		_, _, err := w.install(t, rel, w.cache)
		require.NoError(t, err)
		evil := []byte("#!/bin/sh\necho unsigned\n")
		mallory := testhelpers.Key(t, "Mallory").Sign(evil)
		require.NoError(t, os.WriteFile(filepath.Join(w.cache.Dir, "sha256", digest.Of(evil).Hex()), evil, 0o600))
		idx := readIndex(t, w.cache.Dir)
		idx.Releases[0].Checksum, idx.Releases[0].Signature = digest.Of(evil), string(mallory)
		writeIndex(t, w.cache.Dir, idx)
		w.mirror.Put(latest, evil)
		w.mirror.Put(latest+".asc", mallory)

		_, root, err := w.install(t, rel, w.cache)
		require.Contains(t, w.log(), "       Discarding the cached copy: its recorded signature does not verify over it: the file was signed by another key\n")
		require.ErrorContains(t, err, "signature verification failed: the file was signed by another key")
		assertNothingInstalled(t, root)
	})

	t.Run("a mirror that changes invalidates an unpinned copy", func(t *testing.T) {
		w := newSignedWorld(t)
		_, _, err := w.install(t, w.latest(t, w.key.Fingerprint), w.cache)
		require.NoError(t, err)
		other := newSignedWorld(t)
		other.cache = w.cache
		other.mirror.PublishSigned(latest, mesh.Data, w.key, false)
		other.official.Put(source.KeyObject, w.key.PublicKey())
		_, _, err = other.install(t, other.latest(t, w.key.Fingerprint), other.cache)
		require.NoError(t, err)
		require.Contains(t, other.world.log(), "Discarding the cached copy: the download URL changed ("+w.mirror.URL()+"/"+latest+" to http://MIRROR/"+latest+")")
	})
}

// TestCredentialsAreNeverKept: a mirror's credentials are used for the
// requests and appear in no line of the log, no record and no cache file.
func TestCredentialsAreNeverKept(t *testing.T) {
	w := newSignedWorld(t)
	withUser := strings.Replace(w.mirror.URL(), "http://", "http://deploy:S3CRET@", 1)
	withToken := strings.Replace(w.mirror.URL(), "http://", "http://T0KEN@", 1)
	for _, mirror := range []string{withUser, withToken} {
		cfg, err := config.Parse(map[string]string{config.VarVersion: "latest", config.VarMirror: mirror})
		require.NoError(t, err)
		inv := inventory.Inventory{SigningKey: w.key.Fingerprint}
		rel, err := install.Select(cfg, inv, "", "amd64")
		require.NoError(t, err)
		w.out.Reset()
		inst, err := w.inst.Install(context.Background(), rel, t.TempDir(), binRel, w.cache)
		require.NoError(t, err)
		require.NoError(t, w.cache.Save(context.Background(), inst))
		require.Equal(t, w.mirror.URL()+"/"+latest, inst.Record.URL)
		require.Equal(t, w.mirror.URL()+"/"+source.KeyObject, inst.Record.KeySource)
		require.Contains(t, w.out.String(), "http://xxxxx@127.0.0.1", "the mirror's URL is shown redacted")
		for _, secret := range []string{"S3CRET", "T0KEN", "deploy"} {
			require.NotContains(t, w.out.String()+w.err.String(), secret)
			require.NoError(t, filepath.Walk(w.cache.Dir, func(p string, info os.FileInfo, err error) error {
				require.NoError(t, err)
				if info.Mode().IsRegular() {
					data, err := os.ReadFile(p)
					require.NoError(t, err)
					require.NotContains(t, string(data), secret, p)
				}
				return nil
			}))
		}
	}
}

func TestTrustRules(t *testing.T) {
	const pinned = "ABCDEF0123456789ABCDEF0123456789ABCDEF01"
	mirror, err := source.Mirror("https://user:pw@mirror.example.com/m")
	require.NoError(t, err)
	bucket, err := source.Bucket("other-bucket")
	require.NoError(t, err)
	official := source.OfficialURL(source.KeyObject)

	tests := []struct {
		name      string
		trust     install.Trust
		want      install.Trust
		keySource string
	}{
		{"official", install.TrustFor(source.Official(), "", ""), install.Trust{KeyURL: official}, official},
		{"without a pinned fingerprint the key never comes from a mirror", install.TrustFor(mirror, "", ""), install.Trust{KeyURL: official}, official},
		{"nor from an overridden bucket", install.TrustFor(bucket, "", ""), install.Trust{KeyURL: official}, official},
		{"a pinned fingerprint makes the mirror's key safe to use", install.TrustFor(mirror, pinned, ""),
			install.Trust{Fingerprint: pinned, KeyURL: "https://user:pw@mirror.example.com/m/public-key.asc"}, "https://mirror.example.com/m/public-key.asc"},
		{"a key file shipped in the buildpack", install.TrustFor(mirror, "", "/bp/keys/public-key.asc"),
			install.Trust{KeyFile: "/bp/keys/public-key.asc", KeyURL: official}, "buildpack keys/public-key.asc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testhelpers.Equal(t, tt.want, tt.trust)
			require.Equal(t, tt.keySource, tt.trust.KeySource())
		})
	}
}

func TestResolve(t *testing.T) {
	bp, env := t.TempDir(), t.TempDir()
	testhelpers.WriteInventory(t, bp, testhelpers.Inventory("", mesh))
	require.NoError(t, os.WriteFile(filepath.Join(env, config.VarVersion), []byte("latest"), 0o644))
	rel, inv, err := install.Resolve(env, bp, "amd64")
	require.NoError(t, err)
	require.Len(t, inv.Artifacts, 1)
	require.False(t, rel.Pinned())
	require.Equal(t, "latest (linux-amd64)", rel.String())
	require.Empty(t, rel.Trust.KeyFile)

	k := testhelpers.WriteKeyFile(t, bp, testhelpers.Key(t, "Release"))
	require.NoError(t, os.Remove(filepath.Join(env, config.VarVersion)))
	rel, _, err = install.Resolve(env, bp, "arm64")
	require.NoError(t, err)
	require.True(t, rel.Fallback, "nothing is pinned for arm64: latest, by signature")
	require.Equal(t, k, rel.Trust.KeyFile)

	require.NoError(t, os.WriteFile(filepath.Join(env, config.VarVersion), []byte("~9"), 0o644))
	_, _, err = install.Resolve(env, bp, "amd64")
	var unknown *inventory.UnknownVersionError
	require.ErrorAs(t, err, &unknown, "a constraint cannot go to the signature path")
}

func TestCachePrune(t *testing.T) {
	w := newSignedWorld(t)
	inst, _, err := w.install(t, w.latest(t, w.key.Fingerprint), w.cache)
	require.NoError(t, err)
	pinned := testhelpers.FakeMesh("0.3.0", "amd64")
	for _, p := range []string{"sha256/" + pinned.Digest().Hex(), "sha256/" + strings.Repeat("b", 64), "sha256/.tmp-2147483647-1-2",
		"signed/heroku-applink-service-mesh-latest-amd64/artifact", "stray"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(w.cache.Dir, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(w.cache.Dir, p), []byte("x"), 0o600))
	}
	removed, err := w.cache.Prune(testhelpers.Inventory("", pinned).Checksums())
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"signed", "sha256/" + strings.Repeat("b", 64), "sha256/.tmp-2147483647-1-2"}, removed,
		"only names the cache recognises: its own entries, its older layout, temporary files of builds that are gone")
	var left []string
	require.NoError(t, filepath.Walk(w.cache.Dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			rel, _ := filepath.Rel(w.cache.Dir, p)
			left = append(left, rel)
		}
		return err
	}))
	require.ElementsMatch(t, []string{"index.toml", "stray", "sha256/" + pinned.Digest().Hex(), "sha256/" + inst.Record.Checksum.Hex()}, left,
		"the pinned releases and the unpinned one in the index are kept")

	// A pinned build's save empties the index, and the next prune drops the
	// unpinned file.
	require.NoError(t, w.cache.Save(context.Background(), install.Installed{Record: install.Record{Checksum: pinned.Digest(), Verified: install.ByPin}, Reused: true}))
	removed, err = w.cache.Prune(testhelpers.Inventory("", pinned).Checksums())
	require.NoError(t, err)
	require.Equal(t, []string{"sha256/" + inst.Record.Checksum.Hex()}, removed)
}

func TestUnreadableIndexIsDiscarded(t *testing.T) {
	w := newSignedWorld(t)
	rel := w.latest(t, w.key.Fingerprint)
	_, _, err := w.install(t, rel, w.cache)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(w.cache.Dir, "index.toml"), []byte("[[releases]\n"), 0o600))
	inst, _, err := w.install(t, rel, w.cache)
	require.NoError(t, err)
	require.False(t, inst.Reused)
	require.Contains(t, w.log(), "       Discarding the cached copy: its metadata is unreadable (")
}

// TestPruneNeverReachesThroughALink: whatever the cache folder holds, the
// prune removes names in it, never files a link points to.
func TestPruneNeverReachesThroughALink(t *testing.T) {
	victim := t.TempDir()
	for _, name := range []string{strings.Repeat("c", 64), "keep-me"} {
		require.NoError(t, os.WriteFile(filepath.Join(victim, name), []byte("not the cache's"), 0o644))
	}
	t.Run("sha256 is a link", func(t *testing.T) {
		cache := &install.Cache{Dir: t.TempDir()}
		require.NoError(t, os.Symlink(victim, filepath.Join(cache.Dir, "sha256")))
		removed, err := cache.Prune(nil)
		require.NoError(t, err)
		require.Equal(t, []string{"sha256"}, removed)
		assertVictim(t, victim)
	})
	t.Run("an entry is a link to a file outside", func(t *testing.T) {
		cache := &install.Cache{Dir: t.TempDir()}
		require.NoError(t, os.Mkdir(filepath.Join(cache.Dir, "sha256"), 0o755))
		require.NoError(t, os.Symlink(filepath.Join(victim, strings.Repeat("c", 64)), filepath.Join(cache.Dir, "sha256", strings.Repeat("d", 64))))
		require.NoError(t, os.Symlink(victim, filepath.Join(cache.Dir, "sha256", strings.Repeat("e", 64))))
		removed, err := cache.Prune(nil)
		require.NoError(t, err)
		require.Len(t, removed, 2)
		assertVictim(t, victim)
	})
	t.Run("the old layout is a link", func(t *testing.T) {
		cache := &install.Cache{Dir: t.TempDir()}
		require.NoError(t, os.Symlink(victim, filepath.Join(cache.Dir, "signed")))
		_, err := cache.Prune(nil)
		require.NoError(t, err)
		assertVictim(t, victim)
	})
}

func assertVictim(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "nothing outside the cache folder is removed")
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		require.Equal(t, "not the cache's", string(data))
	}
}

// TestCachedCopiesThatAreNotFiles: an entry the cache did not write as a
// regular file is discarded without being followed, read or blocked on, and
// the release is downloaded; nothing outside the cache changes.
func TestCachedCopiesThatAreNotFiles(t *testing.T) {
	outside := t.TempDir()
	right := filepath.Join(outside, "right-bytes")
	require.NoError(t, os.WriteFile(right, mesh.Data, 0o600))
	tests := []struct {
		name  string
		plant func(t *testing.T, entry string)
		want  string
	}{
		{"a link to a file with the right bytes", func(t *testing.T, p string) { require.NoError(t, os.Symlink(right, p)) },
			"the cached binary is not a regular file (it is a symbolic link)"},
		{"a link to an endless device", func(t *testing.T, p string) { require.NoError(t, os.Symlink("/dev/zero", p)) },
			"the cached binary is not a regular file (it is a symbolic link)"},
		{"a named pipe", func(t *testing.T, p string) { require.NoError(t, syscall.Mkfifo(p, 0o600)) },
			"the cached binary is not a regular file (it is a named pipe)"},
		{"a directory", func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o755)) },
			"the cached binary is not a regular file (it is a directory)"},
		{"a file over the size cap", func(t *testing.T, p string) {
			f, err := os.Create(p)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(600<<20)) // sparse: no disk used
			require.NoError(t, f.Close())
		}, "the cached binary is 629145600 bytes, over the 536870912-byte limit (not read)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, mesh)
			require.NoError(t, os.MkdirAll(filepath.Join(w.cache.Dir, "sha256"), 0o755))
			tt.plant(t, filepath.Join(w.cache.Dir, "sha256", mesh.Digest().Hex()))
			inst, root, err := w.install(t, w.release(t, "", ""), w.cache)
			require.NoError(t, err)
			require.False(t, inst.Reused)
			require.Contains(t, w.log(), "       Discarding the cached copy: "+tt.want+"\n")
			assertInstalled(t, root, mesh.Data)
			data, err := os.ReadFile(right)
			require.NoError(t, err)
			require.Equal(t, mesh.Data, data)
			info, err := os.Stat(right)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "a file outside is never made executable")
			entry, err := os.Lstat(filepath.Join(w.cache.Dir, "sha256", mesh.Digest().Hex()))
			require.NoError(t, err)
			require.True(t, entry.Mode().IsRegular(), "the cache entry is a verified file again")
		})
	}
}

// TestOfficialKeyRotation: with no fingerprint pinned and no key file, the
// key the official bucket serves now decides, for a cached copy as for a
// download.
func TestOfficialKeyRotation(t *testing.T) {
	w := newSignedWorld(t)
	_, _, err := w.install(t, w.latest(t, ""), w.cache)
	require.NoError(t, err)
	before := w.mirror.Requests() + w.official.Requests()
	inst, _, err := w.install(t, w.latest(t, ""), w.cache)
	require.NoError(t, err)
	require.True(t, inst.Reused)
	require.Equal(t, before+2, w.mirror.Requests()+w.official.Requests(), "the key, and the signature to judge the copy by")

	rotated := testhelpers.Key(t, "Rotated")
	w.official.Put(source.KeyObject, rotated.PublicKey())
	_, _, err = w.install(t, w.latest(t, ""), w.cache)
	require.ErrorContains(t, err, "signature verification failed: the file was signed by another key")
	require.Contains(t, w.log(), "       Discarding the cached copy: it was signed by key "+w.key.Fingerprint+"; this build accepts only key "+rotated.Fingerprint+"\n")
}

// TestA304IsNoDownload: the buildpack never asks conditionally, so a 304
// is a source that misbehaves, not a release.
func TestA304IsNoDownload(t *testing.T) {
	w := newWorld(t, mesh)
	w.mirror.Fault(mesh.Object(), testhelpers.Status(304))
	_, root, err := w.install(t, w.release(t, "", ""), w.cache)
	var derr *install.DownloadError
	require.ErrorAs(t, err, &derr)
	require.ErrorContains(t, err, "server answered 304 Not Modified")
	require.Contains(t, derr.Help(), "The server refused the request (304 Not Modified)")
	assertNothingInstalled(t, root)
}

// TestAKeptCopyNeedsItsSignatureAtTheSource: the signature is asked for on
// every reuse; a source that cannot give it fails the build as a fresh
// download would, and keeps the copy for a later build.
func TestAKeptCopyNeedsItsSignatureAtTheSource(t *testing.T) {
	w := newSignedWorld(t)
	rel := w.latest(t, w.key.Fingerprint)
	_, _, err := w.install(t, rel, w.cache)
	require.NoError(t, err)
	w.mirror.Fault(latest+".asc", testhelpers.Status(404))
	_, root, err := w.install(t, rel, w.cache)
	var serr *install.SignatureFetchError
	require.ErrorAs(t, err, &serr)
	assertNothingInstalled(t, root)
	require.Len(t, readIndex(t, w.cache.Dir).Releases, 1, "the copy stays for a later build")
}

func TestStatusesThatAreNotTemporary(t *testing.T) {
	for code, want := range map[int]string{
		401: "asked for credentials, or refused the ones in\nHEROKU_APPLINK_SERVICE_MESH_MIRROR_URL",
		407: "A proxy between the build and the server requires authentication",
		410: "The server refused the request (410 Gone); retrying will not change that.",
		400: "The server refused the request (400 Bad Request)",
	} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			w := newWorld(t, mesh)
			w.mirror.Fault(mesh.Object(), testhelpers.Status(code))
			_, _, err := w.install(t, w.release(t, "", ""), w.cache)
			var derr *install.DownloadError
			require.ErrorAs(t, err, &derr)
			require.Contains(t, derr.Help(), want)
			require.NotContains(t, derr.Help(), "temporary")
			require.Equal(t, 1, w.mirror.Hits(mesh.Object()), "not retried")
		})
	}
}

// TestACancelledCheckKeepsTheCache: a build cancelled while it hashes the
// cached copy leaves the copy alone: cancellation is no evidence against it.
func TestACancelledCheckKeepsTheCache(t *testing.T) {
	w := newWorld(t, mesh)
	rel := w.release(t, "", "")
	_, _, err := w.install(t, rel, w.cache)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root := t.TempDir()
	_, err = w.inst.Install(ctx, rel, root, binRel, w.cache)
	require.ErrorIs(t, err, context.Canceled)
	require.NotContains(t, w.log(), "Discarding")
	assertNothingInstalled(t, root)
	cached, err := os.ReadFile(filepath.Join(w.cache.Dir, "sha256", mesh.Digest().Hex()))
	require.NoError(t, err)
	require.Equal(t, mesh.Data, cached)
}

// cacheIndex is the classic cache's index as a test edits it.
type cacheIndex struct {
	Releases []install.Record `toml:"releases"`
}

func readIndex(t *testing.T, dir string) cacheIndex {
	t.Helper()
	var idx cacheIndex
	_, err := toml.DecodeFile(filepath.Join(dir, "index.toml"), &idx)
	require.NoError(t, err)
	require.Len(t, idx.Releases, 1)
	return idx
}

func writeIndex(t *testing.T, dir string, idx cacheIndex) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, toml.NewEncoder(&buf).Encode(idx))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.toml"), buf.Bytes(), 0o600))
}

// TestVerifyFile: a file is verified as it is, never through a link, and
// the read stops when the build is cancelled.
func TestVerifyFile(t *testing.T) {
	release := testhelpers.Key(t, "Release")
	key, err := signature.ParseKey(release.PublicKey(), "")
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "mesh")
	require.NoError(t, os.WriteFile(file, mesh.Data, 0o600))
	sig := release.Sign(mesh.Data)
	require.NoError(t, install.VerifyFile(context.Background(), key, file, sig))

	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(file, link))
	var notRegular *files.NotRegularError
	require.ErrorAs(t, install.VerifyFile(context.Background(), key, link, sig), &notRegular)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, install.VerifyFile(ctx, key, file, sig), context.Canceled)
}
