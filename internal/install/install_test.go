package install_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

const binDir = "vendor/heroku-applink/bin"

var (
	mesh    = testhelpers.FakeMesh("0.2.2", "amd64")
	newer   = testhelpers.FakeMesh("0.3.0", "amd64")
	meshLen = output.Size(int64(len(mesh.Data)))
)

// world is a buildpack with an inventory, a mirror, an app's config vars
// and an installer writing a plain transcript.
type world struct {
	bp, env  string
	mirror   *testhelpers.Mirror
	out, err bytes.Buffer
	inst     *install.Installer
}

func newWorld(t *testing.T, fingerprint string, arts ...testhelpers.Artifact) *world {
	t.Helper()
	w := &world{bp: t.TempDir(), env: t.TempDir(), mirror: testhelpers.StartMirror(t)}
	for _, a := range arts {
		w.mirror.Put(a.Object(), a.Data)
	}
	testhelpers.WriteInventory(t, w.bp, testhelpers.Inventory(fingerprint, arts...))
	w.set(t, config.VarMirror, w.mirror.URL())
	w.inst = testhelpers.Installer(&w.out, &w.err, output.Classic)
	return w
}

func (w *world) set(t *testing.T, name, value string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(w.env, name), []byte(value), 0o600))
}

func (w *world) resolve(t *testing.T) install.Release {
	t.Helper()
	rel, _, err := install.Resolve(w.env, w.bp, "amd64")
	require.NoError(t, err)
	return rel
}

// install runs the pipeline into a fresh build dir.
func (w *world) install(t *testing.T, kept *install.Kept) (install.Result, *os.Root, error) {
	t.Helper()
	return w.installInto(t, root(t, t.TempDir()), kept)
}

func (w *world) installInto(t *testing.T, dst *os.Root, kept *install.Kept) (install.Result, *os.Root, error) {
	t.Helper()
	w.out.Reset()
	w.err.Reset()
	res, err := w.inst.Install(context.Background(), w.resolve(t), dst, binDir, kept)
	return res, dst, err
}

func (w *world) log() string {
	return strings.ReplaceAll(w.out.String(), w.mirror.URL(), "http://MIRROR")
}

func root(t *testing.T, dir string) *os.Root {
	t.Helper()
	r, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

func assertInstalled(t *testing.T, dst *os.Root, want testhelpers.Artifact) {
	t.Helper()
	bin := filepath.Join(dst.Name(), binDir)
	got, err := os.ReadFile(filepath.Join(bin, install.Binary))
	require.NoError(t, err)
	require.Equal(t, want.Data, got)
	info, err := os.Stat(filepath.Join(bin, install.Binary))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), info.Mode().Perm())
	entries, err := os.ReadDir(bin)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if e.Name() != install.Binary {
			// Relative links survive the slug's move to /app.
			target, err := os.Readlink(filepath.Join(bin, e.Name()))
			require.NoError(t, err)
			require.Equal(t, install.Binary, target)
		}
	}
	require.ElementsMatch(t, install.Names(want.Version, "amd64"), names, "the binary and its links, nothing else")
}

func assertNothingInstalled(t *testing.T, dst *os.Root) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dst.Name(), binDir))
	require.Empty(t, entries, "no binary, link or temporary file")
}

func TestNames(t *testing.T) {
	require.Equal(t, "heroku-applink-service-mesh-v0.2.2-amd64", install.Object("0.2.2", "amd64"))
	require.Equal(t, "heroku-applink-service-mesh-v0.2.2-arm64", install.Object("v0.2.2", "arm64"))
	require.Equal(t, []string{"heroku-applink-service-mesh", "heroku-applink-service-mesh-latest-amd64", "heroku-applink-service-mesh-v0.2.2-amd64"}, install.Names("0.2.2", "amd64"))
	require.Equal(t, []string{"heroku-applink-service-mesh", "heroku-applink-service-mesh-latest-arm64"}, install.Names("latest", "arm64"))
}

