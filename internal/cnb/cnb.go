package cnb

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/advice"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fsutil"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

// Layer is the upstream buildpack's layer name, so its images' layers line up.
const Layer = "service-mesh"

type Dirs struct{ App, Layers, Platform, Buildpack string }

// ErrUsage is a build started without the directories the lifecycle passes.
var ErrUsage = errors.New("usage: bin/build LAYERS_DIR PLATFORM_DIR PLAN_PATH (or the CNB_* variables)")

// DirsFrom reads the CNB_* variables, else the positional arguments the
// lifecycle still passes; buildpackDir is the shims' fallback.
func DirsFrom(args []string, getenv func(string) string, wd, buildpackDir string) (Dirs, error) {
	args = append(args, "", "")
	d := Dirs{App: wd, Layers: cmp.Or(getenv("CNB_LAYERS_DIR"), args[0]), Platform: cmp.Or(getenv("CNB_PLATFORM_DIR"), args[1]),
		Buildpack: cmp.Or(getenv("CNB_BUILDPACK_DIR"), buildpackDir)}
	if d.Layers == "" || d.Platform == "" {
		return Dirs{}, ErrUsage
	}
	if d.Buildpack == "" || d.App == "" {
		return Dirs{}, errors.New("CNB_BUILDPACK_DIR is not set and the app directory is unknown: run the buildpack through the lifecycle")
	}
	return d, nil
}

// Record is the layer's metadata: what a build installed, never with
// credentials.
type Record struct {
	Version  string `toml:"version"`
	OS       string `toml:"os"`
	Arch     string `toml:"arch"`
	URL      string `toml:"url"`
	Checksum string `toml:"checksum"`
	// Verified is "pinned checksum" or "signature", by Signer's key.
	Verified string `toml:"verified"`
	Signer   string `toml:"signer,omitempty"`
}

type layerTOML struct {
	Types struct {
		Launch bool `toml:"launch"`
		Build  bool `toml:"build"`
		Cache  bool `toml:"cache"`
	} `toml:"types"`
	Metadata Record `toml:"metadata"`
}

// Build installs the mesh into the service-mesh layer, keeping a restored
// layer of the pinned release whose binary still hashes to the pin.
func Build(ctx context.Context, inst *install.Installer, d Dirs, arch, version string) (err error) {
	start := inst.Now()
	inst.Out.Header("Heroku AppLink Service Mesh (buildpack v" + version + ")")
	// clear-env = true: config vars are read from <platform>/env.
	env := filepath.Join(d.Platform, "env")
	rel, _, err := install.Resolve(env, d.Buildpack, arch)
	if err != nil {
		return err
	}
	layers, err := fsutil.OpenRoot(d.Layers)
	if err != nil {
		return &fsutil.PathError{Path: d.Layers, Err: err}
	}
	defer layers.Close()
	// A failed build leaves no layer the image could ship or a build trust.
	defer func() {
		if err != nil {
			for _, name := range []string{Layer, Layer + ".toml", Layer + ".sbom.cdx.json"} {
				layers.RemoveAll(name)
			}
		}
	}()
	kept := restored(layers)
	if kept != nil && kept.Problem == "" {
		// The image gets the verified binary, nothing else a layer carried.
		if err := clear(layers); err != nil {
			return err
		}
	}
	res, err := inst.Install(ctx, rel, layers, Layer+"/bin", kept)
	if err = cmp.Or(err, ctx.Err()); err != nil {
		return err
	}
	doc := layerTOML{Metadata: Record{Version: rel.Version, OS: "linux", Arch: rel.Arch, URL: rel.Public, Checksum: res.Checksum,
		Verified: map[bool]string{true: "pinned checksum", false: "signature"}[rel.Pinned()], Signer: res.Signer}}
	// An unpinned release is never reused: its layer is not cached.
	doc.Types.Launch, doc.Types.Cache = true, rel.Pinned()
	meta, err := toml.Marshal(doc)
	if err != nil {
		return err
	}
	// Restored layer TOMLs carry no [types], and a restored bill of materials
	// may be anything, a folder too: both are written whole.
	layers.RemoveAll(Layer + ".sbom.cdx.json")
	if err := cmp.Or(fsutil.WriteFile(layers, Layer+".toml", bytes.NewReader(meta), 0o644),
		fsutil.WriteFile(layers, Layer+".sbom.cdx.json", bytes.NewReader(sbom(doc.Metadata, version)), 0o644)); err != nil {
		return err
	}
	inst.Out.Detail("Added %s/bin to PATH at launch", Layer)
	advice.Check(inst.Out, advice.Input{AppDir: d.App, Names: install.Names(rel.Version, rel.Arch), Version: rel.Version, Arch: rel.Arch, EnvDir: env, Image: true})
	if err := ctx.Err(); err != nil {
		return err
	}
	inst.Out.Done(inst.Now().Sub(start))
	return nil
}

