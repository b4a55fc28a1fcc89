package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/test/harness"
)

// Hostile filesystems, leftovers, neighbours and signals: every build ends
// in bounded time, having touched only its own files.

// victim is a directory outside the buildpack's own, with files a build
// must never change; snapshot records them.
func victim(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string]string{strings.Repeat("c", 64): "not the cache's", "keep-me": "a file someone owns", "sub/deeper": "still theirs"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600))
	}
	return dir
}

// snapshot maps every path under dir to its type, mode and content digest.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		entry := info.Mode().String()
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			sum := sha256.Sum256(data)
			entry += " " + hex.EncodeToString(sum[:])
		}
		out[rel] = entry
		return nil
	}))
	return out
}

// deploy runs a deploy bounded by the hang guard and fails the test with
// the build log if the guard, not the build, ended it.
func deploy(t *testing.T, app *harness.App) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	err := app.Deploy(ctx)
	require.NoError(t, ctx.Err(), "the build ended within its bounds:\n%s", app.Output())
	return err
}

func cacheFolder(app *harness.App) string {
	return filepath.Join(app.CacheDir(), "heroku-applink-service-mesh")
}

// appLookAlikes are the app's own files with names like the buildpack's
// temporary ones, some of the very form it gives them, without its name.
var appLookAlikes = []string{".profile.d/.tmp-app-secret", ".profile.d/.download-helper.sh", ".profile.d/.tmp-99999-mine",
	".profile.d/.tmp-1-1-1", ".profile.d/.download-1-0-0", "vendor/heroku-applink/bin/.cached-notes", "vendor/heroku-applink/bin/.tmp-999999-5-5"}

