package classic_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/classic"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/report"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/testhelpers"
)

// TestProfileScript sources the script the way a dyno does: bash, HOME at
// the unpacked slug, config vars already set.
func TestProfileScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	require.NoError(t, err)
	home := t.TempDir()
	script := filepath.Join(t.TempDir(), "p.sh")
	require.NoError(t, os.WriteFile(script, []byte(classic.ProfileScript), 0o644))
	tests := []struct {
		name, path, want string
	}{
		{"appends", "/usr/bin:/bin", "/usr/bin:/bin:" + home + "/vendor/heroku-applink/bin"},
		{"empty PATH", "", home + "/vendor/heroku-applink/bin"},
		{"already present", home + "/vendor/heroku-applink/bin:/bin", home + "/vendor/heroku-applink/bin:/bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bash, "-c", `. "$1"; . "$1"; printf %s "$PATH"`, "bash", script)
			cmd.Env = []string{"HOME=" + home, "PATH=" + tt.path}
			got, err := cmd.Output()
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
	require.NotContains(t, classic.ProfileScript, "/tmp", "the script never holds a build path")
}

var mesh = testhelpers.FakeMesh("0.2.2", "amd64")

type compile struct {
	dirs     classic.Dirs
	mirror   *testhelpers.Mirror
	out, err bytes.Buffer
	inst     *install.Installer
}

func setup(t *testing.T) *compile {
	t.Helper()
	x := &compile{dirs: classic.Dirs{Build: t.TempDir(), Cache: t.TempDir(), Env: t.TempDir(), Buildpack: t.TempDir()}, mirror: testhelpers.StartMirror(t)}
	x.mirror.Put(mesh.Object(), mesh.Data)
	testhelpers.WriteInventory(t, x.dirs.Buildpack, testhelpers.Inventory("", mesh))
	require.NoError(t, os.WriteFile(filepath.Join(x.dirs.Env, config.VarMirror), []byte(x.mirror.URL()), 0o644))
	testhelpers.AttachAddon(t, x.dirs.Env)
	require.NoError(t, os.WriteFile(filepath.Join(x.dirs.Build, "Procfile"), []byte("web: APP_PORT=3000 heroku-applink-service-mesh npm start\n"), 0o644))
	x.inst = testhelpers.Installer(&x.out, &x.err, output.Classic)
	return x
}

func (x *compile) run(t *testing.T, d classic.Dirs) error {
	t.Helper()
	x.out.Reset()
	x.err.Reset()
	return classic.Compile(context.Background(), x.inst, d, "amd64", "1.2.3", report.Start(d.Cache, "1.2.3", "", time.Now))
}

func (x *compile) log() string {
	return strings.ReplaceAll(x.out.String(), x.mirror.URL(), "http://MIRROR")
}

func TestCompile(t *testing.T) {
	x := setup(t)
	d := x.dirs
	require.NoError(t, x.run(t, d))
	require.Equal(t, 1, x.mirror.Requests())
	testhelpers.Equal(t, `-----> Heroku AppLink Service Mesh buildpack v1.2.3
-----> Installing Heroku AppLink Service Mesh 0.2.2 (linux-amd64)
       Version 0.2.2 (newest pinned release)
       Downloading from http://MIRROR/heroku-applink-service-mesh-v0.2.2-amd64
       Downloaded `+output.Size(int64(len(mesh.Data)))+` in 1.0s
       Verified `+mesh.Checksum()+` (pinned checksum)
       Added vendor/heroku-applink/bin to PATH at runtime (.profile.d/heroku-applink-service-mesh.sh)
-----> Checking Procfile
       The web process starts the service mesh:
         web: APP_PORT=3000 heroku-applink-service-mesh npm start
-----> Done (finished in 3.0s)
`, x.log())
	require.Empty(t, x.err.String())

	profile, err := os.ReadFile(filepath.Join(d.Build, ".profile.d/heroku-applink-service-mesh.sh"))
	require.NoError(t, err)
	require.Equal(t, classic.ProfileScript, string(profile))
	export, err := os.ReadFile(filepath.Join(d.Buildpack, "export"))
	require.NoError(t, err)
	require.Equal(t, "export PATH='"+d.Build+"/vendor/heroku-applink/bin'\"${PATH:+:${PATH}}\"\n", string(export))

	t.Run("rebuild uses the cache", func(t *testing.T) {
		d2 := d
		d2.Build = t.TempDir()
		require.NoError(t, x.run(t, d2))
		require.Equal(t, 1, x.mirror.Requests())
		require.Contains(t, x.log(), "       Using the cached copy ("+output.Size(int64(len(mesh.Data)))+")\n")
	})
}

// TestAFolderWhereTheCacheEntryGoesIsRepaired: a folder under the pinned
// entry's name fails that build's save, with a warning, and is pruned, so
// the next build caches again.
func TestAFolderWhereTheCacheEntryGoesIsRepaired(t *testing.T) {
	x := setup(t)
	entry := filepath.Join(x.dirs.Cache, classic.CacheFolder, "sha256", strings.TrimPrefix(mesh.Checksum(), "sha256:"))
	require.NoError(t, os.MkdirAll(filepath.Join(entry, "x"), 0o755))
	require.NoError(t, x.run(t, x.dirs))
	require.Contains(t, x.err.String(), "The build cache could not be updated")
	for range 2 {
		x.dirs.Build = t.TempDir()
		require.NoError(t, x.run(t, x.dirs))
	}
	require.Contains(t, x.log(), "Using the cached copy")
	info, err := os.Lstat(entry)
	require.NoError(t, err)
	require.True(t, info.Mode().IsRegular())
}

func TestDirsFrom(t *testing.T) {
	d, err := classic.DirsFrom([]string{"/b", "/c", "/e"}, "/bp", "/wd")
	require.NoError(t, err)
	testhelpers.Equal(t, classic.Dirs{Build: "/b", Cache: "/c", Env: "/e", Buildpack: "/bp"}, d)
	d, err = classic.DirsFrom([]string{"build", "./cache", "../env"}, "bp/", "/tmp/wd")
	require.NoError(t, err)
	// Relative paths are made absolute before anything is written.
	testhelpers.Equal(t, classic.Dirs{Build: "/tmp/wd/build", Cache: "/tmp/wd/cache", Env: "/tmp/env", Buildpack: "/tmp/wd/bp"}, d)
	_, err = classic.DirsFrom([]string{"/b"}, "/bp", "/wd")
	require.ErrorIs(t, err, classic.ErrUsage)
	require.EqualError(t, err, "usage: bin/compile BUILD_DIR CACHE_DIR ENV_DIR")
	_, err = classic.DirsFrom([]string{"/b", "/c", "/e"}, "", "/wd")
	require.ErrorContains(t, err, "run the buildpack through bin/compile")
}

// TestCollisionsFailBeforeTheDownload: where the PATH script goes, a
// folder, or a .profile.d that is a file or a link out of the app, fails
// the build before anything is downloaded or installed, naming the path.
func TestCollisionsFailBeforeTheDownload(t *testing.T) {
	for name, plant := range map[string]func(build string) error{
		"a folder at the script": func(b string) error {
			return os.MkdirAll(filepath.Join(b, ".profile.d/heroku-applink-service-mesh.sh"), 0o755)
		},
		".profile.d is a file": func(b string) error { return os.WriteFile(filepath.Join(b, ".profile.d"), nil, 0o644) },
		".profile.d leads out": func(b string) error { return os.Symlink(t.TempDir(), filepath.Join(b, ".profile.d")) },
	} {
		t.Run(name, func(t *testing.T) {
			x := setup(t)
			require.NoError(t, plant(x.dirs.Build))
			err := x.run(t, x.dirs)
			require.ErrorContains(t, err, "cannot use "+filepath.Join(x.dirs.Build, ".profile.d/heroku-applink-service-mesh.sh"))
			require.Zero(t, x.mirror.Requests())
			_, serr := os.Stat(filepath.Join(x.dirs.Build, "vendor"))
			require.True(t, os.IsNotExist(serr), "nothing was installed")
		})
	}
}

func TestCompileBadConfigTouchesNothing(t *testing.T) {
	x := setup(t)
	d := x.dirs
	require.NoError(t, os.WriteFile(filepath.Join(d.Env, config.VarVersion), []byte("~9.9"), 0o644))
	err := x.run(t, d)
	require.ErrorContains(t, err, `no pinned release of the service mesh matches "~9.9"`)
	require.Zero(t, x.mirror.Requests())
	for _, dir := range []string{d.Build, d.Cache} {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		want := []string{}
		if dir == d.Build {
			want = []string{"Procfile"}
		}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("%s changed (-want +got):\n%s", dir, diff)
		}
	}
}

