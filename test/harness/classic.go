package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
)

// App is an app deployed with the classic contract, in hatchet's terms:
// Deploy builds it (and Push builds it again), Output is the build log, Run
// runs a command on a one-off dyno booted from the slug.
type App struct {
	bp      *Buildpack
	fixture string
	work    string
	cache   string
	envDir  string
	config  map[string]string
	builds  int

	// Stack is exported to the build as STACK; it starts as DefaultStack().
	Stack string
	// After lists later buildpacks' directories, compiled after this one with
	// every earlier buildpack's export file sourced, as the platform does.
	After []string
	// Credential, when set, runs the build as that user (the work directory
	// must be reachable by it; it is given to that user).
	Credential *syscall.Credential
	// Env adds variables to the scrubbed environment the buildpack runs in,
	// as a platform operator would.
	Env map[string]string
	// Chown lists more directories to give to Credential's user before a
	// build, such as the buildpack's own, which classic builds write to.
	Chown []string

	// Slug is the app directory of the last successful deploy, moved away
	// from its build path as on Heroku.
	Slug string
	// Release is bin/release's YAML from the last successful deploy.
	Release string
	// RawOutput is the last build's log, stdout and stderr interleaved as the
	// platform shows them; Output is the same without ANSI colour codes.
	RawOutput string
	// BuildDir is the path the last build ran at.
	BuildDir string
	// Report is bin/report's output after the last build's compile, which
	// ran whether compile succeeded or not; ReportStderr and ReportErr are
	// its stderr and how it exited.
	Report, ReportStderr string
	ReportErr            error
}

// DefaultStack is the stack apps build on unless a test sets App.Stack: the test
// process's STACK (CI runs the suite once per stack), else heroku-24.
func DefaultStack() string {
	if s := os.Getenv("STACK"); s != "" {
		return s
	}
	return "heroku-24"
}

// NewApp prepares an app from a fixture directory under work, which holds
// its build paths, cache and env dir.
func NewApp(bp *Buildpack, fixture, work string) (*App, error) {
	a := &App{bp: bp, fixture: fixture, work: work, Stack: DefaultStack(), config: map[string]string{},
		cache: filepath.Join(work, "cache"), envDir: filepath.Join(work, "env")}
	for _, d := range []string{a.cache, a.envDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// SetConfigs sets each of vars as SetConfig does.
func (a *App) SetConfigs(vars map[string]string) error {
	for name, value := range vars {
		if err := a.SetConfig(name, value); err != nil {
			return err
		}
	}
	return nil
}

// SetConfig sets a config var (an empty value unsets it); it applies from
// the next build on, as `heroku config:set` does.
func (a *App) SetConfig(name, value string) error {
	p := filepath.Join(a.envDir, name)
	if value == "" {
		delete(a.config, name)
		err := os.Remove(p)
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	a.config[name] = value
	return os.WriteFile(p, []byte(value), 0o644)
}

// CacheDir is the app's build cache, kept across builds.
func (a *App) CacheDir() string { return a.cache }

// EnvDir is the app's config var directory, one file per variable.
func (a *App) EnvDir() string { return a.envDir }

// Output is the last build log without colour codes.
func (a *App) Output() string { return StripANSI(a.RawOutput) }

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// StripANSI removes colour escape codes.
func StripANSI(s string) string { return ansi.ReplaceAllString(s, "") }

// DeployError is a build that failed; its Output is the build log.
type DeployError struct {
	Phase  string
	Err    error
	Output string
}

func (e *DeployError) Error() string {
	return fmt.Sprintf("deploy failed in %s: %v\n--- build log ---\n%s", e.Phase, e.Err, e.Output)
}

// Deploy builds the app from its fixture at a fresh build path, with the
// app's cache and config, and on success moves the result to a new slug
// path. A failed deploy leaves the previous slug in place.
func (a *App) Deploy(ctx context.Context) error {
	a.builds++
	build := filepath.Join(a.work, fmt.Sprintf("build_%d", a.builds))
	a.BuildDir = build
	if err := CopyTree(a.fixture, build); err != nil {
		return err
	}
	if a.Credential != nil {
		for _, dir := range append([]string{a.work}, a.Chown...) {
			if err := chownTree(dir, int(a.Credential.Uid), int(a.Credential.Gid)); err != nil {
				return err
			}
		}
	}
	var log bytes.Buffer
	detect, err := a.run(ctx, &log, filepath.Join(a.bp.Dir, "bin/detect"), build)
	if err != nil {
		a.RawOutput = log.String()
		return &DeployError{Phase: "detect", Err: err, Output: a.Output()}
	}
	log.Reset()
	fmt.Fprintf(&log, "-----> %s app detected\n", strings.TrimSpace(detect))
	_, err = a.run(ctx, &log, filepath.Join(a.bp.Dir, "bin/compile"), build, a.cache, a.envDir)
	// The platform runs bin/report after compile, failed or not; its
	// output goes to Heroku's build metrics, not the build log.
	a.report(ctx, build)
	if err != nil {
		a.RawOutput = log.String()
		return &DeployError{Phase: "compile", Err: err, Output: a.Output()}
	}
	exports := []string{filepath.Join(a.bp.Dir, "export")}
	for _, later := range a.After {
		var script strings.Builder
		for _, e := range exports {
			fmt.Fprintf(&script, "if [ -f %q ]; then . %q; fi\n", e, e)
		}
		script.WriteString(`exec "$0" "$@"`)
		if _, err := a.run(ctx, &log, "bash", "-c", script.String(), filepath.Join(later, "bin/compile"), build, a.cache, a.envDir); err != nil {
			a.RawOutput = log.String()
			return &DeployError{Phase: "compile " + later, Err: err, Output: a.Output()}
		}
		exports = append(exports, filepath.Join(later, "export"))
	}
	var release bytes.Buffer
	if _, err := a.run(ctx, &release, filepath.Join(a.bp.Dir, "bin/release"), build); err != nil {
		a.RawOutput = log.String() + release.String()
		return &DeployError{Phase: "release", Err: err, Output: a.Output()}
	}
	a.RawOutput = log.String()
	a.Release = release.String()

	slug := filepath.Join(a.work, fmt.Sprintf("app_%d", a.builds))
	if err := os.Rename(build, slug); err != nil {
		return err
	}
	a.Slug = slug
	return nil
}

// report runs bin/report as the platform does, keeping its stdout, its
// stderr and how it exited apart from the build log.
func (a *App) report(ctx context.Context, build string) {
	cmd := exec.CommandContext(ctx, filepath.Join(a.bp.Dir, "bin/report"), build, a.cache, a.envDir)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "STACK=" + a.Stack}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if a.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: a.Credential}
	}
	a.ReportErr = cmd.Run()
	a.Report, a.ReportStderr = stdout.String(), stderr.String()
}

