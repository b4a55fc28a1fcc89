package cnb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/procfile"
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

// Builder runs bin/build.
type Builder struct {
	Installer *install.Installer
	Out       *output.Printer
	Arch      string
	Now       func() time.Time
	// Version is the buildpack's own version, recorded in the SBOM.
	Version string
}

// Metadata is the [metadata] of service-mesh.toml: the resolved artifact,
// everything that determines the layer's bytes.
type Metadata struct {
	Version  string `toml:"version"`
	OS       string `toml:"os"`
	Arch     string `toml:"arch"`
	URL      string `toml:"url"`
	Checksum string `toml:"checksum"`
	// An unpinned release also records how to ask whether it changed, and
	// the key its signature was verified with.
	ETag         string `toml:"etag,omitempty"`
	LastModified string `toml:"last-modified,omitempty"`
	Fingerprint  string `toml:"fingerprint,omitempty"`
}

func metadataFor(a inventory.Artifact) Metadata {
	return Metadata{Version: a.Version.String(), OS: a.OS, Arch: a.Arch, URL: a.URL, Checksum: a.Checksum.String()}
}

type layerTOML struct {
	Types    layerTypes `toml:"types"`
	Metadata Metadata   `toml:"metadata"`
}

type layerTypes struct {
	Launch bool `toml:"launch"`
	Build  bool `toml:"build"`
	Cache  bool `toml:"cache"`
}

// Build installs the mesh into the service-mesh layer, or keeps a restored
// layer that holds exactly the resolved artifact.
func (b *Builder) Build(ctx context.Context, d Dirs) (err error) {
	start := b.Now()
	b.Out.Header(fmt.Sprintf("%s (buildpack v%s)", Title, b.Version))
	// clear-env = true: the lifecycle does not inject <platform>/env, so the
	// buildpack reads its own variables from it.
	target, _, err := install.Resolve(filepath.Join(d.Platform, "env"), d.Buildpack, b.Arch)
	if err != nil {
		return err
	}

	layer := filepath.Join(d.Layers, LayerName)
	tomlPath := layer + ".toml"
	// A failed build leaves no layer at all: no binary the image could ship,
	// no metadata a later build could trust.
	defer func() {
		if err != nil {
			os.RemoveAll(layer)
			os.Remove(tomlPath)
		}
	}()
	if target.Unpinned != nil {
		return b.buildUnpinned(ctx, d, target, start)
	}
	want := metadataFor(target.Artifact)

	reason := reuseProblem(layer, tomlPath, want)
	if reason == "" {
		b.Out.Step("Reusing Heroku AppLink Service Mesh %s from the layer cache", b.Out.Value(target.Artifact.String()))
		b.Out.Detail("Verified %s (pinned checksum)", target.Artifact.Checksum)
	} else if err := b.reinstall(layer, reason, func() error {
		_, err := b.Installer.Install(ctx, target, layer, "bin", nil)
		return err
	}); err != nil {
		return err
	}
	return b.finish(d, want, start)
}

// reinstall empties the layer, says why unless there was none, and fills it.
func (b *Builder) reinstall(layer, reason string, fill func() error) error {
	if reason != errNoLayer {
		b.Out.Step("Discarding the cached service mesh layer: %s", reason)
	}
	if err := reset(layer, layer+".toml"); err != nil {
		return err
	}
	if err := os.MkdirAll(layer, 0o755); err != nil {
		return &install.PathError{Path: layer, Err: err}
	}
	return fill()
}

// finish writes the layer's metadata and SBOM and gives the Procfile advice.
func (b *Builder) finish(d Dirs, md Metadata, start time.Time) error {
	// Restored layer tomls carry no [types]: write the whole file every
	// build, or the lifecycle drops the layer.
	tomlPath := filepath.Join(d.Layers, LayerName+".toml")
	if err := writeTOML(tomlPath, layerTOML{Types: layerTypes{Launch: true, Cache: true}, Metadata: md}); err != nil {
		return err
	}
	if err := writeSBOM(filepath.Join(d.Layers, LayerName+".sbom.cdx.json"), md, b.Version); err != nil {
		return err
	}
	b.Out.Detail("Added %s to PATH at launch", filepath.Join(LayerName, "bin"))
	procfile.Report(b.Out, procfile.Inspect(d.App, install.BinaryName), install.BinaryName)
	b.Out.Done(b.Now().Sub(start))
	return nil
}

// buildUnpinned installs a release verified by signature. A restored layer
// that holds the same object is kept only after one conditional request
// shows the source has not changed it.
func (b *Builder) buildUnpinned(ctx context.Context, d Dirs, target install.Target, start time.Time) error {
	u := target.Unpinned
	layer := filepath.Join(d.Layers, LayerName)
	tomlPath := layer + ".toml"
	want := Metadata{Version: u.Label, OS: "linux", Arch: u.Arch, URL: target.URL}
	restored, reason := restoredUnpinned(layer, tomlPath, want)
	if reason == "" {
		unchanged, err := b.Installer.CheckUnchanged(ctx, install.SignedMeta{URL: restored.URL, ETag: restored.ETag, LastModified: restored.LastModified}, d.Layers)
		switch {
		case err != nil:
			reason = fmt.Sprintf("the source could not be asked whether it changed (%v)", err)
		case !unchanged:
			reason = "the release changed at its source"
		default:
			b.Out.Step("Reusing Heroku AppLink Service Mesh %s from the layer cache", b.Out.Value(fmt.Sprintf("%s (linux-%s)", u.Label, u.Arch)))
			b.Out.Detail("Unchanged at its source (304 Not Modified); %s verified by key %s", restored.Checksum, restored.Fingerprint)
			return b.finish(d, restored, start)
		}
	}
	var meta install.SignedMeta
	if err := b.reinstall(layer, reason, func() (err error) {
		_, meta, err = b.Installer.InstallSigned(ctx, target, layer, "bin", nil)
		return err
	}); err != nil {
		return err
	}
	want.Checksum = "sha256:" + meta.SHA256
	want.ETag, want.LastModified, want.Fingerprint = meta.ETag, meta.LastModified, meta.Fingerprint
	return b.finish(d, want, start)
}

