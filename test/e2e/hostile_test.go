package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

// Cache, filesystem and configuration faults, and hostile input.

const unprivileged = 65534

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root; this test needs it to switch users or mount")
		}
		t.Skip("needs root to switch users or mount; CI runs as root")
	}
}

// compileAs runs bin/compile as uid with the given dirs, outside the deploy
// emulator, for the cases that need dirs the build user does not own.
func compileAs(t *testing.T, bp *harness.Buildpack, uid int, build, cache, env string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bp.Dir, "bin/compile"), build, cache, env)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "STACK=heroku-24", "NO_COLOR=1"}
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// reachableClassicEnv is a classic env whose buildpack an unprivileged user
// can run.
func reachableClassicEnv(t *testing.T) (*classicEnv, string) {
	t.Helper()
	e := newClassicEnv(t, "0.3.0")
	root, err := harness.ReachableTempDir("hostile-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(root) })
	bp, err := harness.NewBuildpack(repoRoot, filepath.Join(root, "buildpack"), binaries, testhelpers.Inventory("", mesh("0.3.0")))
	require.NoError(t, err)
	e.bp = bp
	return e, root
}

func mkdirs(t *testing.T, uid int, paths ...string) {
	t.Helper()
	for _, p := range paths {
		require.NoError(t, os.MkdirAll(p, 0o755))
		require.NoError(t, os.Chown(p, uid, uid))
	}
}

func TestCacheFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	entry := func(app *harness.App) string {
		return filepath.Join(app.CacheDir(), "heroku-applink-service-mesh/sha256", strings.TrimPrefix(mesh("0.3.0").Checksum(), "sha256:"))
	}
	for name, damage := range map[string]func(path string){
		"tampered cached artifact is discarded and downloaded again": func(p string) {
			require.NoError(t, os.WriteFile(p, append([]byte("x"), mesh("0.3.0").Data[1:]...), 0o600))
		},
		"truncated cached artifact is discarded and downloaded again": func(p string) { require.NoError(t, os.Truncate(p, 100)) },
	} {
		t.Run(name, func(t *testing.T) {
			e := newClassicEnv(t, "0.3.0")
			app := e.app(t, "sample-app")
			require.NoError(t, app.Deploy(ctx))
			damage(entry(app))
			before := e.mirror.Requests()
			require.NoError(t, app.Push(ctx))
			require.Contains(t, app.Output(), "       Discarding the cached copy: it no longer matches "+mesh("0.3.0").Checksum())
			require.Equal(t, before+1, e.mirror.Requests())
			require.Equal(t, mesh("0.3.0").Checksum(), sha256Of(t, entry(app)), "the cache is repaired")
			require.Equal(t, mesh("0.3.0").Checksum(), sha256Of(t, filepath.Join(app.Slug, "vendor/heroku-applink/bin/heroku-applink-service-mesh")))
		})
	}

	t.Run("a cache that is not a directory: the build works without caching and says so", func(t *testing.T) {
		e := newClassicEnv(t, "0.3.0")
		app := e.app(t, "sample-app")
		require.NoError(t, os.RemoveAll(app.CacheDir()))
		require.NoError(t, os.WriteFile(app.CacheDir(), []byte("not a dir"), 0o644))
		require.NoError(t, app.Deploy(ctx))
		require.Contains(t, app.Output(), " !     Warning: The build cache is not usable, so this build downloads the service")
	})

	t.Run("a read-only cache: the build works without caching and says so", func(t *testing.T) {
		needRoot(t)
		e, root := reachableClassicEnv(t)
		build, cache, env := filepath.Join(root, "build"), filepath.Join(root, "cache"), filepath.Join(root, "env")
		require.NoError(t, harness.PrepareSource(build, fixture("sample-app"), nil))
		mkdirs(t, unprivileged, build, env)
		mkdirs(t, 0, cache) // root's: read-only to the build user
		require.NoError(t, os.WriteFile(filepath.Join(env, "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"), []byte(e.mirror.URL()), 0o644))
		require.NoError(t, exec.Command("chown", "-R", "65534:65534", build, e.bp.Dir).Run())
		out, err := compileAs(t, e.bp, unprivileged, build, cache, env)
		require.NoError(t, err, out)
		require.Contains(t, out, "The build cache is not usable, so this build downloads the service")
		entries, err := os.ReadDir(cache)
		require.NoError(t, err)
		require.Empty(t, entries)
	})

	t.Run("a cache on another filesystem", func(t *testing.T) {
		needRoot(t)
		e, root := reachableClassicEnv(t)
		build, cache, env := filepath.Join(root, "build"), filepath.Join(root, "cache"), filepath.Join(root, "env")
		require.NoError(t, harness.PrepareSource(build, fixture("sample-app"), nil))
		mkdirs(t, 0, cache, env)
		require.NoError(t, os.WriteFile(filepath.Join(env, "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"), []byte(e.mirror.URL()), 0o644))
		// A private mount namespace with a tmpfs cache: builds on disk,
		// cache in memory, twice, so both directions cross devices.
		script := `mount -t tmpfs tmpfs "$2" && "$1/bin/compile" "$3" "$2" "$4" && rm -rf "$3/vendor" && "$1/bin/compile" "$3" "$2" "$4" && stat -f -c %T "$2"`
		out, err := exec.Command("unshare", "-m", "sh", "-c", script, "sh", e.bp.Dir, cache, build, env).CombinedOutput()
		require.NoError(t, err, string(out))
		require.Contains(t, string(out), "Downloaded")
		require.Contains(t, string(out), "Using the cached copy")
		require.True(t, strings.HasSuffix(strings.TrimSpace(string(out)), "tmpfs"), string(out))
	})

	t.Run("the older layout and unpinned entries are pruned; unknown names and other buildpacks' caches are kept", func(t *testing.T) {
		e := newClassicEnv(t, "0.3.0")
		app := e.app(t, "sample-app")
		for _, p := range []string{"heroku-applink-service-mesh/signed/heroku-applink-service-mesh-latest-amd64/artifact",
			"heroku-applink-service-mesh/sha256/" + strings.Repeat("b", 64), "heroku-applink-service-mesh/sha256/.tmp-2147483647-1-2",
			"heroku-applink-service-mesh/notes", "heroku-applink-service-mesh/sha256/not-a-digest", "nodejs/node-v24.tar.gz",
			"build-data/python.json"} {
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(app.CacheDir(), p)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(app.CacheDir(), p), []byte("x"), 0o644))
		}
		require.NoError(t, app.Deploy(ctx))
		var left []string
		require.NoError(t, filepath.Walk(app.CacheDir(), func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				rel, _ := filepath.Rel(app.CacheDir(), p)
				left = append(left, rel)
			}
			return err
		}))
		require.ElementsMatch(t, []string{"nodejs/node-v24.tar.gz", "heroku-applink-service-mesh/notes", "heroku-applink-service-mesh/sha256/not-a-digest",
			"heroku-applink-service-mesh/sha256/" + mesh("0.3.0").Hex(),
			"build-data/python.json", "build-data/heroku-applink-service-mesh.json"}, left, "the build report's data sits beside other buildpacks'")
	})
}

func TestBuildDirFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a mesh committed in the app's source is replaced by the verified one", func(t *testing.T) {
		e := newClassicEnv(t, "0.3.0")
		app := e.app(t, "vendored-app")
		require.NoError(t, app.Deploy(ctx))
		bin := filepath.Join(app.Slug, "vendor/heroku-applink/bin")
		require.Equal(t, mesh("0.3.0").Checksum(), sha256Of(t, filepath.Join(bin, "heroku-applink-service-mesh")))
		link, err := os.Readlink(filepath.Join(bin, "heroku-applink-service-mesh-latest-amd64"))
		require.NoError(t, err)
		require.Equal(t, "heroku-applink-service-mesh", link)
	})

	for name, planted := range map[string]string{
		"a symlink planted at vendor/heroku-applink/bin is never written through": "vendor/heroku-applink/bin",
		"a symlink planted at .profile.d is never written through":                ".profile.d",
		"a folder where the binary goes: found before the download":               "vendor/heroku-applink/bin/heroku-applink-service-mesh",
	} {
		t.Run(name, func(t *testing.T) {
			e := newClassicEnv(t, "0.3.0")
			outside := t.TempDir()
			src := appSource(t, "sample-app")
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(src, planted)), 0o755))
			want := "a link on the way leads outside the folder the buildpack writes in"
			if strings.HasSuffix(planted, "mesh") {
				require.NoError(t, os.Mkdir(filepath.Join(src, planted), 0o755))
				want = "it is a directory, where the buildpack puts a file"
			} else {
				require.NoError(t, os.Symlink(outside, filepath.Join(src, planted)))
			}
			app, err := harness.NewApp(e.bp, src, t.TempDir())
			require.NoError(t, err)
			require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", e.mirror.URL()))
			require.Error(t, app.Deploy(ctx))
			require.Contains(t, app.Output(), " !     Error: cannot use "+app.BuildDir+"/")
			require.Contains(t, app.Output(), want)
			require.Contains(t, app.Output(), "Remove whatever is there from\n !     your app's source")
			require.Zero(t, e.mirror.Requests(), "found before the download")
			entries, err := os.ReadDir(outside)
			require.NoError(t, err)
			require.Empty(t, entries)
		})
	}

	t.Run("a read-only build dir fails clearly", func(t *testing.T) {
		needRoot(t)
		e, root := reachableClassicEnv(t)
		build, cache, env := filepath.Join(root, "build"), filepath.Join(root, "cache"), filepath.Join(root, "env")
		require.NoError(t, harness.PrepareSource(build, fixture("sample-app"), nil))
		mkdirs(t, unprivileged, cache, env)
		require.NoError(t, os.WriteFile(filepath.Join(env, "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"), []byte(e.mirror.URL()), 0o644))
		require.NoError(t, exec.Command("chown", "-R", "65534:65534", e.bp.Dir).Run())
		out, err := compileAs(t, e.bp, unprivileged, build, cache, env)
		require.Error(t, err)
		require.Contains(t, out, " !     Error: cannot use "+filepath.Join(build, "vendor/heroku-applink/bin")+": permission denied")
		require.Contains(t, out, "The build's user cannot write there.")
		require.Zero(t, e.mirror.Requests(), "nothing is downloaded for a build that cannot be written")
	})
}

func TestHostileConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
		varName     string
		wantErr     string
	}{
		{"empty version", "", "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", ""},
		{"whitespace version", "  \n\t", "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", ""},
		{"v", "v", "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", `invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION: "v" is neither a version nor a semver constraint`},
		{"four parts", "1.2.3.4", "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", `invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION: "1.2.3.4" is neither a version nor a semver constraint`},
		{"double caret", "^^1", "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", `invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION: "^^1" is neither a version nor a semver constraint`},
		{"100 KB", strings.Repeat("9", 100_000), "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", "invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION: is longer than 4096 bytes"},
		{"invalid UTF-8", "0.3.0\xff", "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", `"0.3.0\xff" is not valid UTF-8`},
		{"embedded newline", "0.3.0\n0.2.2", "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", `"0.3.0\n0.2.2" contains control characters`},
		{"constraint matching nothing", "~9.9", "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION", `no pinned release of the service mesh matches "~9.9" for linux-amd64`},
		{"malformed mirror", "https://user:s3cret@[::1", "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", "https://xxxxx@[::1 is not an absolute URL"},
		{"ftp mirror", "ftp://mirror.example.com/", "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", `uses the scheme "ftp"`},
		{"http to a remote host", "http://user:s3cret@mirror.example.com/", "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", "http://xxxxx@mirror.example.com/ uses http to a host that is not loopback"},
		{"invalid bucket", "Not_A_Bucket", "HEROKU_APPLINK_SERVICE_MESH_S3_BUCKET", `invalid HEROKU_APPLINK_SERVICE_MESH_S3_BUCKET: "Not_A_Bucket" is not a valid S3 bucket name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newClassicEnv(t, "0.3.0")
			app := e.app(t, "sample-app")
			if tt.value == "" {
				require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(app.CacheDir()), "env", tt.varName), nil, 0o644))
			} else {
				require.NoError(t, app.SetConfig(tt.varName, tt.value))
			}
			err := app.Deploy(context.Background())
			require.NotContains(t, app.Output(), "s3cret", "credentials are never printed")
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.Contains(t, app.Output(), "Version 0.3.0 (newest pinned release)")
				return
			}
			require.Error(t, err)
			require.Contains(t, app.Output(), tt.wantErr)
			require.Less(t, len(app.Output()), 4000, "a huge value is not echoed back")
			require.Zero(t, e.mirror.Requests(), "bad configuration fails before any download")
			_, serr := os.Stat(filepath.Join(app.BuildDir, "vendor"))
			require.True(t, os.IsNotExist(serr), "and before the build dir is touched")
		})
	}

	t.Run("mirror credentials are used but never printed", func(t *testing.T) {
		t.Parallel()
		e := newClassicEnv(t, "0.3.0")
		app := e.app(t, "sample-app")
		require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", strings.Replace(e.mirror.URL(), "http://", "http://deploy:s3cret@", 1)))
		require.NoError(t, app.Deploy(context.Background()))
		require.Contains(t, app.Output(), "Downloading from http://xxxxx@127.0.0.1")
		require.NotContains(t, app.Output(), "s3cret")
	})

	t.Run("a missing ENV_DIR is no configuration", func(t *testing.T) {
		t.Parallel()
		e := newClassicEnv(t, "0.3.0")
		build, cache := t.TempDir(), t.TempDir()
		require.NoError(t, harness.PrepareSource(build, fixture("no-procfile"), nil))
		// Without the mirror config var the build would go to the release
		// bucket: the inventory's URL points at the mirror instead.
		inv := testhelpers.Inventory("", mesh("0.3.0"))
		inv.Artifacts[0].URL = e.mirror.URL() + "/" + mesh("0.3.0").Object()
		require.NoError(t, e.bp.SetInventory(inv))
		out, err := compileAs(t, e.bp, 0, build, cache, filepath.Join(t.TempDir(), "missing"))
		require.NoError(t, err, out)
		require.Contains(t, out, "Version 0.3.0 (newest pinned release)")
	})

	t.Run("an unreadable ENV_DIR fails clearly", func(t *testing.T) {
		t.Parallel()
		needRoot(t)
		e, root := reachableClassicEnv(t)
		build, cache, env := filepath.Join(root, "build"), filepath.Join(root, "cache"), filepath.Join(root, "env")
		require.NoError(t, harness.PrepareSource(build, fixture("sample-app"), nil))
		mkdirs(t, unprivileged, build, cache)
		require.NoError(t, os.Mkdir(env, 0o700)) // root's and private
		require.NoError(t, exec.Command("chown", "-R", "65534:65534", e.bp.Dir).Run())
		out, err := compileAs(t, e.bp, unprivileged, build, cache, env)
		require.Error(t, err)
		require.Contains(t, out, " !     Error: cannot read the config var directory "+env+": permission denied")
	})

	t.Run("PATH, LD_PRELOAD and GIT_DIR config vars are never exported into the build", func(t *testing.T) {
		t.Parallel()
		e := newClassicEnv(t, "0.3.0")
		later := filepath.Join(t.TempDir(), "later")
		require.NoError(t, os.MkdirAll(filepath.Join(later, "bin"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(later, "bin/compile"), []byte("#!/bin/sh\necho \"PATH=$PATH\"\necho \"LD_PRELOAD=${LD_PRELOAD-unset}\"\necho \"GIT_DIR=${GIT_DIR-unset}\"\n"), 0o755))
		app := e.app(t, "sample-app")
		app.After = []string{later}
		for k, v := range map[string]string{"PATH": "/evil/bin", "LD_PRELOAD": "/evil/lib.so", "GIT_DIR": "/evil/.git"} {
			require.NoError(t, app.SetConfig(k, v))
		}
		require.NoError(t, app.Deploy(context.Background()))
		require.Contains(t, app.Output(), "PATH="+app.BuildDir+"/vendor/heroku-applink/bin:/usr/bin:/bin\n")
		require.Contains(t, app.Output(), "LD_PRELOAD=unset\nGIT_DIR=unset\n")
		require.NotContains(t, app.Output(), "/evil")
	})
}

func TestHostileProcfiles(t *testing.T) {
	t.Parallel()
	for name, content := range map[string][]byte{
		"huge":      []byte("web: heroku-applink-service-mesh bin/webapp\n" + strings.Repeat("# padding\n", 10_000)),
		"binary":    {0x7f, 'E', 'L', 'F', 0, 0, 1, 2},
		"not UTF-8": []byte("web: heroku-applink-service-mesh caf\xe9\n"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newClassicEnv(t, "0.3.0")
			src := appSource(t, "sample-app")
			require.NoError(t, os.WriteFile(filepath.Join(src, "Procfile"), content, 0o644))
			app, err := harness.NewApp(e.bp, src, t.TempDir())
			require.NoError(t, err)
			require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", e.mirror.URL()))
			require.NoError(t, app.Deploy(context.Background()), "a bad Procfile never fails the build")
			require.Contains(t, app.Output(), " !     Warning: The Procfile was not checked: it ")
		})
	}
}

func TestFileSafetyAndSecrets(t *testing.T) {
	t.Parallel()
	e := newClassicEnv(t, "0.3.0")
	app := e.app(t, "sample-app")
	require.NoError(t, app.SetConfig("DATABASE_URL", "postgres://u:sekrit-config@db.example.com/app"))
	app.Env = map[string]string{"HEROKU_API_KEY": "sekrit-process"}
	require.NoError(t, app.Deploy(context.Background()))
	require.NotContains(t, app.RawOutput, "sekrit")

	bin := filepath.Join(app.Slug, "vendor/heroku-applink/bin")
	for _, tree := range []string{app.Slug, app.CacheDir()} {
		require.NoError(t, filepath.Walk(tree, func(p string, info os.FileInfo, err error) error {
			require.NoError(t, err)
			if info.Mode()&os.ModeSymlink != 0 {
				return nil
			}
			require.Zero(t, info.Mode().Perm()&0o002, "%s is world-writable", p)
			if info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0 {
				// Only the verified binary (and the app's own) are executable.
				require.True(t, p == filepath.Join(bin, "heroku-applink-service-mesh") || p == filepath.Join(app.Slug, "bin/webapp"), "%s is executable", p)
			}
			return nil
		}))
	}
	cached, err := filepath.Glob(filepath.Join(app.CacheDir(), "heroku-applink-service-mesh/sha256/*"))
	require.NoError(t, err)
	require.Len(t, cached, 1)
	info, err := os.Stat(cached[0])
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "cache entries are private")
}

// TestOperatorKnobs: the platform's knobs accept only a finite positive
// number of seconds; anything else fails before the build touches anything,
// instead of switching a bound off.
func TestOperatorKnobs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, knob, value string }{
		{"a timeout of NaN", "HEROKU_APPLINK_BUILDPACK_TIMEOUT", "NaN"},
		{"a timeout of 0", "HEROKU_APPLINK_BUILDPACK_TIMEOUT", "0"},
		{"a negative download deadline", "HEROKU_APPLINK_BUILDPACK_DOWNLOAD_DEADLINE", "-5"},
		{"an infinite retry delay", "HEROKU_APPLINK_BUILDPACK_RETRY_DELAY", "Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newClassicEnv(t, "0.3.0")
			app := e.app(t, "sample-app")
			app.Env = map[string]string{tc.knob: tc.value}
			require.Error(t, deploy(t, app))
			require.Contains(t, app.Output(), " !     Error: "+tc.knob+"=\""+tc.value+"\": want a number of seconds from 0.001 to 3600\n")
			require.Contains(t, app.Output(), "This is a setting of the build platform, not a config var")
			require.Zero(t, e.mirror.Requests())
			_, err := os.Stat(filepath.Join(app.BuildDir, "vendor"))
			require.True(t, os.IsNotExist(err))
		})
	}
}