func TestHostileFilesystem(t *testing.T) {
	t.Parallel()
	entry := func(app *harness.App) string {
		return filepath.Join(cacheFolder(app), "sha256", mesh("0.3.0").Hex())
	}
	// Cases that damage the cache of a first build, then build again.
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, app *harness.App, victim string)
		want  string
	}{
		{"the cache folder is a link: the build caches nothing and leaves the target alone", func(t *testing.T, app *harness.App, victim string) {
			require.NoError(t, os.RemoveAll(cacheFolder(app)))
			require.NoError(t, os.Symlink(victim, cacheFolder(app)))
		}, " !     Warning: The build cache folder " + "%CACHE%" + " is a symbolic link. The buildpack\n"},
		{"sha256 in the cache is a link: only the link is removed", func(t *testing.T, app *harness.App, victim string) {
			require.NoError(t, os.RemoveAll(filepath.Join(cacheFolder(app), "sha256")))
			require.NoError(t, os.Symlink(victim, filepath.Join(cacheFolder(app), "sha256")))
		}, "       Downloading from "},
		{"a cache entry is a link to a file outside: discarded, never followed", func(t *testing.T, app *harness.App, victim string) {
			require.NoError(t, os.Remove(entry(app)))
			require.NoError(t, os.WriteFile(filepath.Join(victim, "right-bytes"), mesh("0.3.0").Data, 0o600))
			require.NoError(t, os.Symlink(filepath.Join(victim, "right-bytes"), entry(app)))
		}, "       Discarding the cached copy: the binary is not a regular file (it is a symbolic link out of "},
		{"a cache entry is a named pipe: discarded without blocking", func(t *testing.T, app *harness.App, _ string) {
			require.NoError(t, os.Remove(entry(app)))
			require.NoError(t, syscall.Mkfifo(entry(app), 0o600))
		}, "       Discarding the cached copy: the binary is not a regular file (it is a named pipe)\n"},
		{"a cache entry over the size cap: discarded unread", func(t *testing.T, app *harness.App, _ string) {
			require.NoError(t, os.Truncate(entry(app), 600<<20))
		}, "       Discarding the cached copy: the binary is 629145600 bytes, over the 536870912-byte limit (not read)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newClassicEnv(t, "0.3.0")
			app := e.app(t, "sample-app")
			require.NoError(t, deploy(t, app))
			v := victim(t)
			tc.plant(t, app, v)
			before := snapshot(t, v)
			require.NoError(t, deploy(t, app), app.Output())
			require.Contains(t, app.Output(), strings.ReplaceAll(tc.want, "%CACHE%", cacheFolder(app)))
			require.Equal(t, before, snapshot(t, v), "nothing outside the buildpack's own folders changed")
			require.Equal(t, mesh("0.3.0").Checksum(), sha256Of(t, filepath.Join(app.Slug, "vendor/heroku-applink/bin/heroku-applink-service-mesh")))
			assertNothingUnverified(t, []string{app.Slug, app.CacheDir()}, filepath.Join(app.Slug, "vendor/heroku-applink/bin"), true, mesh("0.3.0"))
		})
	}

	// Cases in the app's source and the config vars.
	for _, tc := range []struct {
		name   string
		plant  func(t *testing.T, app *harness.App, src, victim string)
		ok     bool
		want   string
		absent string
	}{
		{"a config var file is a named pipe: fails at once, naming it", func(t *testing.T, app *harness.App, _, _ string) {
			require.NoError(t, syscall.Mkfifo(filepath.Join(app.EnvDir(), "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION"), 0o644))
		}, false, " !     Error: invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION: is not a regular file (it is a named pipe)\n", ""},
		{"a config var file is a link: refused", func(t *testing.T, app *harness.App, _, victim string) {
			require.NoError(t, os.Symlink(filepath.Join(victim, "keep-me"), filepath.Join(app.EnvDir(), "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION")))
		}, false, " !     Error: invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION: is not a regular file (it is a symbolic link out of ", ""},
		{"the Procfile is a named pipe: not checked, with a warning", func(t *testing.T, _ *harness.App, src, _ string) {
			require.NoError(t, os.Remove(filepath.Join(src, "Procfile")))
			require.NoError(t, syscall.Mkfifo(filepath.Join(src, "Procfile"), 0o644))
		}, true, " !     Warning: The Procfile was not checked: it is a named pipe", ""},
		{"the Procfile is a link: not checked, with a warning", func(t *testing.T, _ *harness.App, src, victim string) {
			require.NoError(t, os.Remove(filepath.Join(src, "Procfile")))
			require.NoError(t, os.Symlink(filepath.Join(victim, "keep-me"), filepath.Join(src, "Procfile")))
		}, true, " !     Warning: The Procfile was not checked: it is a symbolic link", ""},
		{"a leftover of a killed build in the slug's bin: removed", func(t *testing.T, _ *harness.App, src, _ string) {
			bin := filepath.Join(src, "vendor/heroku-applink/bin")
			require.NoError(t, os.MkdirAll(bin, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(bin, tmpPrefix+"2147483647-1-2"), []byte("half a download"), 0o600))
		}, true, "", tmpPrefix},
		{"the app's own files that look temporary are kept", func(t *testing.T, _ *harness.App, src, _ string) {
			for _, name := range appLookAlikes {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(src, name), []byte("the app's"), 0o644))
			}
		}, true, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newClassicEnv(t, "0.3.0")
			src := appSource(t, "sample-app")
			app, err := harness.NewApp(e.bp, src, t.TempDir())
			require.NoError(t, err)
			require.NoError(t, app.SetConfig("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", e.mirror.URL()))
			v := victim(t)
			tc.plant(t, app, src, v)
			before := snapshot(t, v)
			err = deploy(t, app)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				require.Zero(t, e.mirror.Requests(), "it fails before any download")
			}
			require.Contains(t, app.Output(), tc.want)
			require.Equal(t, before, snapshot(t, v), "nothing outside the buildpack's own folders changed")
			tree := app.BuildDir
			if tc.ok {
				tree = app.Slug
			}
			if tc.absent != "" {
				names, _ := os.ReadDir(filepath.Join(tree, "vendor/heroku-applink/bin"))
				for _, n := range names {
					require.NotContains(t, n.Name(), tc.absent)
				}
			}
			if tc.name == "the app's own files that look temporary are kept" {
				for _, name := range appLookAlikes {
					data, err := os.ReadFile(filepath.Join(tree, name))
					require.NoError(t, err, name)
					require.Equal(t, "the app's", string(data))
				}
				return
			}
			assertNothingUnverified(t, []string{tree, app.CacheDir()}, filepath.Join(tree, "vendor/heroku-applink/bin"), tc.ok, mesh("0.3.0"))
		})
	}
}

