package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/BurntSushi/toml"
)

// LifecycleVersion is the reference lifecycle the conformance tests run:
// the one Heroku's builders (heroku/builder:24 and :26) ship.
const LifecycleVersion = "0.21.12"

// LifecyclePlatformAPIs and LifecycleBuildpackAPIs are the APIs that
// lifecycle supports, oldest first (its api/apis.go).
var (
	LifecyclePlatformAPIs  = []string{"0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14", "0.15"}
	LifecycleBuildpackAPIs = []string{"0.7", "0.8", "0.9", "0.10", "0.11", "0.12"}
)

// lifecycleModule is the tools module that pins the lifecycle.
var lifecycleModule = filepath.Join("test", "tools", "lifecycle")

// Lifecycle is a built CNB lifecycle: the multi-call lifecycle binary and
// the launcher.
type Lifecycle struct {
	Dir string
}

// EnsureLifecycle builds the lifecycle from its tools module
// (test/tools/lifecycle) once, into the CacheDir's lifecycle/<hash of its
// go.sum>, and reuses it while the pin is unchanged.
func EnsureLifecycle(root string) (*Lifecycle, error) {
	tools := filepath.Join(root, lifecycleModule)
	sum, err := os.ReadFile(filepath.Join(tools, "go.sum"))
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(sum)
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, "lifecycle", LifecycleVersion+"-"+hex.EncodeToString(h[:6]))
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "launcher")); err == nil {
		return &Lifecycle{Dir: dir}, nil
	}
	tmp := dir + fmt.Sprintf(".tmp-%d", os.Getpid())
	cmd := exec.Command("go", "build", "-o", tmp+"/",
		"-ldflags", "-X github.com/buildpacks/lifecycle/cmd.Version="+LifecycleVersion,
		"github.com/buildpacks/lifecycle/cmd/lifecycle", "github.com/buildpacks/lifecycle/cmd/launcher")
	cmd.Dir = tools
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("harness: building lifecycle %s: %v\n%s", LifecycleVersion, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if _, statErr := os.Stat(filepath.Join(dir, "launcher")); statErr != nil {
			return nil, err
		}
	}
	return &Lifecycle{Dir: dir}, nil
}

// runnable holds this process's copies of built lifecycles, by the
// directory they were built in.
var runnable struct {
	sync.Mutex
	dirs map[string]string
}