func TestResolve(t *testing.T) {
	key := testhelpers.Key(t, "Release")
	tests := []struct {
		name, request, mirror, fingerprint string
		keyFile                            bool
		want                               install.Release
	}{
		{name: "default: the newest pin, from the mirror, by its checksum",
			want: install.Release{Version: "0.3.0", Checksum: newer.Checksum(), Public: config.OfficialURL(newer.Object()), URL: "MIRROR/" + newer.Object()}},
		{name: "a constraint", request: "~0.2",
			want: install.Release{Version: "0.2.2", Checksum: mesh.Checksum(), Public: config.OfficialURL(mesh.Object()), URL: "MIRROR/" + mesh.Object()}},
		{name: "the official bucket", request: "0.2.2", mirror: "-",
			want: install.Release{Version: "0.2.2", Checksum: mesh.Checksum(), Public: config.OfficialURL(mesh.Object()), URL: config.OfficialURL(mesh.Object())}},
		{name: "latest, not pinned: the key from the official bucket", request: "latest",
			want: install.Release{Version: "latest", URL: "MIRROR/heroku-applink-service-mesh-latest-amd64", Public: "MIRROR/heroku-applink-service-mesh-latest-amd64",
				Key: install.KeySource{URL: config.OfficialURL("public-key.asc")}}},
		{name: "a version not pinned, with a pinned key: the key from the mirror", request: "v9.9.9", fingerprint: key.Fingerprint,
			want: install.Release{Version: "9.9.9", URL: "MIRROR/heroku-applink-service-mesh-v9.9.9-amd64", Public: "MIRROR/heroku-applink-service-mesh-v9.9.9-amd64",
				Key: install.KeySource{Fingerprint: key.Fingerprint, URL: "MIRROR/public-key.asc"}}},
		{name: "a key file shipped in the buildpack", request: "latest", keyFile: true,
			want: install.Release{Version: "latest", URL: "MIRROR/heroku-applink-service-mesh-latest-amd64", Public: "MIRROR/heroku-applink-service-mesh-latest-amd64",
				Key: install.KeySource{File: "BP/keys/public-key.asc", URL: config.OfficialURL("public-key.asc")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, tt.fingerprint, mesh, newer)
			w.set(t, config.VarVersion, tt.request)
			if tt.mirror == "-" {
				require.NoError(t, os.Remove(filepath.Join(w.env, config.VarMirror)))
			}
			if tt.keyFile {
				testhelpers.WriteKeyFile(t, w.bp, key)
			}
			rel := w.resolve(t)
			require.Equal(t, []string{"0.3.0", "0.2.2"}, rel.Pins)
			require.Equal(t, "amd64", rel.Arch)
			rel.Pins, rel.Arch, rel.Request, rel.Source = nil, "", tt.want.Request, tt.want.Source
			for _, s := range []*string{&rel.URL, &rel.Public, &rel.Key.URL, &rel.Key.File} {
				*s = strings.NewReplacer(w.mirror.URL(), "MIRROR", w.bp, "BP").Replace(*s)
			}
			require.Equal(t, tt.want, rel)
		})
	}

	t.Run("a constraint no pin matches fails, touching nothing", func(t *testing.T) {
		w := newWorld(t, "", mesh)
		w.set(t, config.VarVersion, "^7")
		_, _, err := install.Resolve(w.env, w.bp, "amd64")
		require.EqualError(t, err, `no pinned release of the service mesh matches "^7" for linux-amd64`)
		require.Zero(t, w.mirror.Requests())
	})
	t.Run("an unknown architecture", func(t *testing.T) {
		w := newWorld(t, "", mesh)
		_, _, err := install.Resolve(w.env, w.bp, "s390x")
		require.EqualError(t, err, `architecture "s390x" is not supported`)
	})
}

func TestPinnedDownload(t *testing.T) {
	w := newWorld(t, "", mesh)
	res, dst, err := w.install(t, nil)
	require.NoError(t, err)
	assertInstalled(t, dst, mesh)
	testhelpers.Equal(t, install.Result{Checksum: mesh.Checksum(), Size: int64(len(mesh.Data)), Download: res.Download}, res)
	testhelpers.Equal(t, `-----> Installing Heroku AppLink Service Mesh 0.2.2 (linux-amd64)
       Version 0.2.2 (newest pinned release)
       Downloading from http://MIRROR/heroku-applink-service-mesh-v0.2.2-amd64
       Downloaded `+meshLen+` in 1.0s
       Verified `+mesh.Checksum()+` (pinned checksum)
`, w.log())
	require.Empty(t, w.err.String())
	require.Equal(t, 1, w.mirror.Requests())
}