// restored is the restored layer as a copy the install may keep in place,
// or nil. A layer that will not be kept is removed first, never followed,
// read or written through.
func restored(layers *os.Root) *install.Kept {
	k := &install.Kept{Root: layers, Name: Layer + "/bin/" + install.Binary, InPlace: true, What: "cached layer"}
	_, derr := layers.Lstat(Layer)
	_, merr := layers.Lstat(Layer + ".toml")
	if errors.Is(derr, fs.ErrNotExist) && errors.Is(merr, fs.ErrNotExist) {
		return nil
	}
	for _, c := range []struct {
		name, what string
		dir        bool
	}{{Layer, "its folder", true}, {Layer + ".toml", "its metadata", false}, {Layer + "/bin", "its bin folder", true}, {k.Name, "its binary", false}} {
		info, err := layers.Lstat(c.name)
		switch {
		case k.Problem != "":
		case err == nil && (c.dir != info.IsDir() || (!c.dir && !info.Mode().IsRegular())):
			k.Problem = c.what + " is " + fsutil.Kind(info.Mode())
		case errors.Is(err, fs.ErrNotExist) && c.dir: // the lifecycle restored the metadata alone
			k.Problem = c.what + " is missing"
		}
	}
	var doc layerTOML
	if k.Problem == "" {
		data, err := fsutil.ReadFile(layers, Layer+".toml", 4<<10)
		if err == nil {
			err = decode(data, &doc)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			k.Problem = "its metadata is missing"
		case err != nil:
			k.Problem = "its metadata is unreadable (" + err.Error() + ")"
		}
	}
	if k.Problem != "" || doc.Metadata.Verified == "signature" {
		layers.RemoveAll(Layer)
		layers.RemoveAll(Layer + ".toml")
	}
	if doc.Metadata.Verified == "signature" {
		return nil // unpinned releases are no longer reused: reinstalled quietly
	}
	if inventory.ValidChecksum(doc.Metadata.Checksum) == nil {
		k.Checksum = doc.Metadata.Checksum // else none: no build wrote it
	}
	return k
}

// decode decodes layer metadata, refusing first what would cost the decoder
// far more than its size (nested keys or arrays): the buildpack writes two
// tables of short keys.
func decode(data []byte, doc *layerTOML) error {
	if n := bytes.Count(data, []byte("[")) + bytes.Count(data, []byte("{")); n > 8 {
		return fmt.Errorf("%d brackets, where this buildpack writes 2", n)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if key, _, ok := strings.Cut(line, "="); ok && strings.Count(key, ".") > 1 {
			return fmt.Errorf("line %d has a dotted key this buildpack does not write", i+1)
		}
	}
	_, err := toml.Decode(string(data), doc)
	return err
}

// clear removes from the layer everything but bin/ and the binary in it,
// and gives both folders the buildpack's mode.
func clear(layers *os.Root) error {
	for _, dir := range []string{Layer, Layer + "/bin"} {
		chmodErr := layers.Chmod(dir, 0o755) // first: a restored folder may be unreadable to its owner
		entries, err := fs.ReadDir(layers.FS(), dir)
		if err = cmp.Or(chmodErr, err); err != nil {
			return &fsutil.PathError{Path: filepath.Join(layers.Name(), dir), Err: err}
		}
		for _, e := range entries {
			if name := path.Join(dir, e.Name()); name != Layer+"/bin" && name != Layer+"/bin/"+install.Binary {
				if err := layers.RemoveAll(name); err != nil {
					return &fsutil.PathError{Path: filepath.Join(layers.Name(), name), Err: err}
				}
			}
		}
	}
	return nil
}

// sbom is the layer's CycloneDX 1.5 bill of materials: the mesh, with its
// sha256 and where it came from (never with credentials), as a generic
// package URL, since the mesh is published as a bare file.
func sbom(r Record, buildpackVersion string) []byte {
	type object = map[string]any
	purl := url.Values{"download_url": {r.URL}, "checksum": {r.Checksum}}
	mesh := object{"type": "application", "name": install.Binary, "version": r.Version, "publisher": "Heroku",
		"purl":               "pkg:generic/" + install.Binary + "@" + r.Version + "?" + purl.Encode(),
		"hashes":             []object{{"alg": "SHA-256", "content": strings.TrimPrefix(r.Checksum, "sha256:")}},
		"externalReferences": []object{{"type": "distribution", "url": r.URL}}}
	tool := object{"type": "application", "name": "heroku/heroku-applink", "version": buildpackVersion, "publisher": "Heroku"}
	data, _ := json.MarshalIndent(object{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
		"metadata": object{"tools": object{"components": []object{tool}}}, "components": []object{mesh}}, "", "  ")
	return append(data, '\n')
}
