package classic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/advice"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/builddata"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// Name is what bin/detect prints; the platform shows it as
// "-----> Heroku AppLink Service Mesh app detected".
const Name = "Heroku AppLink Service Mesh"

// Where things go in the slug, relative to BUILD_DIR (and to $HOME at
// runtime, where the slug is unpacked).
const (
	BinDir      = "vendor/heroku-applink/bin"
	ProfileDir  = ".profile.d"
	ProfileName = "heroku-applink-service-mesh.sh"
	cacheSubdir = "heroku-applink-service-mesh"
)

// Detect always passes: users add this buildpack explicitly.
func Detect(w io.Writer) error {
	_, err := fmt.Fprintln(w, Name)
	return err
}

// Release prints the release YAML. The web process belongs to the user's
// Procfile, so there are no default process types and no add-ons.
func Release(w io.Writer) error {
	_, err := io.WriteString(w, "---\naddons: []\ndefault_process_types: {}\n")
	return err
}

// Dirs are the classic compile arguments plus the buildpack's own directory.
type Dirs struct {
	Build, Cache, Env, Buildpack string
}

// UsageError is a compile started with the wrong arguments.
type UsageError struct{}

func (e *UsageError) Error() string { return "usage: " + e.Usage() }

// Usage is the correct invocation.
func (e *UsageError) Usage() string { return "bin/compile BUILD_DIR CACHE_DIR ENV_DIR" }

// DirsFrom reads bin/compile's arguments, made absolute against wd before
// anything is written: the export file puts the build path on later
// buildpacks' PATH. buildpackDir is where the shims found the buildpack:
// the platform does not say.
func DirsFrom(args []string, buildpackDir, wd string) (Dirs, error) {
	if len(args) != 3 {
		return Dirs{}, &UsageError{}
	}
	if buildpackDir == "" {
		return Dirs{}, errors.New("the buildpack directory is unknown: run the buildpack through bin/compile")
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(wd, p)
	}
	return Dirs{Build: abs(args[0]), Cache: abs(args[1]), Env: abs(args[2]), Buildpack: abs(buildpackDir)}, nil
}

// Compiler runs bin/compile.
type Compiler struct {
	Installer *install.Installer
	Out       *output.Printer
	Arch      string
	Now       func() time.Time
	// Version is the buildpack's own version, shown in the log.
	Version string
	// Data records the build for bin/report; nil records nothing.
	Data *builddata.Recorder
}

// Compile installs the mesh into the slug and sets up its PATH.
func (c *Compiler) Compile(ctx context.Context, d Dirs) (err error) {
	start := c.Now()
	c.Out.Step("Heroku AppLink Service Mesh buildpack v%s", c.Version)
	rel, inv, err := install.Resolve(d.Env, d.Buildpack, c.Arch)
	if err != nil {
		return err
	}
	c.Data.Release(rel)
	if info, err := os.Stat(d.Build); err != nil || !info.IsDir() {
		return &files.PathError{Path: d.Build, Err: errors.New("the build directory does not exist")}
	}

	cache := c.openCache(d.Cache)
	var store install.Store
	if cache != nil {
		store = cache
	}
	inst, err := c.Installer.Install(ctx, rel, d.Build, BinDir, store)
	if err != nil {
		return err
	}
	c.Data.Installed(inst, cache != nil)
	defer func() {
		if err != nil {
			install.Remove(filepath.Join(d.Build, BinDir), rel)
		}
	}()
	// A build cancelled from here on stops at the next step, and the
	// deferred removal takes back the binary it installed.
	if err := ctx.Err(); err != nil {
		return err
	}
	if cache != nil {
		if err := cache.Save(ctx, inst); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.Out.Warning(fmt.Sprintf("The build cache could not be updated, so the next build will\ndownload the service mesh again: %v", err))
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	if _, err := files.WriteUnder(d.Build, ProfileDir, ProfileName, []byte(ProfileScript()), 0o644); err != nil {
		return fmt.Errorf("failed to write the runtime PATH script: %w", err)
	}
	c.Out.Detail("Added %s to PATH at runtime (%s/%s)", BinDir, ProfileDir, ProfileName)
	if err := writeExport(d.Buildpack, filepath.Join(d.Build, BinDir)); err != nil {
		c.Out.Warning(fmt.Sprintf("Later buildpacks will not find the service mesh on PATH during\nthis build: %v", err))
	}

	if cache != nil {
		if _, err := cache.Prune(inv.Checksums()); err != nil {
			c.Out.Warning(fmt.Sprintf("Old entries could not be removed from the build cache: %v", err))
		}
	}
	c.Data.Advice(advice.Check(c.Out, advice.Input{AppDir: d.Build, Names: install.Names(rel), Version: rel.Version, Arch: rel.Arch, EnvDir: d.Env}))
	c.Out.Done(c.Now().Sub(start))
	return nil
}

// openCache returns the cache, or nil when CACHE_DIR cannot be used: a
// build without a cache is slower, not broken. The buildpack's folder in
// it must be a folder of its own, not a link to somewhere else.
func (c *Compiler) openCache(dir string) *install.Cache {
	if dir == "" {
		return nil
	}
	cacheDir := filepath.Join(dir, cacheSubdir)
	if info, err := os.Lstat(cacheDir); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		c.Out.Warning(fmt.Sprintf("The build cache folder %s is a symbolic link. The buildpack\n"+
			"does not follow links, so this build caches nothing. Clear the build cache to\n"+
			"cache again.", cacheDir))
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.Out.Warning(fmt.Sprintf("The build cache is not usable, so this build downloads the service\nmesh and caches nothing: %v", err))
		return nil
	}
	if _, err := files.MkdirUnder(dir, cacheSubdir); err != nil {
		c.Out.Warning(fmt.Sprintf("The build cache is not usable, so this build downloads the service\nmesh and caches nothing: %v", err))
		return nil
	}
	probe, err := files.CreateTemp(cacheDir, files.TempPrefix)
	if err != nil {
		c.Out.Warning(fmt.Sprintf("The build cache is not writable, so this build downloads the service\nmesh and caches nothing: %v", files.Cause(err)))
		return nil
	}
	probe.Close()
	os.Remove(probe.Name())
	return &install.Cache{Dir: cacheDir}
}

// ProfileScript is the .profile.d script. It runs in bash at every dyno
// start, after config vars are set and with HOME at the unpacked slug, so it
// refers to $HOME, never to the build path, and adds the directory only once
// however often it is sourced. Appending keeps any binary of the user's first.
func ProfileScript() string {
	return `# Puts the Heroku AppLink Service Mesh on PATH at dyno start.
# Written by the Heroku AppLink Service Mesh buildpack.
case ":${PATH}:" in
  *":${HOME}/` + BinDir + `:"*) ;;
  *) export PATH="${PATH:+${PATH}:}${HOME}/` + BinDir + `" ;;
esac
`
}

// writeExport writes <buildpack>/export, which the platform sources before
// each later buildpack's compile. Those run during this build, so the path
// is the build path.
func writeExport(buildpackDir, binDir string) error {
	script := "export PATH=" + shellQuote(binDir) + `"${PATH:+:${PATH}}"` + "\n"
	return files.Write(buildpackDir, "export", []byte(script), 0o644)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