func TestAMeshInTheAppIsReplaced(t *testing.T) {
	w := newWorld(t, "", mesh)
	dst := root(t, t.TempDir())
	require.NoError(t, os.MkdirAll(filepath.Join(dst.Name(), binDir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dst.Name(), binDir, install.Binary), []byte("the app's own"), 0o755))
	require.NoError(t, os.Symlink("/elsewhere", filepath.Join(dst.Name(), binDir, "heroku-applink-service-mesh-latest-amd64")))
	_, _, err := w.installInto(t, dst, nil)
	require.NoError(t, err)
	assertInstalled(t, dst, mesh)
}

// TestTamperedDownload: bytes that are not the pin are never executable
// and never take a name on PATH.
func TestTamperedDownload(t *testing.T) {
	w := newWorld(t, "", mesh)
	w.mirror.Put(mesh.Object(), []byte("#!/bin/sh\necho evil\n"))
	_, dst, err := w.install(t, nil)
	var mismatch *install.ChecksumError
	require.ErrorAs(t, err, &mismatch)
	require.ErrorContains(t, err, "failed to download the service mesh 0.2.2 (linux-amd64) from http://127.0.0.1:")
	require.ErrorContains(t, err, "checksum mismatch: expected "+mesh.Checksum())
	require.Equal(t, "verify::checksum-mismatch", mismatch.Reason())
	assertNothingInstalled(t, dst)
}

// TestCollisions: a folder, or a link out of the build dir, where the
// binary or one of its links goes is found before any request, and named.
func TestCollisions(t *testing.T) {
	for _, tc := range []struct{ name, plant, want string }{
		{"a folder where the binary goes", binDir + "/" + install.Binary, "it is a directory, where the buildpack puts a file"},
		{"a folder where a link goes", binDir + "/heroku-applink-service-mesh-v0.2.2-amd64", "it is a directory, where the buildpack puts a file"},
		{"a pipe where the binary goes", binDir + "/" + install.Binary + "|", "it is a named pipe"},
		{"the bin folder is a link out of the app", binDir + "@", "a link on the way leads outside the folder the buildpack writes in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, "", mesh)
			dst, outside := root(t, t.TempDir()), t.TempDir()
			p := filepath.Join(dst.Name(), strings.TrimRight(tc.plant, "|@"))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			switch tc.plant[len(tc.plant)-1] {
			case '|':
				require.NoError(t, syscall.Mkfifo(p, 0o644))
			case '@':
				require.NoError(t, os.Symlink(outside, p))
			default:
				require.NoError(t, os.Mkdir(p, 0o755))
			}
			_, _, err := w.installInto(t, dst, nil)
			var pe *fsutil.PathError
			require.ErrorAs(t, err, &pe)
			require.ErrorContains(t, err, tc.want)
			require.Contains(t, pe.Help(), "Remove whatever is there from\nyour app's source")
			require.Zero(t, w.mirror.Requests(), "found before the download")
			entries, _ := os.ReadDir(outside)
			require.Empty(t, entries)
		})
	}
}

// cached is a classic cache entry holding data under the pin's name.
func cached(t *testing.T, data []byte, checksum string) *install.Kept {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "entry"), data, 0o600))
	return &install.Kept{Root: root(t, dir), Name: "entry", Checksum: checksum, What: "cached copy"}
}