// compileCmd is bin/compile as the platform runs it, through sh -c so a
// test can set the umask or the working directory.
func compileCmd(bp *harness.Buildpack, script string, args ...string) *exec.Cmd {
	cmd := exec.Command("sh", append([]string{"-c", script + ` exec "$0" "$@"`, filepath.Join(bp.Dir, "bin/compile")}, args...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "STACK=heroku-24", "NO_COLOR=1"}
	return cmd
}

func TestPathsAndModes(t *testing.T) {
	t.Parallel()
	t.Run("a relative BUILD_DIR: the paths written are absolute", func(t *testing.T) {
		t.Parallel()
		e := newClassicEnv(t, "0.3.0")
		work := t.TempDir()
		require.NoError(t, harness.PrepareSource(filepath.Join(work, "build"), fixture("sample-app"), nil))
		require.NoError(t, os.MkdirAll(filepath.Join(work, "env"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(work, "env", "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"), []byte(e.mirror.URL()), 0o644))
		cmd := compileCmd(e.bp, "", "build", "./cache", "env")
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		export, err := os.ReadFile(filepath.Join(e.bp.Dir, "export"))
		require.NoError(t, err)
		require.Equal(t, "export PATH='"+filepath.Join(work, "build/vendor/heroku-applink/bin")+"'\"${PATH:+:${PATH}}\"\n", string(export))
		_, err = os.Stat(filepath.Join(work, "cache/heroku-applink-service-mesh/sha256"))
		require.NoError(t, err)
	})
	t.Run("umask 077: directories 0755, the binary 0755, scripts 0644", func(t *testing.T) {
		t.Parallel()
		e := newClassicEnv(t, "0.3.0")
		build, cache, env := t.TempDir(), t.TempDir(), t.TempDir()
		require.NoError(t, harness.PrepareSource(build, fixture("sample-app"), nil))
		require.NoError(t, os.WriteFile(filepath.Join(env, "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"), []byte(e.mirror.URL()), 0o644))
		out, err := compileCmd(e.bp, "umask 077;", build, cache, env).CombinedOutput()
		require.NoError(t, err, string(out))
		for path, want := range map[string]fs.FileMode{
			"vendor": 0o755, "vendor/heroku-applink": 0o755, "vendor/heroku-applink/bin": 0o755, ".profile.d": 0o755,
			"vendor/heroku-applink/bin/heroku-applink-service-mesh": 0o755,
			".profile.d/heroku-applink-service-mesh.sh":             0o644,
		} {
			info, err := os.Stat(filepath.Join(build, path))
			require.NoError(t, err)
			require.Equal(t, want, info.Mode().Perm(), path)
		}
	})
}

// TestFullDisk runs compile with the build dir on a small tmpfs, in a
// private mount namespace.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	needRoot(t)
	for _, tc := range []struct {
		name, options string
		want          func(build string) string
	}{
		{"a full disk: the error names the directory", "size=%dk",
			func(build string) string {
				return " !     The filesystem that holds " + filepath.Join(build, "vendor/heroku-applink/bin") + " is full: it has no space or no\n"
			}},
		{"a disk out of inodes: the error names the directory", "nr_inodes=%d",
			func(build string) string {
				return " !     The filesystem that holds " + build + "/vendor/heroku-applink is full: it has no space or no\n"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newClassicEnv(t, "0.3.0")
			src := appSource(t, "sample-app")
			// Room for the app's source and no more: its files, or its
			// inodes (the walk counts the root, as tmpfs does).
			inodes, size := 0, int64(0)
			require.NoError(t, filepath.Walk(src, func(_ string, info os.FileInfo, err error) error {
				inodes++
				size += info.Size()
				return err
			}))
			options := fmt.Sprintf(tc.options, inodes)
			if strings.HasPrefix(tc.options, "size") {
				options = fmt.Sprintf(tc.options, size/1024+256)
			}
			build, cache, env := t.TempDir(), t.TempDir(), t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(env, "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"), []byte(e.mirror.URL()), 0o644))
			script := `mount -t tmpfs -o ` + options + ` tmpfs "$1" && cp -a "$2"/. "$1"/ && shift 2 &&`
			cmd := exec.Command("unshare", "-m", "sh", "-c", script+` exec "$0" "$@"`, filepath.Join(e.bp.Dir, "bin/compile"), build, src, build, cache, env)
			cmd.Env = []string{"PATH=/usr/bin:/bin", "STACK=heroku-24", "NO_COLOR=1"}
			out, err := cmd.CombinedOutput()
			require.Error(t, err)
			require.Contains(t, string(out), tc.want(build))
			require.NotContains(t, string(out), "temporary network problem")
			require.NotContains(t, string(out), "your app's source")
		})
	}
}

