package cnb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/advice"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/files"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/signature"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
)

// LayerName is the layer the mesh lives in. It is the upstream buildpack's
// name, so layers from images it built line up.
const LayerName = "service-mesh"

// Title heads the buildpack's part of the build log.
const Title = "Heroku AppLink Service Mesh"

// Detect always passes with an empty plan: users add this buildpack
// explicitly, and it neither provides nor requires anything.
func Detect() error { return nil }

// Dirs are the CNB build's inputs.
type Dirs struct {
	App, Layers, Platform, Buildpack string
}

// UsageError is a build started without the directories the lifecycle
// passes.
type UsageError struct{ text string }

func (e *UsageError) Error() string { return "usage: " + e.text }

// Usage is the correct invocation.
func (e *UsageError) Usage() string { return e.text }

// DirsFrom reads the build's directories the way the spec gives them: the
// CNB_* variables, else the positional arguments the lifecycle still passes
// (layers, platform, plan); the app is the working directory. buildpackDir
// is the shims' fallback for the buildpack's own directory.
func DirsFrom(args []string, getenv func(string) string, wd, buildpackDir string) (Dirs, error) {
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	d := Dirs{
		App:       wd,
		Layers:    firstOf(getenv("CNB_LAYERS_DIR"), arg(0)),
		Platform:  firstOf(getenv("CNB_PLATFORM_DIR"), arg(1)),
		Buildpack: firstOf(getenv("CNB_BUILDPACK_DIR"), buildpackDir),
	}
	if d.Layers == "" || d.Platform == "" {
		return Dirs{}, &UsageError{"bin/build LAYERS_DIR PLATFORM_DIR PLAN_PATH (or the CNB_* variables)"}
	}
	if d.Buildpack == "" || d.App == "" {
		return Dirs{}, errors.New("CNB_BUILDPACK_DIR is not set and the app directory is unknown: run the buildpack through the lifecycle")
	}
	return d, nil
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// Builder runs bin/build.
type Builder struct {
	Installer *install.Installer
	Out       *output.Printer
	Arch      string
	Now       func() time.Time
	// Version is the buildpack's own version, recorded in the SBOM.
	Version string
}

// layerTOML is <layer>.toml: the layer's types, and the install's record as
// its metadata.
type layerTOML struct {
	Types    layerTypes     `toml:"types"`
	Metadata install.Record `toml:"metadata"`
}

type layerTypes struct {
	Launch bool `toml:"launch"`
	Build  bool `toml:"build"`
	Cache  bool `toml:"cache"`
}

// Build installs the mesh into the service-mesh layer, keeping a restored
// layer whose record this build's trust rules accept.
func (b *Builder) Build(ctx context.Context, d Dirs) (err error) {
	start := b.Now()
	b.Out.Header(fmt.Sprintf("%s (buildpack v%s)", Title, b.Version))
	// clear-env = true: the lifecycle does not inject <platform>/env, so the
	// buildpack reads its own variables from it.
	rel, _, err := install.Resolve(filepath.Join(d.Platform, "env"), d.Buildpack, b.Arch)
	if err != nil {
		return err
	}
	l := &layer{dir: filepath.Join(d.Layers, LayerName)}
	// A failed build leaves no layer at all: no binary the image could ship,
	// no metadata a later build could trust.
	defer func() {
		if err != nil {
			l.remove()
		}
	}()
	if _, err := files.MkdirUnder(d.Layers, LayerName); err != nil {
		return err
	}
	inst, err := b.Installer.Install(ctx, rel, l.dir, "bin", l)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The launch image gets the verified binary and its links, nothing else
	// a restored layer may have carried.
	if err := l.clear(install.Names(rel)...); err != nil {
		return err
	}
	// Restored layer tomls carry no [types]: write the whole file every
	// build, or the lifecycle drops the layer.
	if err := writeTOML(l.toml(), layerTOML{Types: layerTypes{Launch: true, Cache: true}, Metadata: inst.Record}); err != nil {
		return err
	}
	if err := writeSBOM(filepath.Join(d.Layers, LayerName+".sbom.cdx.json"), inst.Record, b.Version); err != nil {
		return err
	}
	b.Out.Detail("Added %s to PATH at launch", filepath.Join(LayerName, "bin"))
	advice.Check(b.Out, advice.Input{AppDir: d.App, Names: install.Names(rel), Version: rel.Version, Arch: rel.Arch,
		EnvDir: filepath.Join(d.Platform, "env"), Image: true})
	b.Out.Done(b.Now().Sub(start))
	return nil
}

// layer is the service-mesh layer as an install.Store: what the lifecycle
// restored is an earlier build's copy, kept in place.
type layer struct {
	dir string
}

func (l *layer) toml() string { return l.dir + ".toml" }

func (l *layer) Name() string { return "cached layer" }

// maxLayerTOML bounds the layer's metadata: it holds one record, with its signature.
const maxLayerTOML = 4 * signature.MaxArmoredSize

func (l *layer) Lookup(install.Release) (*install.Copy, *install.Discard) {
	data, err := files.ReadRegular(l.toml(), maxLayerTOML)
	if errors.Is(err, fs.ErrNotExist) {
		if entries, _ := os.ReadDir(l.dir); len(entries) > 0 {
			return nil, &install.Discard{Problem: install.NoMetadata}
		}
		return nil, nil
	}
	if err != nil {
		return nil, &install.Discard{Problem: install.BadMetadata, Was: err.Error()}
	}
	var got layerTOML
	md, err := toml.Decode(string(data), &got)
	if err != nil {
		return nil, &install.Discard{Problem: install.BadMetadata, Was: err.Error()}
	}
	for _, key := range md.Undecoded() {
		if len(key) > 1 && key[0] == "metadata" {
			return nil, &install.Discard{Problem: install.OtherMetadata}
		}
	}
	if info, err := os.Lstat(filepath.Join(l.dir, "bin")); err == nil && !info.IsDir() {
		return nil, &install.Discard{Problem: install.BadCopy, Was: "its bin is not a directory"}
	}
	return &install.Copy{Record: got.Metadata, Path: filepath.Join(l.dir, "bin", source.MeshBinary), InPlace: true}, nil
}

// Drop empties the layer of everything an earlier build put there, its
// metadata included. This build's own temporary files stay: they may hold
// its download.
func (l *layer) Drop(install.Release) error {
	if err := os.Remove(l.toml()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &files.PathError{Path: l.toml(), Err: err}
	}
	return l.clear()
}

// clear removes from the layer every name but bin/ and, in bin/, the names
// kept and this build's own temporary files. Removing a name never follows
// a link.
func (l *layer) clear(keep ...string) error {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return &files.PathError{Path: l.dir, Err: err}
	}
	for _, e := range entries {
		if e.Name() == "bin" && e.IsDir() {
			continue
		}
		if err := os.RemoveAll(filepath.Join(l.dir, e.Name())); err != nil {
			return &files.PathError{Path: l.dir, Err: err}
		}
	}
	bin := filepath.Join(l.dir, "bin")
	names, _ := os.ReadDir(bin)
	for _, e := range names {
		if slices.Contains(keep, e.Name()) || files.Mine(e.Name()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(bin, e.Name())); err != nil {
			return &files.PathError{Path: bin, Err: err}
		}
	}
	return nil
}

func (l *layer) remove() {
	os.RemoveAll(l.dir)
	os.Remove(l.toml())
	os.Remove(l.dir + ".sbom.cdx.json")
}

func writeTOML(path string, v any) error {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(v); err != nil {
		return fmt.Errorf("failed to encode %s: %w", filepath.Base(path), err)
	}
	return writeFile(path, buf.Bytes())
}

func writeFile(path string, data []byte) error {
	if err := files.Write(filepath.Dir(path), filepath.Base(path), data, 0o644); err != nil {
		return fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	return nil
}