func TestKeptCopy(t *testing.T) {
	t.Run("a copy of the pin is used with no request", func(t *testing.T) {
		w := newWorld(t, "", mesh)
		res, dst, err := w.install(t, cached(t, mesh.Data, mesh.Checksum()))
		require.NoError(t, err)
		assertInstalled(t, dst, mesh)
		require.True(t, res.Reused)
		require.Zero(t, w.mirror.Requests())
		testhelpers.Equal(t, `-----> Installing Heroku AppLink Service Mesh 0.2.2 (linux-amd64)
       Version 0.2.2 (newest pinned release)
       Using the cached copy (`+meshLen+`)
       Verified `+mesh.Checksum()+` (pinned checksum)
`, w.log())
	})
	outside := filepath.Join(t.TempDir(), "right-bytes")
	require.NoError(t, os.WriteFile(outside, mesh.Data, 0o600))
	for _, tc := range []struct {
		name  string
		kept  func(t *testing.T) *install.Kept
		why   string
		exact bool
	}{
		{"other bytes", func(t *testing.T) *install.Kept { return cached(t, []byte("evil"), mesh.Checksum()) },
			"it no longer matches " + mesh.Checksum() + " (got sha256:", false},
		{"truncated", func(t *testing.T) *install.Kept { return cached(t, mesh.Data[:10], mesh.Checksum()) },
			"it no longer matches " + mesh.Checksum(), false},
		{"recorded as another release", func(t *testing.T) *install.Kept { return cached(t, newer.Data, newer.Checksum()) },
			"it holds " + newer.Checksum() + ", not the pinned " + mesh.Checksum(), true},
		{"no record", func(t *testing.T) *install.Kept { return cached(t, mesh.Data, "") },
			"it holds no recorded checksum, not the pinned " + mesh.Checksum(), true},
		{"missing", func(t *testing.T) *install.Kept {
			k := cached(t, mesh.Data, mesh.Checksum())
			k.Name = "gone"
			return k
		}, "the binary is missing", true},
		{"a named pipe, never blocked on", func(t *testing.T) *install.Kept {
			k := cached(t, nil, mesh.Checksum())
			require.NoError(t, syscall.Mkfifo(filepath.Join(k.Root.Name(), "pipe"), 0o600))
			k.Name = "pipe"
			return k
		}, "the binary is not a regular file (it is a named pipe)", true},
		{"a link out of the cache, never followed", func(t *testing.T) *install.Kept {
			k := cached(t, nil, mesh.Checksum())
			require.NoError(t, os.Symlink(outside, filepath.Join(k.Root.Name(), "link")))
			k.Name = "link"
			return k
		}, "the binary is not a regular file (it is a symbolic link out of ", false},
		{"over the size cap, not read", func(t *testing.T) *install.Kept {
			k := cached(t, nil, mesh.Checksum())
			require.NoError(t, os.Truncate(filepath.Join(k.Root.Name(), "entry"), 600<<20))
			return k
		}, "the binary is 629145600 bytes, over the 536870912-byte limit (not read)", true},
		{"known bad by its owner", func(t *testing.T) *install.Kept {
			k := cached(t, mesh.Data, mesh.Checksum())
			k.Problem = "its metadata is missing"
			return k
		}, "its metadata is missing", true},
	} {
		t.Run(tc.name+": discarded and downloaded", func(t *testing.T) {
			w := newWorld(t, "", mesh)
			res, dst, err := w.install(t, tc.kept(t))
			require.NoError(t, err)
			assertInstalled(t, dst, mesh)
			require.False(t, res.Reused)
			require.Contains(t, res.Discarded, tc.why)
			if tc.exact {
				require.Equal(t, tc.why, res.Discarded)
			}
			require.Contains(t, w.log(), "       Discarding the cached copy: "+res.Discarded+"\n       Downloading from ")
			require.Equal(t, 1, w.mirror.Requests())
		})
	}
	data, err := os.ReadFile(outside)
	require.NoError(t, err)
	require.Equal(t, mesh.Data, data, "the file outside the cache is untouched")
}