// stallAfterHeaders sends the headers and the first KiB of the release,
// then nothing: a download in progress, its temporary file open.
func stallAfterHeaders() http.HandlerFunc {
	return testhelpers.Trickle(mesh("0.3.0").Data, 1024, hangGuard)
}

// TestAFullBuildDiskKeepsTheCache: a build dir that cannot take the copy
// of a cached release fails naming the directory, and the cache entry,
// which nothing is wrong with, stays for the next build.
func TestAFullBuildDiskKeepsTheCache(t *testing.T) {
	t.Parallel()
	needRoot(t)
	t.Run("a full build disk keeps the cached copy", func(t *testing.T) { fullBuildDisk(t) })
}

func fullBuildDisk(t *testing.T) {
	e := newClassicEnv(t, "0.3.0")
	src := appSource(t, "sample-app")
	cache, env := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(env, "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"), []byte(e.mirror.URL()), 0o644))
	first := t.TempDir()
	require.NoError(t, harness.CopyTree(src, first))
	out, err := compileCmd(e.bp, "", first, cache, env).CombinedOutput()
	require.NoError(t, err, string(out))
	size := int64(0)
	require.NoError(t, filepath.Walk(src, func(_ string, info os.FileInfo, err error) error { size += info.Size(); return err }))

	build := t.TempDir()
	script := fmt.Sprintf(`mount -t tmpfs -o size=%dk tmpfs "$1" && cp -a "$2"/. "$1"/ && shift 2 &&`, size/1024+256)
	cmd := exec.Command("unshare", "-m", "sh", "-c", script+` exec "$0" "$@"`, filepath.Join(e.bp.Dir, "bin/compile"), build, src, build, cache, env)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "STACK=heroku-24", "NO_COLOR=1"}
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), " !     The filesystem that holds "+filepath.Join(build, "vendor/heroku-applink/bin")+" is full")
	require.NotContains(t, string(out), "Discarding")
	require.Equal(t, mesh("0.3.0").Checksum(), sha256Of(t, filepath.Join(cache, "heroku-applink-service-mesh/sha256", mesh("0.3.0").Hex())))
}

// startCompile starts bin/compile and returns once its download is under
// way (a temporary file exists in bin/, and the mirror has its request: a
// stall scripted for it must not go to the next build), with the command
// and its output.
func startCompile(t *testing.T, e *classicEnv, build, cache, env string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := compileCmd(e.bp, "", build, cache, env)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	before := e.mirror.Requests()
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, func() bool {
		return len(tempFiles(t, filepath.Join(build, "vendor/heroku-applink/bin"))) > 0 && e.mirror.Requests() > before
	}, &out)
	return cmd, &out.Buffer
}

