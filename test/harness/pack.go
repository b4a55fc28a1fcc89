package harness

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/release"
)

// The real CNB client, pack, building and running app images through
// podman's Docker API: no Docker daemon, no registry.

// PackVersion is the pack CLI the tools module pins.
const PackVersion = "0.38.2"

// PackEnv names the pack binary `make test-pack` built (.build/tools/).
const PackEnv = "HEROKU_APPLINK_TEST_PACK"

// BuilderEnv names a builder image (make test-pack BUILDER=...) to build
// with instead of the local one made from Debian images: it is pulled, and
// its own heroku/procfile is used.
const BuilderEnv = "HEROKU_APPLINK_TEST_BUILDER"

// EngineEnv is "docker" (make test-pack ENGINE=docker) to build through the
// machine's Docker daemon instead of a podman service of the tests' own.
const EngineEnv = "HEROKU_APPLINK_TEST_ENGINE"

// Podman is the container engine pack builds through. By default it is a
// podman API service of the tests' own (StartPodman): its configuration, a
// storage in the CacheDir's pack/ kept between runs (so stack images are built
// once), and a socket pack talks to as if it were Docker. UseDocker drives
// the machine's Docker daemon instead.
type Podman struct {
	// cli is the engine's command: podman or docker.
	cli    string
	dir    string
	socket string
	env    []string
	cmd    *exec.Cmd
}

// StartPodman starts the service. Close stops it and every container.
func StartPodman() (*Podman, error) {
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("harness: %s is missing: install Debian's podman and runc (.ci/run does)", tool)
		}
	}
	dir, err := os.MkdirTemp("", "podman-")
	if err != nil {
		return nil, err
	}
	p := &Podman{cli: "podman", dir: dir, socket: filepath.Join(dir, "podman.sock")}
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	storage := filepath.Join(cache, "pack", "storage")
	// runc, not crun (cgroups in hybrid mode), cgroupfs and file events (no
	// systemd), and no default ulimits (setrlimit is refused here); the
	// host network, so builds and containers reach the loopback mirror.
	confs := map[string]string{
		"containers.conf": "[containers]\ndefault_ulimits = []\nnetns = \"host\"\n\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
		"storage.conf":    fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n", storage, filepath.Join(dir, "run")),
	}
	for name, text := range confs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	p.env = append(os.Environ(),
		"CONTAINERS_CONF="+filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF="+filepath.Join(dir, "storage.conf"),
		"DOCKER_HOST=unix://"+p.socket,
		// pack keeps its config and cache volume keys here, not in ~/.pack.
		"PACK_HOME="+filepath.Join(dir, "pack-home"))
	// Containers a run that was killed left behind in the kept storage.
	if out, err := p.Podman(context.Background(), "rm", "--all", "--force"); err != nil {
		p.Close()
		return nil, fmt.Errorf("harness: podman rm: %v\n%s", err, out)
	}
	p.cmd = exec.Command("podman", "system", "service", "--time=0", "unix://"+p.socket)
	p.cmd.Env = p.env
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	log, err := os.Create(filepath.Join(dir, "service.log"))
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(p.socket); err == nil {
			return p, nil
		}
		if time.Now().After(deadline) {
			p.Close()
			data, _ := os.ReadFile(filepath.Join(dir, "service.log"))
			return nil, fmt.Errorf("harness: the podman service did not start:\n%s", data)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// UseDocker drives the machine's Docker daemon (CI runners have one, and
// a registry to pull builders from). pack keeps its home in a directory of
// the tests' own, which Close removes; the daemon and its images are left
// as they are.
func UseDocker(ctx context.Context) (*Podman, error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return nil, errors.New("harness: docker is missing (ENGINE=docker needs a Docker daemon)")
	}
	dir, err := os.MkdirTemp("", "docker-")
	if err != nil {
		return nil, err
	}
	p := &Podman{cli: "docker", dir: dir, env: append(os.Environ(), "PACK_HOME="+filepath.Join(dir, "pack-home"))}
	if out, err := p.CLI(ctx, "version"); err != nil {
		p.Close()
		return nil, fmt.Errorf("harness: the Docker daemon does not answer: %v\n%s", err, out)
	}
	return p, nil
}

// Env is the environment the engine and pack run with.
func (p *Podman) Env() []string { return p.env }

// CLI runs the engine's CLI (podman against the tests' storage, or docker).
func (p *Podman) CLI(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, p.cli, args...)
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Podman runs the podman CLI against the tests' storage (the engine's CLI).
func (p *Podman) Podman(ctx context.Context, args ...string) (string, error) {
	return p.CLI(ctx, args...)
}