// runnableCopy returns a copy of lc the unprivileged build user can run.
// The build sits in the test user's cache, which under a private home
// (/root) is closed to that user: exec fails with "permission denied". The copy is made once per process, in a directory
// that user can reach; RemoveLifecycleCopies deletes it.
func runnableCopy(lc *Lifecycle) (*Lifecycle, error) {
	runnable.Lock()
	defer runnable.Unlock()
	if dir, ok := runnable.dirs[lc.Dir]; ok {
		return &Lifecycle{Dir: dir}, nil
	}
	dir, err := ReachableTempDir("lifecycle-")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"lifecycle", "launcher"} {
		if err := copyFile(filepath.Join(lc.Dir, name), filepath.Join(dir, name)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := makeReadable(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if runnable.dirs == nil {
		runnable.dirs = map[string]string{}
	}
	runnable.dirs[lc.Dir] = dir
	return &Lifecycle{Dir: dir}, nil
}

// RemoveLifecycleCopies deletes the copies of the lifecycle this process
// made for the build user; a test binary calls it when its tests are done.
func RemoveLifecycleCopies() {
	runnable.Lock()
	defer runnable.Unlock()
	for built, dir := range runnable.dirs {
		os.RemoveAll(dir)
		delete(runnable.dirs, built)
	}
}

// CNBBuildpack is a buildpack directory to lay out for the lifecycle.
type CNBBuildpack struct {
	Dir, ID, Version string
	Optional         bool
}

// Platform is a CNB platform laid out in a directory, driven with the real
// lifecycle phases as an unprivileged user.
type Platform struct {
	Root                                    string
	Buildpacks, Order, App, Layers, Env, PD string
	// API is CNB_PLATFORM_API.
	API string
	// Credential runs the phases as this user; nil runs them as the current
	// user (they refuse root).
	Credential *syscall.Credential
	lc         *Lifecycle
}

// NewPlatform lays out buildpacks, an order with them in one group, and the
// app in root, which must be a directory the unprivileged user can reach.
func NewPlatform(lc *Lifecycle, root, app string, bps ...CNBBuildpack) (*Platform, error) {
	lc, err := runnableCopy(lc)
	if err != nil {
		return nil, err
	}
	p := &Platform{Root: root, lc: lc, API: "0.12",
		Buildpacks: filepath.Join(root, "cnb", "buildpacks"), Order: filepath.Join(root, "cnb", "order.toml"),
		App: filepath.Join(root, "workspace"), Layers: filepath.Join(root, "layers"), PD: filepath.Join(root, "platform")}
	p.Env = filepath.Join(p.PD, "env")
	if os.Geteuid() == 0 {
		p.Credential = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	var order strings.Builder
	order.WriteString("[[order]]\n")
	for _, bp := range bps {
		dest := filepath.Join(p.Buildpacks, strings.ReplaceAll(bp.ID, "/", "_"), bp.Version)
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return nil, err
		}
		if err := CopyTree(bp.Dir, dest); err != nil {
			return nil, err
		}
		fmt.Fprintf(&order, "\n[[order.group]]\nid = %q\nversion = %q\noptional = %t\n", bp.ID, bp.Version, bp.Optional)
	}
	if err := os.WriteFile(p.Order, []byte(order.String()), 0o644); err != nil {
		return nil, err
	}
	if err := CopyTree(app, p.App); err != nil {
		return nil, err
	}
	for _, d := range []string{p.Layers, p.Env} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// The buildpacks stay root-owned and read-only to the build user, as in a
	// builder image; the app and layers belong to it.
	if err := makeReadable(p.Buildpacks); err != nil {
		return nil, err
	}
	if p.Credential != nil {
		for _, d := range []string{p.App, p.Layers} {
			if err := chownTree(d, int(p.Credential.Uid), int(p.Credential.Gid)); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// SetOperatorEnv writes a variable of the platform operator's build
// configuration (<build-config>/env/NAME), which the lifecycle gives every
// buildpack whatever its clear-env: how an operator sets the buildpack's
// knobs on CNB.
func (p *Platform) SetOperatorEnv(name, value string) error {
	dir := filepath.Join(p.Root, "build-config", "env")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), []byte(value), 0o644)
}

// SetEnv writes a user env var for the build (<platform>/env/NAME).
func (p *Platform) SetEnv(name, value string) error {
	path := filepath.Join(p.Env, name)
	if value == "" {
		err := os.Remove(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	return os.WriteFile(path, []byte(value), 0o644)
}

// Result is one lifecycle phase's outcome.
type Result struct {
	Output string
	Code   int
}

func (p *Platform) phase(ctx context.Context, name string, args ...string) (Result, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(p.lc.Dir, "lifecycle"), append([]string{name}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + p.Root, "CNB_PLATFORM_API=" + p.API, "CNB_EXPERIMENTAL_MODE=quiet", "NO_COLOR=1",
		"CNB_BUILD_CONFIG_DIR=" + filepath.Join(p.Root, "build-config")}
	if p.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.Credential}
	}
	return runResult(cmd)
}

// runResult runs cmd with its output combined: an exit status is a
// Result's Code, and only a command that could not run is an error.
func runResult(cmd *exec.Cmd) (Result, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	res := Result{Output: out.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
		return res, nil
	case err != nil:
		return res, err
	}
	return res, nil
}

func (p *Platform) common() []string {
	return []string{"-app", p.App, "-buildpacks", p.Buildpacks, "-layers", p.Layers, "-platform", p.PD,
		"-group", filepath.Join(p.Layers, "group.toml"), "-plan", filepath.Join(p.Layers, "plan.toml"), "-no-color"}
}

// Detect runs the detector.
func (p *Platform) Detect(ctx context.Context) (Result, error) {
	return p.phase(ctx, "detect", append(p.common(), "-order", p.Order, "-log-level", "debug")...)
}

// Build runs the builder.
func (p *Platform) Build(ctx context.Context) (Result, error) {
	return p.phase(ctx, "build", p.common()...)
}

// Restore prepares the layers directory for a rebuild the way the spec's
// restore does: a cache layer keeps its contents and its metadata without
// [types]; every other layer and every other file is gone.
func (p *Platform) Restore() error {
	entries, err := os.ReadDir(p.Layers)
	if err != nil {
		return err
	}
	for _, e := range entries {
		bpLayers := filepath.Join(p.Layers, e.Name())
		if !e.IsDir() || e.Name() == "config" || e.Name() == "sbom" {
			if err := os.RemoveAll(bpLayers); err != nil {
				return err
			}
			continue
		}
		if err := restoreBuildpackLayers(bpLayers); err != nil {
			return err
		}
	}
	return nil
}

func restoreBuildpackLayers(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".toml")
		if !ok || e.IsDir() {
			continue
		}
		var doc struct {
			Types    struct{ Cache bool } `toml:"types"`
			Metadata map[string]any       `toml:"metadata"`
		}
		if _, err := toml.DecodeFile(filepath.Join(dir, e.Name()), &doc); err != nil {
			return err
		}
		if !doc.Types.Cache {
			continue
		}
		var buf bytes.Buffer
		if err := toml.NewEncoder(&buf).Encode(map[string]any{"metadata": doc.Metadata}); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), buf.Bytes(), 0o644); err != nil {
			return err
		}
		keep[e.Name()] = true
		keep[name] = true
	}
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// Launch returns the launcher started as the given process type, as the
// image's /cnb/process/<type> entrypoint would be.
func (p *Platform) Launch(ctx context.Context, process string, env map[string]string) (*exec.Cmd, error) {
	dir := filepath.Join(p.Root, "process")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	link := filepath.Join(dir, process)
	if _, err := os.Lstat(link); err != nil {
		if err := os.Symlink(filepath.Join(p.lc.Dir, "launcher"), link); err != nil {
			return nil, err
		}
	}
	cmd := exec.CommandContext(ctx, link)
	cmd.Dir = p.App
	vars := map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": p.App, "PORT": "5000",
		"CNB_PLATFORM_API": p.API, "CNB_LAYERS_DIR": p.Layers, "CNB_APP_DIR": p.App}
	for k, v := range env {
		vars[k] = v
	}
	cmd.Env = environ(vars)
	if p.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.Credential}
	}
	return cmd, nil
}