// Push deploys again with the same cache and config.
func (a *App) Push(ctx context.Context) error { return a.Deploy(ctx) }

// run runs one buildpack program in the platform's scrubbed environment,
// appending its output to log; for detect it also returns stdout alone.
func (a *App) run(ctx context.Context, log *bytes.Buffer, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "STACK=" + a.Stack}
	for k, v := range a.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout bytes.Buffer
	combined := &lockedWriter{}
	cmd.Stderr = combined
	if filepath.Base(name) == "detect" {
		// Only detect's stdout means something on its own.
		cmd.Stdout = &teeWriter{a: combined, b: &stdout}
	} else {
		// One writer for both streams makes exec share one pipe, so the log
		// keeps the exact order the buildpack wrote in.
		cmd.Stdout = combined
	}
	if a.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: a.Credential}
	}
	err := cmd.Run()
	log.WriteString(combined.String())
	return stdout.String(), err
}

// Run runs a shell command on a one-off dyno booted from the slug: HOME is
// the slug, config vars are exported, .profile.d scripts are sourced by
// bash, then the command runs. env adds or overrides variables, as
// `heroku run --env` does.
func (a *App) Run(ctx context.Context, command string, env map[string]string) (string, error) {
	cmd := a.DynoCommand(ctx, command, env)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// DynoCommand is the process Run would start, for callers that need to
// manage it (a web dyno that keeps running).
func (a *App) DynoCommand(ctx context.Context, command string, env map[string]string) *exec.Cmd {
	vars := map[string]string{
		"HOME": a.Slug, "PATH": "/usr/local/bin:/usr/bin:/bin", "DYNO": "run.1", "PORT": "5000", "STACK": a.Stack,
	}
	for k, v := range a.config {
		vars[k] = v
	}
	for k, v := range env {
		vars[k] = v
	}
	boot := `for f in "$HOME"/.profile.d/*.sh; do [ -f "$f" ] && . "$f"; done
[ -f "$HOME/.profile" ] && . "$HOME/.profile"
eval "$1"`
	cmd := exec.CommandContext(ctx, "bash", "-c", boot, "dyno", command)
	cmd.Dir = a.Slug
	cmd.Env = environ(vars)
	return cmd
}

func environ(vars map[string]string) []string {
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func chownTree(root string, uid, gid int) error {
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