// waitFor polls until cond holds, within the hang guard.
func waitFor(t *testing.T, cond func() bool, out fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "waited in vain; the build said:\n%s", out)
		time.Sleep(10 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.String()
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestLeftoversAndNeighbours(t *testing.T) {
	t.Parallel()
	object := mesh("0.3.0").Object()
	dirs := func(t *testing.T, e *classicEnv) (string, string, string) {
		build, cache, env := t.TempDir(), t.TempDir(), t.TempDir()
		require.NoError(t, harness.PrepareSource(build, fixture("sample-app"), nil))
		require.NoError(t, os.WriteFile(filepath.Join(env, "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"), []byte(e.mirror.URL()), 0o644))
		return build, cache, env
	}
	t.Run("a build killed with SIGKILL: the next build removes its temporary file", func(t *testing.T) {
		t.Parallel()
		e := newClassicEnv(t, "0.3.0")
		build, cache, env := dirs(t, e)
		e.mirror.Script(object, stallAfterHeaders())
		cmd, _ := startCompile(t, e, build, cache, env)
		require.NoError(t, cmd.Process.Kill())
		cmd.Wait()
		bin := filepath.Join(build, "vendor/heroku-applink/bin")
		left := tempFiles(t, bin)
		require.Len(t, left, 1)
		require.True(t, strings.HasPrefix(left[0], tmpPrefix), left[0])

		out, err := compileCmd(e.bp, "", build, cache, env).CombinedOutput()
		require.NoError(t, err, string(out))
		require.Empty(t, tempFiles(t, bin), "the next build removed what the killed one left")
	})
	t.Run("a failing build beside a finished one keeps the other's binary", func(t *testing.T) {
		t.Parallel()
		e := newClassicEnv(t, "0.3.0")
		build, cache, env := dirs(t, e)
		out, err := compileCmd(e.bp, "", build, cache, env).CombinedOutput()
		require.NoError(t, err, string(out))
		e.mirror.Fault(object, testhelpers.Status(404))
		out, err = compileCmd(e.bp, "", build, t.TempDir(), env).CombinedOutput()
		require.Error(t, err)
		require.Contains(t, string(out), "server answered 404 Not Found")
		bin := filepath.Join(build, "vendor/heroku-applink/bin")
		require.Equal(t, mesh("0.3.0").Checksum(), sha256Of(t, filepath.Join(bin, "heroku-applink-service-mesh")), "the other build's binary stays")
		_, err = os.Readlink(filepath.Join(bin, "heroku-applink-service-mesh-latest-amd64"))
		require.NoError(t, err)
	})
	t.Run("a build beside a running one keeps the other's temporary file", func(t *testing.T) {
		t.Parallel()
		e := newClassicEnv(t, "0.3.0")
		build, cache, env := dirs(t, e)
		e.mirror.Script(object, stallAfterHeaders())
		running, _ := startCompile(t, e, build, cache, env)
		bin := filepath.Join(build, "vendor/heroku-applink/bin")
		theirs := tempFiles(t, bin)
		require.Len(t, theirs, 1)
		out, err := compileCmd(e.bp, "", build, t.TempDir(), env).CombinedOutput()
		require.NoError(t, err, string(out))
		require.Equal(t, theirs, tempFiles(t, bin), "the running build's download is not this build's to remove")
		running.Process.Kill()
	})
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	object := mesh("0.3.0").Object()
	for _, tc := range []struct {
		name   string
		signal syscall.Signal
		code   int
	}{
		{"SIGTERM during a download: cancelled, temporary files removed", syscall.SIGTERM, 143},
		{"SIGINT during a download: cancelled, temporary files removed", syscall.SIGINT, 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newClassicEnv(t, "0.3.0")
			build, cache, env := t.TempDir(), t.TempDir(), t.TempDir()
			require.NoError(t, harness.PrepareSource(build, fixture("sample-app"), nil))
			require.NoError(t, os.WriteFile(filepath.Join(env, "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"), []byte(e.mirror.URL()), 0o644))
			e.mirror.Script(object, stallAfterHeaders())
			cmd, out := startCompile(t, e, build, cache, env)
			require.NoError(t, cmd.Process.Signal(tc.signal))
			err := cmd.Wait()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, out.String())
			require.Equal(t, tc.code, exit.ExitCode())
			require.Contains(t, out.String(), " !     Error: the build was cancelled ("+tc.signal.String()+")\n")
			require.NotContains(t, out.String(), "did not stop in time", "it stopped within the grace period")
			require.NotContains(t, out.String(), "network")
			require.Empty(t, tempFiles(t, filepath.Join(build, "vendor/heroku-applink/bin")))
			assertNothingUnverified(t, []string{build, cache}, filepath.Join(build, "vendor/heroku-applink/bin"), false, mesh("0.3.0"))
		})
	}
	t.Run("SIGTERM during a CNB build: cancelled, no layer left", func(t *testing.T) {
		t.Parallel()
		e := newClassicEnv(t, "0.3.0")
		app, layers, platform := appSource(t, "sample-app"), t.TempDir(), t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(platform, "env"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(platform, "env", "HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL"), []byte(e.mirror.URL()), 0o644))
		e.mirror.Script(object, stallAfterHeaders())
		cmd := exec.Command(filepath.Join(e.bp.Dir, "bin/build"), layers, platform, filepath.Join(platform, "plan.toml"))
		cmd.Dir = app
		cmd.Env = []string{"PATH=/usr/bin:/bin", "NO_COLOR=1", "CNB_BUILDPACK_DIR=" + e.bp.Dir, "CNB_LAYERS_DIR=" + layers, "CNB_PLATFORM_DIR=" + platform}
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		waitFor(t, func() bool { return len(tempFiles(t, filepath.Join(layers, "service-mesh/bin"))) > 0 }, &out)
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		var exit *exec.ExitError
		require.ErrorAs(t, cmd.Wait(), &exit, out.String())
		require.Equal(t, 143, exit.ExitCode())
		require.Contains(t, out.String(), "! Error: the build was cancelled (terminated)\n")
		entries, err := os.ReadDir(layers)
		require.NoError(t, err)
		require.Empty(t, entries, "no layer, no metadata, no temporary file")
	})
}