// TestCancelledAfterTheInstall: a build cancelled once the binary is in
// place, or once its PATH files are written, stops there, takes back what
// it installed and the folders it made, and says why, instead of finishing
// as if nothing happened. The app's own folders and files stay.
func TestCancelledAfterTheInstall(t *testing.T) {
	for _, line := range []string{"(pinned checksum)", "to PATH at runtime"} {
		t.Run(line, func(t *testing.T) {
			x := setup(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			log := &testhelpers.CancelOn{Line: line, Cancel: cancel}
			require.NoError(t, os.Mkdir(filepath.Join(x.dirs.Build, "vendor"), 0o755)) // the app's
			if line == "(pinned checksum)" {                                           // a script of the app's own, which this build never replaced
				require.NoError(t, os.MkdirAll(filepath.Join(x.dirs.Build, ".profile.d"), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(x.dirs.Build, classic.ProfilePath), []byte("# the app's\n"), 0o644))
			}
			inst := testhelpers.Installer(log, &x.err, output.Classic)
			err := classic.Compile(ctx, inst, x.dirs, "amd64", "1.2.3", report.Start(x.dirs.Cache, "1.2.3", "", time.Now))
			require.ErrorIs(t, err, context.Canceled)
			require.NotContains(t, log.String(), "Done")
			if line == "(pinned checksum)" {
				require.NotContains(t, log.String(), "to PATH at runtime", "it stops at once")
			}
			want := map[string]int{x.dirs.Build: 2, filepath.Join(x.dirs.Build, "vendor"): 0}
			if line == "(pinned checksum)" {
				want[x.dirs.Build], want[filepath.Join(x.dirs.Build, ".profile.d")] = 3, 1
				script, rerr := os.ReadFile(filepath.Join(x.dirs.Build, classic.ProfilePath))
				require.NoError(t, rerr)
				require.Equal(t, "# the app's\n", string(script))
			}
			for dir, n := range want {
				entries, rerr := os.ReadDir(dir)
				require.NoError(t, rerr)
				require.Len(t, entries, n, "the binary, the PATH script and the folders this build made are taken back")
			}
			require.NoFileExists(t, filepath.Join(x.dirs.Buildpack, "export"))
		})
	}
}

// TestAFolderThatIsANamedPipe: a named pipe where the platform passes a
// folder is refused at once, never opened, which would wait for a writer: a
// build or env folder fails the build naming it, a cache is done without.
func TestAFolderThatIsANamedPipe(t *testing.T) {
	for _, tt := range []struct {
		name string
		dir  func(*classic.Dirs) *string
		want string
	}{
		{"BUILD_DIR", func(d *classic.Dirs) *string { return &d.Build }, "not a directory"},
		{"CACHE_DIR", func(d *classic.Dirs) *string { return &d.Cache }, ""},
		{"ENV_DIR", func(d *classic.Dirs) *string { return &d.Env }, "cannot read the config var directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := setup(t)
			pipe := tt.dir(&x.dirs)
			*pipe = filepath.Join(t.TempDir(), "pipe")
			require.NoError(t, syscall.Mkfifo(*pipe, 0o644))
			done := make(chan error, 1)
			go func() { done <- x.run(t, x.dirs) }()
			select {
			case err := <-done:
				if tt.want == "" {
					require.NoError(t, err)
					require.Contains(t, x.err.String(), "The build cache is not usable")
					return
				}
				require.ErrorContains(t, err, tt.want)
				require.ErrorContains(t, err, *pipe)
			case <-time.After(10 * time.Second):
				t.Fatal("the build waits on the pipe")
			}
		})
	}
}

// TestAFailedDownloadLeavesNoFolder: a download that fails verification
// leaves the app as it was, without the folders the build made for it.
func TestAFailedDownloadLeavesNoFolder(t *testing.T) {
	x := setup(t)
	x.mirror.Put(mesh.Object(), []byte("not the mesh"))
	require.ErrorContains(t, x.run(t, x.dirs), "checksum")
	entries, err := os.ReadDir(x.dirs.Build)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the Procfile")
}