// restoredUnpinned reads a restored layer of an unpinned release and says
// why it cannot be kept, or "" with its metadata if it may be.
func restoredUnpinned(layer, tomlPath string, want Metadata) (Metadata, string) {
	var got layerTOML
	if _, err := os.Stat(tomlPath); err != nil {
		if _, err := os.Stat(layer); err == nil {
			return Metadata{}, "its metadata is missing"
		}
		return Metadata{}, errNoLayer
	}
	if _, err := toml.DecodeFile(tomlPath, &got); err != nil {
		return Metadata{}, "its metadata is unreadable"
	}
	m := got.Metadata
	switch {
	case m.Version != want.Version:
		return m, fmt.Sprintf("the version changed (%s to %s)", orNone(m.Version), want.Version)
	case m.Arch != want.Arch || m.OS != want.OS:
		return m, fmt.Sprintf("the architecture changed (%s-%s to %s-%s)", orNone(m.OS), orNone(m.Arch), want.OS, want.Arch)
	case m.URL != want.URL:
		return m, "the download URL changed"
	case m.Checksum == "" || (m.ETag == "" && m.LastModified == ""):
		return m, "its metadata does not say how to check the release for changes"
	}
	if problem := binaryProblem(layer, m); problem != "" {
		return m, problem
	}
	return m, ""
}

const errNoLayer = "no layer was restored"

// reuseProblem says why a restored layer cannot be kept, or "" if it can.
func reuseProblem(layer, tomlPath string, want Metadata) string {
	data, err := os.ReadFile(tomlPath)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(layer); err == nil {
			return "its metadata is missing"
		}
		return errNoLayer
	}
	if err != nil {
		return fmt.Sprintf("its metadata cannot be read (%v)", err)
	}
	var got layerTOML
	md, err := toml.Decode(string(data), &got)
	if err != nil {
		return "its metadata is unreadable"
	}
	for _, key := range md.Undecoded() {
		if len(key) > 1 && key[0] == "metadata" {
			return "its metadata is from another version of this buildpack"
		}
	}
	switch m := got.Metadata; {
	case m.Version == "":
		// The upstream buildpack's layer records only an ETag.
		return "its metadata is from another version of this buildpack"
	case m.Version != want.Version:
		return fmt.Sprintf("the version changed (%s to %s)", orNone(m.Version), want.Version)
	case m.Arch != want.Arch || m.OS != want.OS:
		return fmt.Sprintf("the architecture changed (%s-%s to %s-%s)", orNone(m.OS), orNone(m.Arch), want.OS, want.Arch)
	case m.Checksum != want.Checksum:
		return fmt.Sprintf("the pinned checksum changed (%s to %s)", orNone(m.Checksum), want.Checksum)
	case m.URL != want.URL:
		return "the pinned URL changed"
	}
	return binaryProblem(layer, want)
}

// binaryProblem checks that a restored layer holds the binary its metadata
// describes, executable and with its legacy link.
func binaryProblem(layer string, m Metadata) string {
	bin := filepath.Join(layer, "bin", install.BinaryName)
	f, err := os.Open(bin)
	if err != nil {
		return "the cached binary is missing"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "the cached binary cannot be read"
	}
	if "sha256:"+hex.EncodeToString(h.Sum(nil)) != m.Checksum {
		return "the cached binary does not match its checksum"
	}
	if info, err := f.Stat(); err != nil || info.Mode().Perm()&0o111 == 0 {
		return "the cached binary is not executable"
	}
	link := filepath.Join(layer, "bin", install.LegacyName(m.Arch))
	if target, err := os.Readlink(link); err != nil || target != install.BinaryName {
		return "the cached legacy symlink is missing"
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func reset(layer, tomlPath string) error {
	if err := os.RemoveAll(layer); err != nil {
		return &install.PathError{Path: layer, Err: err}
	}
	if err := os.Remove(tomlPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &install.PathError{Path: tomlPath, Err: err}
	}
	return nil
}

func writeTOML(path string, v any) error {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(v); err != nil {
		return fmt.Errorf("failed to encode %s: %w", filepath.Base(path), err)
	}
	return writeFile(path, buf.Bytes())
}

func writeFile(path string, data []byte) error {
	if _, err := install.WriteFile(filepath.Dir(path), ".", filepath.Base(path), data, 0o644); err != nil {
		return fmt.Errorf("failed to write %s: %w", filepath.Base(path), err)
	}
	return nil
}