// TestHostileCNB: the same cases where they apply to the CNB build, under
// the real lifecycle.
func TestHostileCNB(t *testing.T) {
	t.Parallel()
	t.Run("a platform env file is a named pipe: fails at once, naming it", func(t *testing.T) {
		t.Parallel()
		a := stand("0.3.0", "amd64")
		e := newCNBEnv(t, "sample-app", "0.12", a)
		// Only this buildpack, whose clear-env keeps the lifecycle itself
		// from reading the platform's env files.
		p, err := harness.NewPlatform(lifecycle(t), e.platform.Root+"-alone", appSource(t, "sample-app"),
			harness.CNBBuildpack{Dir: e.bpDir, ID: "heroku/heroku-applink", Version: bpVersion(t)})
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(p.Root) })
		require.NoError(t, p.SetEnv("HEROKU_APPLINK_SERVICE_MESH_MIRROR_URL", e.mirror.URL()))
		require.NoError(t, syscall.Mkfifo(filepath.Join(p.Env, "HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION"), 0o644))
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		res, err := p.Detect(ctx)
		require.NoError(t, err)
		require.Equal(t, 0, res.Code, res.Output)
		res, err = p.Build(ctx)
		require.NoError(t, err)
		require.NoError(t, ctx.Err(), res.Output)
		require.Equal(t, 51, res.Code, res.Output)
		require.Contains(t, res.Output, "! Error: invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION: is not a regular file (it is a named pipe)\n")
		require.Zero(t, e.mirror.Requests())
	})
	// Restored layers that are not what this buildpack wrote: each is
	// discarded and the layer built afresh, nothing outside it changed.
	for _, tc := range []struct {
		name, want string
		plant      func(t *testing.T, layer, victim string)
	}{
		{"a restored layer whose bin is a link: discarded, nothing written through it", "its bin folder is a symbolic link",
			func(t *testing.T, layer, victim string) {
				require.NoError(t, os.RemoveAll(filepath.Join(layer, "bin")))
				require.NoError(t, os.Symlink(victim, filepath.Join(layer, "bin")))
			}},
		{"a restored layer whose folder is a link: discarded, never followed", "its folder is a symbolic link",
			func(t *testing.T, layer, victim string) {
				require.NoError(t, os.RemoveAll(layer))
				require.NoError(t, os.Symlink(victim, layer))
			}},
		{"a restored layer whose metadata is a folder: discarded", "its metadata is a directory",
			func(t *testing.T, layer, _ string) {
				require.NoError(t, os.Remove(layer+".toml"))
				require.NoError(t, os.Mkdir(layer+".toml", 0o755))
			}},
		{"a restored binary hard-linked to an outside file: never made executable through the link", "the binary has 2 hard links",
			func(t *testing.T, layer, victim string) {
				bin := filepath.Join(layer, "bin/heroku-applink-service-mesh")
				require.NoError(t, os.Chmod(bin, 0o600))
				require.NoError(t, os.Link(bin, filepath.Join(victim, "theirs")))
			}},
		{"restored metadata of keys nested thousands deep: discarded at once", "its metadata is unreadable (",
			func(t *testing.T, layer, _ string) {
				require.NoError(t, os.WriteFile(layer+".toml", []byte(strings.Repeat("a.", 12_000)+"b = 1\n"), 0o644))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := stand("0.3.0", "amd64")
			e := newCNBEnv(t, "sample-app", "0.12", a)
			res := e.build(t)
			require.Equal(t, 0, res.Code, res.Output)
			require.NoError(t, e.platform.Restore())
			v, err := harness.ReachableTempDir("victim-")
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(v) })
			require.NoError(t, os.WriteFile(filepath.Join(v, "keep-me"), []byte("theirs"), 0o644))
			tc.plant(t, filepath.Join(e.layers(), "service-mesh"), v)
			before := snapshot(t, v)
			start := time.Now()
			res = e.build(t)
			require.Equal(t, 0, res.Code, res.Output)
			require.Less(t, time.Since(start), hangGuard)
			require.Contains(t, res.Output, "  - Discarding the cached layer: "+tc.want)
			require.Equal(t, before, snapshot(t, v), "nothing outside the layer changed, no mode either")
			bin := filepath.Join(e.layers(), "service-mesh/bin/heroku-applink-service-mesh")
			info, err := os.Lstat(bin)
			require.NoError(t, err)
			require.True(t, info.Mode().IsRegular())
			require.Equal(t, a.Checksum(), sha256Of(t, bin))
		})
	}
}