// ImageExists reports whether the storage holds an image by that name.
func (p *Podman) ImageExists(name string) bool {
	args := []string{"image", "exists", name}
	if p.cli == "docker" {
		args = []string{"image", "inspect", "--format", "{{.Id}}", name}
	}
	_, err := p.CLI(context.Background(), args...)
	return err == nil
}

// Labels is an image's labels as a JSON object.
func (p *Podman) Labels(ctx context.Context, image string) (string, error) {
	// podman has them at the top level; docker only under Config.
	format := "{{json .Labels}}"
	if p.cli == "docker" {
		format = "{{json .Config.Labels}}"
	}
	out, err := p.CLI(ctx, "image", "inspect", "--format", format, image)
	if err != nil {
		return "", fmt.Errorf("%s image inspect: %v\n%s", p.cli, err, out)
	}
	return out, nil
}

// Pull pulls an image from its registry (a Docker Hub name may be short).
func (p *Podman) Pull(ctx context.Context, image string) (string, error) {
	out, err := p.CLI(ctx, "pull", Qualified(image))
	if err != nil {
		return out, fmt.Errorf("harness: %s pull %s: %v\n%s", p.cli, image, err, out)
	}
	return out, nil
}

// Qualified is an image name with its registry, as podman needs it:
// heroku/builder:24 is docker.io/heroku/builder:24.
func Qualified(image string) string {
	first, _, found := strings.Cut(image, "/")
	switch {
	case !found:
		return "docker.io/library/" + image
	case strings.ContainsAny(first, ".:") || first == "localhost":
		return image
	default:
		return "docker.io/" + image
	}
}

// Close stops every container and the service, and removes the run dir.
func (p *Podman) Close() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.CLI(context.Background(), "rm", "--all", "--force", "--time", "2")
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	os.RemoveAll(p.dir)
}

// Stack is a build and a run image, as a builder names them.
type Stack struct {
	Build, Run string
}

// stackRecipe is everything the stack images are made from: change it and
// the images are made again.
const stackRecipe = `mmdebstrap --variant=minbase --include=ca-certificates bookworm
user cnb 1000:1000 /home/cnb
build: ENV CNB_USER_ID=1000 CNB_GROUP_ID=1000; LABEL io.buildpacks.base.distro.name=debian io.buildpacks.base.distro.version=12; USER 1000:1000
run: LABEL io.buildpacks.base.distro.name=debian io.buildpacks.base.distro.version=12; USER 1000:1000
`

// EnsureStack makes the stack images from a Debian minimal root
// filesystem (mmdebstrap, from Debian's packages), once per recipe: the
// root filesystem is kept in the CacheDir's pack/, the images in the storage.
func EnsureStack(ctx context.Context, p *Podman, log io.Writer) (Stack, error) {
	sum := sha256.Sum256([]byte(stackRecipe))
	tag := hex.EncodeToString(sum[:6])
	s := Stack{Build: "docker.io/applinktest/build:" + tag, Run: "docker.io/applinktest/run:" + tag}
	if p.ImageExists(s.Build) && p.ImageExists(s.Run) {
		return s, nil
	}
	cache, err := CacheDir()
	if err != nil {
		return Stack{}, err
	}
	rootfs := filepath.Join(cache, "pack", "rootfs-"+tag+".tar")
	if err := os.MkdirAll(filepath.Dir(rootfs), 0o755); err != nil {
		return Stack{}, err
	}
	if info, err := os.Stat(rootfs); err != nil || !info.Mode().IsRegular() {
		os.RemoveAll(rootfs)
		if _, err := exec.LookPath("mmdebstrap"); err != nil {
			return Stack{}, errors.New("harness: mmdebstrap is missing: install Debian's mmdebstrap (.ci/run does)")
		}
		fmt.Fprintln(log, "-----> Making the stack's Debian root filesystem with mmdebstrap (first time only, about a minute)")
		tmp := filepath.Join(filepath.Dir(rootfs), fmt.Sprintf("rootfs-%s-%d.tmp.tar", tag, os.Getpid()))
		hook := `echo "cnb:x:1000:1000:cnb:/home/cnb:/bin/sh" >> "$1/etc/passwd"; echo "cnb:x:1000:" >> "$1/etc/group"; mkdir -p "$1/home/cnb"; chown 1000:1000 "$1/home/cnb"`
		cmd := exec.CommandContext(ctx, "mmdebstrap", "--quiet", "--format=tar", "--variant=minbase", "--include=ca-certificates",
			"--customize-hook="+hook, "bookworm", tmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			os.Remove(tmp)
			return Stack{}, fmt.Errorf("harness: mmdebstrap: %v\n%s", err, out)
		}
		if err := os.Rename(tmp, rootfs); err != nil {
			return Stack{}, err
		}
	}
	fmt.Fprintln(log, "-----> Making the stack images (first time only)")
	base := "docker.io/applinktest/base:" + tag
	if out, err := p.Podman(ctx, "import", rootfs, base); err != nil {
		return Stack{}, fmt.Errorf("harness: podman import: %v\n%s", err, out)
	}
	dir, err := os.MkdirTemp("", "stack-")
	if err != nil {
		return Stack{}, err
	}
	defer os.RemoveAll(dir)
	labels := "LABEL io.buildpacks.base.distro.name=debian io.buildpacks.base.distro.version=12\nUSER 1000:1000\n"
	for image, file := range map[string]string{
		s.Build: "FROM " + base + "\nENV CNB_USER_ID=1000 CNB_GROUP_ID=1000\n" + labels,
		s.Run:   "FROM " + base + "\n" + labels,
	} {
		if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte(file), 0o644); err != nil {
			return Stack{}, err
		}
		if out, err := p.Podman(ctx, "build", "--pull=never", "-t", image, dir); err != nil {
			return Stack{}, fmt.Errorf("harness: podman build %s: %v\n%s", image, err, out)
		}
	}
	p.Podman(ctx, "image", "prune", "--force")
	return s, nil
}

