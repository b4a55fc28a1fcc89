package classic

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/advice"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/report"
)

// Where things go in the slug (BUILD_DIR at build time, $HOME at runtime)
// and in the build cache.
const (
	BinDir      = "vendor/heroku-applink/bin"
	ProfilePath = ".profile.d/heroku-applink-service-mesh.sh"
	CacheFolder = "heroku-applink-service-mesh"
	entries     = "sha256"
)

// Dirs are bin/compile's arguments, absolute, and the buildpack's directory.
type Dirs struct{ Build, Cache, Env, Buildpack string }

// Compile installs the mesh into the slug, keeps a pinned release in the
// build cache, and puts the mesh on PATH at runtime and for later buildpacks.
func Compile(ctx context.Context, inst *install.Installer, d Dirs, arch, version string, rec *report.Recorder) (err error) {
	start := inst.Now()
	inst.Out.Step("Heroku AppLink Service Mesh buildpack v%s", version)
	rel, inv, err := install.Resolve(d.Env, d.Buildpack, arch)
	if err != nil {
		return err
	}
	rec.Release(rel)
	build, err := fsutil.OpenRoot(d.Build)
	if err != nil {
		return &fsutil.PathError{Path: d.Build, Err: err}
	}
	defer build.Close()
	// The PATH script's name must be free before anything is downloaded.
	if err := fsutil.MustBeFile(build, ProfilePath); err != nil {
		return err
	}
	cache := openCache(inst.Out, d.Cache)
	// A cached copy is named by its sha256: only a pin finds one.
	entry := path.Join(entries, strings.TrimPrefix(rel.Checksum, "sha256:"))
	var kept *install.Kept
	if cache != nil {
		defer cache.Close()
		if _, err := cache.Lstat(entry); err == nil && rel.Pinned() {
			kept = &install.Kept{Root: cache, Name: entry, Checksum: rel.Checksum, What: "cached copy"}
		}
	}
	// A failed build takes back what it installed, then the folders it made.
	var undo []string
	for _, dir := range []string{BinDir, path.Dir(BinDir), "vendor", path.Dir(ProfilePath)} {
		if _, err := build.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
			undo = append(undo, dir)
		}
	}
	defer func() {
		if err != nil {
			for _, name := range undo {
				build.Remove(name) // a folder only once empty
			}
		}
	}()
	res, err := inst.Install(ctx, rel, build, BinDir, kept)
	if err != nil {
		return err
	}
	for _, name := range install.Names(rel.Version, rel.Arch) {
		undo = slices.Insert(undo, 0, path.Join(BinDir, name))
	}
	rec.Installed(res, cache != nil)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := fsutil.WriteFile(build, ProfilePath, strings.NewReader(ProfileScript), 0o644); err != nil {
		return err
	}
	undo = slices.Insert(undo, 0, ProfilePath) // not before: the app may have one of its own
	inst.Out.Detail("Added %s to PATH at runtime (%s)", BinDir, ProfilePath)
	if cache != nil {
		if rel.Pinned() && !res.Reused {
			// Copied, not linked or renamed: the cache may be another filesystem.
			src, _, err := fsutil.Open(build, path.Join(BinDir, install.Binary))
			if err == nil {
				err = fsutil.WriteFile(cache, entry, src, 0o600) // copied in the kernel
				src.Close()
			}
			if err != nil && ctx.Err() == nil {
				inst.Out.Warning(fmt.Sprintf("The build cache could not be updated, so the next build will\ndownload the service mesh again: %v", err))
			}
		}
		prune(cache, inv)
	}
	rec.Advice(advice.Check(inst.Out, advice.Input{AppDir: d.Build, Names: install.Names(rel.Version, rel.Arch),
		Version: rel.Version, Arch: rel.Arch, EnvDir: d.Env}))
	if err := ctx.Err(); err != nil {
		return err
	}
	// export, sourced before later buildpacks' compiles, names the build
	// path. It is written once nothing can fail: a failed build hands later
	// buildpacks no PATH.
	bp, werr := fsutil.OpenRoot(d.Buildpack)
	if werr == nil {
		quoted := "'" + strings.ReplaceAll(filepath.Join(d.Build, BinDir), "'", `'\''`) + "'"
		werr = fsutil.WriteFile(bp, "export", strings.NewReader("export PATH="+quoted+`"${PATH:+:${PATH}}"`+"\n"), 0o644)
		bp.Close()
	}
	if werr != nil {
		inst.Out.Warning(fmt.Sprintf("Later buildpacks will not find the service mesh on PATH during\nthis build: %v", werr))
	}
	inst.Out.Done(inst.Now().Sub(start))
	return nil
}