// TestKeptInPlace: a restored layer's binary is kept where it is, and one
// with another hard link is never made executable through it.
func TestKeptInPlace(t *testing.T) {
	layer := func(t *testing.T) (*os.Root, *install.Kept) {
		dst := root(t, t.TempDir())
		require.NoError(t, os.MkdirAll(filepath.Join(dst.Name(), binDir), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dst.Name(), binDir, install.Binary), mesh.Data, 0o600))
		return dst, &install.Kept{Root: dst, Name: binDir + "/" + install.Binary, Checksum: mesh.Checksum(), InPlace: true, What: "cached layer"}
	}
	t.Run("kept", func(t *testing.T) {
		w := newWorld(t, "", mesh)
		dst, k := layer(t)
		res, _, err := w.installInto(t, dst, k)
		require.NoError(t, err)
		require.True(t, res.Reused)
		assertInstalled(t, dst, mesh)
		require.Zero(t, w.mirror.Requests())
	})
	t.Run("hard-linked to a file outside", func(t *testing.T) {
		w := newWorld(t, "", mesh)
		dst, k := layer(t)
		outside := filepath.Join(t.TempDir(), "theirs")
		require.NoError(t, os.Link(filepath.Join(dst.Name(), binDir, install.Binary), outside))
		res, _, err := w.installInto(t, dst, k)
		require.NoError(t, err)
		require.Equal(t, "the binary has 2 hard links", res.Discarded)
		assertInstalled(t, dst, mesh)
		info, err := os.Stat(outside)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the other file's mode is not changed")
	})
}

func signed(t *testing.T, fingerprint bool) (*world, *testhelpers.SigningKey) {
	t.Helper()
	key := testhelpers.Key(t, "Release")
	fp := ""
	if fingerprint {
		fp = key.Fingerprint
	}
	w := newWorld(t, fp, mesh)
	w.set(t, config.VarVersion, "latest")
	w.mirror.PublishSigned("heroku-applink-service-mesh-latest-amd64", newer.Data, key, true)
	return w, key
}

func TestUnpinnedBySignature(t *testing.T) {
	w, key := signed(t, false)
	testhelpers.WriteKeyFile(t, w.bp, key)
	res, dst, err := w.install(t, cached(t, newer.Data, newer.Checksum()))
	require.NoError(t, err)
	assertInstalled(t, dst, testhelpers.Artifact{Version: "latest", Data: newer.Data})
	require.Equal(t, key.Fingerprint, res.Signer)
	require.False(t, res.Reused, "an unpinned release is never reused")
	require.Empty(t, res.Discarded, "quietly")
	testhelpers.Equal(t, `-----> Installing Heroku AppLink Service Mesh latest (linux-amd64)
       Downloading from http://MIRROR/heroku-applink-service-mesh-latest-amd64
       Downloaded `+output.Size(int64(len(newer.Data)))+` in 1.0s
       Verified `+newer.Checksum()+` (signature by key `+key.Fingerprint+` from the key file `+w.bp+`/keys/public-key.asc)
`, w.log())
	testhelpers.Equal(t, `
 !     Warning: You asked for latest, which this buildpack does not pin.
 !     It is downloaded on every build and verified by its OpenPGP signature
 !     instead of a pinned checksum.
 !     For the same bytes on every build, set HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION
 !     to a pinned version: 0.2.2.
 !     The signing key's fingerprint is not pinned in this buildpack either: the
 !     key is trusted as the key file `+w.bp+`/keys/public-key.asc serves it.

`, w.err.String())
	require.Equal(t, 2, w.mirror.Requests(), "the signature and the release; the key ships in the buildpack")
}

// TestNothingPinned: with nothing pinned for the architecture, the build
// says so once, with nothing to follow that cannot be followed.
func TestNothingPinned(t *testing.T) {
	key := testhelpers.Key(t, "Release")
	w := newWorld(t, key.Fingerprint)
	w.mirror.PublishSigned("heroku-applink-service-mesh-latest-amd64", newer.Data, key, true)
	_, _, err := w.install(t, nil)
	require.NoError(t, err)
	testhelpers.Equal(t, `
 !     Warning: This buildpack pins no release of the service mesh for amd64 yet, so it installs latest.
 !     It is downloaded on every build and verified by its OpenPGP signature
 !     instead of a pinned checksum.

`, w.err.String())
	require.Contains(t, w.log(), "(signature by key "+key.Fingerprint+" from http://MIRROR/public-key.asc)")
}