// lifecycleBinaries are the names pack requires in a lifecycle tarball;
// all but the launcher are the multi-call lifecycle binary.
var lifecycleBinaries = []string{"analyzer", "builder", "creator", "detector", "exporter", "extender", "rebaser", "restorer"}

// LifecycleTarball writes the tarball builder.toml's [lifecycle] takes,
// from the lifecycle the conformance tests build: lifecycle.toml (the
// version and the APIs it supports) and lifecycle/ with the binaries.
func LifecycleTarball(lc *Lifecycle, dest string) error {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	epoch := time.Unix(0, 0)
	descriptor := fmt.Sprintf("[apis]\n[apis.buildpack]\ndeprecated = []\nsupported = %s\n[apis.platform]\ndeprecated = []\nsupported = %s\n\n[lifecycle]\nversion = %q\n",
		tomlStrings(LifecycleBuildpackAPIs), tomlStrings(LifecyclePlatformAPIs), LifecycleVersion)
	write := func(h *tar.Header, data []byte) error {
		h.ModTime, h.Uname, h.Gname = epoch, "root", "root"
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := write(&tar.Header{Name: "lifecycle.toml", Mode: 0o644, Size: int64(len(descriptor)), Typeflag: tar.TypeReg}, []byte(descriptor)); err != nil {
		return err
	}
	if err := write(&tar.Header{Name: "lifecycle/", Mode: 0o755, Typeflag: tar.TypeDir}, nil); err != nil {
		return err
	}
	for _, name := range []string{"lifecycle", "launcher"} {
		data, err := os.ReadFile(filepath.Join(lc.Dir, name))
		if err != nil {
			return err
		}
		if err := write(&tar.Header{Name: "lifecycle/" + name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}, data); err != nil {
			return err
		}
	}
	for _, name := range lifecycleBinaries {
		if err := write(&tar.Header{Name: "lifecycle/" + name, Mode: 0o755, Typeflag: tar.TypeSymlink, Linkname: "lifecycle"}, nil); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return os.WriteFile(dest, buf.Bytes(), 0o644)
}

// tomlStrings is a TOML array of strings.
func tomlStrings(list []string) string {
	quoted := make([]string, len(list))
	for i, s := range list {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// LifecycleImage is the image pack runs the untrusted builder's phases
// in. It is made here from the same lifecycle, never pulled.
const LifecycleImage = "docker.io/buildpacksio/lifecycle:" + LifecycleVersion

// EnsureLifecycleImage makes LifecycleImage from lc when the storage does
// not hold it for this very lifecycle.
func EnsureLifecycleImage(ctx context.Context, p *Podman, lc *Lifecycle) error {
	// The label names this lifecycle and this recipe.
	id := filepath.Base(lc.Dir) + "-3"
	if out, err := p.Podman(ctx, "image", "inspect", "--format", `{{index .Labels "io.heroku.applink.test.lifecycle"}}`, LifecycleImage); err == nil && strings.TrimSpace(out) == id {
		return nil
	}
	dir, err := os.MkdirTemp("", "lifecycle-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// One tree copied to / keeps its directories' modes (a COPY of a
	// directory does not): /cnb/lifecycle, a sticky /tmp for the phases'
	// temporary files, and /etc/passwd, since pack runs them as "root".
	rootfs := filepath.Join(dir, "rootfs")
	for _, sub := range []string{"cnb/lifecycle", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(rootfs, sub), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(rootfs, "tmp"), 0o777|os.ModeSticky); err != nil {
		return err
	}
	for name, entry := range map[string]string{"passwd": "root:x:0:0:root:/root:/sbin/nologin\n", "group": "root:x:0:\n"} {
		if err := os.WriteFile(filepath.Join(rootfs, "etc", name), []byte(entry), 0o644); err != nil {
			return err
		}
	}
	for _, name := range []string{"lifecycle", "launcher"} {
		if err := copyFile(filepath.Join(lc.Dir, name), filepath.Join(rootfs, "cnb/lifecycle", name)); err != nil {
			return err
		}
	}
	for _, name := range lifecycleBinaries {
		if err := os.Symlink("lifecycle", filepath.Join(rootfs, "cnb/lifecycle", name)); err != nil {
			return err
		}
	}
	containerfile := "FROM scratch\nCOPY rootfs /\nLABEL io.heroku.applink.test.lifecycle=" + id + "\n" +
		"ENV PATH=/cnb/lifecycle\nUSER 0:0\nENTRYPOINT [\"/cnb/lifecycle/lifecycle\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte(containerfile), 0o644); err != nil {
		return err
	}
	if out, err := p.Podman(ctx, "build", "--pull=never", "-t", LifecycleImage, dir); err != nil {
		return fmt.Errorf("harness: podman build %s: %v\n%s", LifecycleImage, err, out)
	}
	return nil
}

// BuilderBuildpack is a buildpack of a builder and its place in the order.
type BuilderBuildpack struct {
	// URI is a .cnb buildpackage file or a buildpack directory.
	URI string
	ID  string
}

// CreateBuilder makes a builder image with pack: the buildpacks in one
// order group, the stack, and the lifecycle tarball.
func CreateBuilder(ctx context.Context, p *Podman, pack, name string, stack Stack, lifecycle string, bps ...BuilderBuildpack) (string, error) {
	var b strings.Builder
	for _, bp := range bps {
		fmt.Fprintf(&b, "[[buildpacks]]\nuri = %q\n\n", bp.URI)
	}
	b.WriteString("[[order]]\n")
	for _, bp := range bps {
		fmt.Fprintf(&b, "[[order.group]]\nid = %q\n", bp.ID)
	}
	fmt.Fprintf(&b, "\n[build]\nimage = %q\n\n[[run.images]]\nimage = %q\n\n[lifecycle]\nuri = %q\n\n[[targets]]\nos = \"linux\"\narch = \"amd64\"\n",
		stack.Build, stack.Run, "file://"+lifecycle)
	dir, err := os.MkdirTemp("", "builder-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	config := filepath.Join(dir, "builder.toml")
	if err := os.WriteFile(config, []byte(b.String()), 0o644); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, pack, "builder", "create", name, "--config", config, "--pull-policy", "never")
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("harness: pack builder create: %v\n%s", err, out)
	}
	p.Podman(ctx, "image", "prune", "--force")
	return string(out), nil
}

// PackBuild is one `pack build`: the app image, its builder and app
// source, the build's env, and whether the builder is trusted (the
// single-container creator flow) or not (five containers, the phases that
// touch the image running in LifecycleImage when it is set, else in the
// lifecycle image pack pulls).
type PackBuild struct {
	Image, Builder, App string
	// Buildpacks are given to pack build with --buildpack, in order, in place
	// of the builder's order: a .cnb file, or the id of a builder's buildpack.
	Buildpacks []string
	Env        map[string]string
	Untrusted  bool
	// LifecycleImage is the untrusted flow's --lifecycle-image.
	LifecycleImage string
	// PullPolicy is pack's --pull-policy; never when empty.
	PullPolicy string
}

// Build runs pack build as users do, with what this machine needs: no
// pulls unless asked for, the engine's socket for the build containers,
// and the host network for the loopback mirror.
func (p *Podman) Build(ctx context.Context, pack string, b PackBuild) (Result, error) {
	pull := b.PullPolicy
	if pull == "" {
		pull = "never"
	}
	args := []string{"build", b.Image, "--builder", b.Builder, "--path", b.App, "--pull-policy", pull,
		"--docker-host", "inherit", "--network", "host"}
	for _, bp := range b.Buildpacks {
		args = append(args, "--buildpack", bp)
	}
	switch {
	case b.Untrusted && b.LifecycleImage != "":
		args = append(args, "--lifecycle-image", b.LifecycleImage)
	case b.Untrusted:
	case len(b.Buildpacks) > 0:
		// pack trusts a trusted builder's own buildpacks only.
		args = append(args, "--trust-builder", "--trust-extra-buildpacks")
	default:
		args = append(args, "--trust-builder")
	}
	keys := make([]string, 0, len(b.Env))
	for k := range b.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--env", k+"="+b.Env[k])
	}
	cmd := exec.CommandContext(ctx, pack, args...)
	cmd.Env = p.env
	return runResult(cmd)
}

// LayerDiffID is the diff ID an app image records for one buildpack layer,
// from the lifecycle's metadata label.
func (p *Podman) LayerDiffID(ctx context.Context, image, buildpack, layer string) (string, error) {
	labels, err := p.Labels(ctx, image)
	if err != nil {
		return "", err
	}
	var all map[string]string
	if err := json.Unmarshal([]byte(labels), &all); err != nil {
		return "", fmt.Errorf("the image's labels: %v\n%s", err, labels)
	}
	out := all["io.buildpacks.lifecycle.metadata"]
	var md struct {
		Buildpacks []struct {
			Key    string `json:"key"`
			Layers map[string]struct {
				SHA string `json:"sha"`
			} `json:"layers"`
		} `json:"buildpacks"`
	}
	if err := json.Unmarshal([]byte(out), &md); err != nil {
		return "", fmt.Errorf("the image's lifecycle metadata: %v\n%s", err, out)
	}
	for _, bp := range md.Buildpacks {
		if bp.Key == buildpack {
			if l, ok := bp.Layers[layer]; ok {
				return l.SHA, nil
			}
		}
	}
	return "", fmt.Errorf("no layer %s of %s in %s", layer, buildpack, out)
}

// Run starts an app image as a web dyno would: the host network, PORT and
// the config vars, its default process, in the foreground of a podman
// client that Stop signals.
func (p *Podman) Run(image string, port int, env map[string]string) (*Dyno, error) {
	name := fmt.Sprintf("applinktest-dyno-%d", port)
	args := []string{"run", "--rm", "--name", name, "--network", "host", "--env", fmt.Sprintf("PORT=%d", port)}
	for k, v := range env {
		args = append(args, "--env", k+"="+v)
	}
	cmd := exec.Command(p.cli, append(args, image)...)
	cmd.Env = p.env
	// The container is removed whatever became of its client.
	remove := func() {
		args := []string{"rm", "--force", name}
		if p.cli == "podman" {
			args = append(args, "--ignore", "--time", "2")
		}
		p.CLI(context.Background(), args...)
	}
	d, err := StartDyno(cmd, port, time.Minute)
	if err != nil {
		remove()
		return nil, err
	}
	d.cleanup = remove
	return d, nil
}

// RemoveImages removes images a run left, whatever state they are in.
func (p *Podman) RemoveImages(ctx context.Context, images ...string) {
	for _, image := range images {
		if p.ImageExists(image) {
			p.CLI(ctx, "rmi", "--force", image)
		}
	}
}

// CopyCheckout copies the repository's tracked files into dir: a release
// tree, as a fresh clone has it.
func CopyCheckout(root, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("sh", "-c", `git ls-files -z | xargs -0 tar -cf - | tar -xf - -C "$1"`, "sh", dir)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("harness: copying the checkout: %v\n%s", err, out)
	}
	return nil
}

// PackageCNB packages a release tree as users get it (`make package`):
// the CNB directories, then pack's .cnb for arch, whose path it returns.
func PackageCNB(tree, binDir, dist, pack string, env []string, arch string) (string, error) {
	if _, err := release.Package(tree, binDir, dist); err != nil {
		return "", err
	}
	d, err := release.Read(tree)
	if err != nil {
		return "", err
	}
	version := d.Buildpack.Version
	if _, err := release.PackCNB(pack, dist, version, env); err != nil {
		return "", err
	}
	return release.CNBFile(dist, version, arch), nil
}