// openCache returns the buildpack's folder of the build cache, or nil when
// there is none or it is a link: a build without a cache is slower, not
// broken. A read-only cache still serves its copies; a save warns.
func openCache(out *output.Printer, dir string) *os.Root {
	var root, cache *os.Root
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		root, err = fsutil.OpenRoot(dir)
	}
	if err == nil {
		defer root.Close()
		if info, err := root.Lstat(CacheFolder); err == nil && info.Mode()&fs.ModeSymlink != 0 {
			out.Warning("The build cache folder " + filepath.Join(dir, CacheFolder) + " is a symbolic link. The buildpack\n" +
				"does not follow links, so this build caches nothing. Clear the build cache to\ncache again.")
			return nil
		}
		if err = root.MkdirAll(CacheFolder, 0o755); err == nil {
			cache, err = root.OpenRoot(CacheFolder)
		}
	}
	if err != nil {
		out.Warning(fmt.Sprintf("The build cache is not usable, so this build downloads the service\nmesh and caches nothing: %v", err))
	}
	return cache
}

// prune removes, best effort, what no build will reuse: entries no longer
// pinned, what 0.1.0 kept for unpinned releases (index.toml, signed/) and
// temporary files of builds that are gone, under older names too.
func prune(cache *os.Root, inv inventory.Inventory) {
	cache.Remove("index.toml")
	cache.RemoveAll("signed")
	leftovers := []string{".heroku-applink-download-", ".heroku-applink-cached-", ".download-", ".cached-", ".tmp-"}
	for _, dir := range []string{".", entries} {
		fsutil.RemoveLeftovers(cache, dir)
		found, _ := fs.ReadDir(cache.FS(), dir)
		for _, e := range found {
			name, sum := e.Name(), "sha256:"+e.Name()
			pinned := slices.ContainsFunc(inv.Artifacts, func(a inventory.Artifact) bool { return a.Checksum == sum })
			stale := dir == entries && inventory.ValidChecksum(sum) == nil && (!pinned || !e.Type().IsRegular())
			stale = stale || slices.ContainsFunc(leftovers, func(p string) bool { return strings.HasPrefix(name, p) })
			if stale {
				cache.RemoveAll(path.Join(dir, name))
			}
		}
	}
}

// ProfileScript is the .profile.d script, sourced at dyno start with HOME at
// the slug: it adds the directory once, after the user's own PATH.
const ProfileScript = `# Puts the Heroku AppLink Service Mesh on PATH at dyno start.
# Written by the Heroku AppLink Service Mesh buildpack.
case ":${PATH}:" in
  *":${HOME}/` + BinDir + `:"*) ;;
  *) export PATH="${PATH:+${PATH}:}${HOME}/` + BinDir + `" ;;
esac
`

// ErrUsage is a compile started with the wrong arguments.
var ErrUsage = errors.New("usage: bin/compile BUILD_DIR CACHE_DIR ENV_DIR")

// DirsFrom reads bin/compile's arguments, made absolute against wd: the
// export file puts the build path on later buildpacks' PATH.
func DirsFrom(args []string, buildpackDir, wd string) (Dirs, error) {
	if len(args) != 3 {
		return Dirs{}, ErrUsage
	}
	if buildpackDir == "" {
		return Dirs{}, errors.New("the buildpack directory is unknown: run the buildpack through bin/compile")
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(wd, p)
	}
	return Dirs{Build: abs(args[0]), Cache: abs(args[1]), Env: abs(args[2]), Buildpack: abs(buildpackDir)}, nil
}