func TestUnpinnedFailures(t *testing.T) {
	mallory := testhelpers.Key(t, "Mallory")
	for _, tc := range []struct {
		name     string
		fault    func(w *world)
		want     string
		releases int
	}{
		{"a signature by another key", func(w *world) {
			w.mirror.PublishSigned("heroku-applink-service-mesh-latest-amd64", []byte("evil"), mallory, false)
		}, "signature verification failed: the file was signed by another key", 1},
		{"bytes the signature does not match", func(w *world) {
			w.mirror.Put("heroku-applink-service-mesh-latest-amd64", []byte("evil"))
		}, "signature verification failed: the signature does not match the file", 1},
		{"no signature: the release is not fetched", func(w *world) {
			w.mirror.Fault("heroku-applink-service-mesh-latest-amd64.asc", testhelpers.Status(404))
		}, "failed to download the signature http://127.0.0.1:", 0},
		{"another key at the key's address, with a pinned fingerprint", func(w *world) {
			w.mirror.Put("public-key.asc", mallory.PublicKey())
		}, "unusable signing key: its fingerprint " + mallory.Fingerprint + " differs from the pinned", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := signed(t, true)
			tc.fault(w)
			_, dst, err := w.install(t, nil)
			require.ErrorContains(t, err, tc.want)
			var named interface{ Reason() string }
			require.ErrorAs(t, err, &named)
			assertNothingInstalled(t, dst)
			require.Equal(t, tc.releases, w.mirror.Hits("heroku-applink-service-mesh-latest-amd64"))
		})
	}
	t.Run("an oversized key is refused, not retried", func(t *testing.T) {
		w, _ := signed(t, true)
		w.mirror.Put("public-key.asc", bytes.Repeat([]byte("k"), signature.MaxSize+1))
		_, _, err := w.install(t, nil)
		require.ErrorContains(t, err, "failed to get the release signing key from http://127.0.0.1:")
		require.ErrorContains(t, err, "over the 65536-byte limit")
		require.Equal(t, 1, w.mirror.Hits("public-key.asc"))
	})
}

// TestKeysFile: the buildpack's key file is used only as LoadKey will read
// it, a regular file; a link is not followed to another key.
func TestKeysFile(t *testing.T) {
	bp, elsewhere := t.TempDir(), filepath.Join(t.TempDir(), "key.asc")
	require.NoError(t, os.WriteFile(elsewhere, testhelpers.Key(t, "Release").PublicKey(), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(bp, "keys"), 0o755))
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(bp, install.KeyFile)))
	require.Empty(t, install.Keys(config.Source{}, "", bp).File, "a link is not the key file")
	require.NoError(t, os.Remove(filepath.Join(bp, install.KeyFile)))
	require.NoError(t, os.Link(elsewhere, filepath.Join(bp, install.KeyFile)))
	require.Equal(t, filepath.Join(bp, install.KeyFile), install.Keys(config.Source{}, "", bp).File)
}

// TestKeyFile: the pin tool takes any key file; it is read as an app's
// file is, never blocking on a pipe or reading without bound.
func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	fifo, huge := filepath.Join(dir, "fifo.asc"), filepath.Join(dir, "huge.asc")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	require.NoError(t, os.WriteFile(huge, bytes.Repeat([]byte("k"), signature.MaxSize+1), 0o644))
	for file, want := range map[string]string{fifo: "is not a regular file (it is a named pipe)", huge: "over the 65536-byte limit"} {
		_, err := install.LoadKey(context.Background(), nil, install.KeySource{File: file})
		require.ErrorContains(t, err, "failed to get the release signing key from the key file "+file)
		require.ErrorContains(t, err, want)
	}
}

// TestCancelled: a build cancelled while it downloads leaves nothing.
func TestCancelled(t *testing.T) {
	w := newWorld(t, "", mesh)
	ctx, cancel := context.WithCancel(context.Background())
	w.mirror.Fault(mesh.Object(), func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Length", "100000")
		rw.Write(mesh.Data)
		rw.(http.Flusher).Flush()
		cancel()
		<-r.Context().Done()
	})
	dst := root(t, t.TempDir())
	_, err := w.inst.Install(ctx, w.resolve(t), dst, binDir, nil)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
	assertNothingInstalled(t, dst)
}