// LaunchCommand runs a command through the launcher with the app's launch
// environment (`launcher -- cmd args...`).
func (p *Platform) LaunchCommand(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(p.lc.Dir, "launcher"), append([]string{"--"}, args...)...)
	cmd.Dir = p.App
	cmd.Env = environ(map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": p.App,
		"CNB_PLATFORM_API": p.API, "CNB_LAYERS_DIR": p.Layers, "CNB_APP_DIR": p.App})
	if p.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.Credential}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// makeReadable opens a tree to other users for reading (and traversal and
// execution where the owner had them), without making anything writable.
func makeReadable(root string) error {
	return filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.Mode()&os.ModeSymlink != 0 {
			return err
		}
		mode := info.Mode().Perm() | 0o044
		if info.IsDir() || info.Mode().Perm()&0o100 != 0 {
			mode |= 0o011
		}
		return os.Chmod(path, mode&^0o022)
	})
}

// CacheDir is where the suites keep what they build once and reuse (the
// lifecycle, pack's stack images), outside the checkout, which tests never
// write into: the user's cache directory.
func CacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	return filepath.Join(dir, "heroku-applink-buildpack-tests"), err
}

// ReachableTempDir makes a temporary directory the unprivileged build user
// can reach (t.TempDir's parents are private to the test's user).
func ReachableTempDir(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	return dir, os.Chmod(dir, 0o755)
}
