package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/classic"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/cnb"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

// Exit codes. CNB detect uses 100 for "does not apply"; this buildpack
// always applies, so it never returns it.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// buildpackDirVar is set by the bin/ shims on classic builds, where the
// platform does not say where the buildpack lives.
const buildpackDirVar = "HEROKU_APPLINK_BUILDPACK_DIR"

// env is everything run may know about the process.
type env struct {
	args    []string
	getenv  func(string) string
	stdout  io.Writer
	stderr  io.Writer
	now     func() time.Time
	color   bool
	version string
	// wd is the working directory: the app directory on CNB builds.
	wd string
}

// contract is the platform API a run serves.
type contract int

const (
	classicAPI contract = iota
	cnbAPI
)

// contractFor tells a CNB run from a classic one. The lifecycle always sets
// CNB_* variables for buildpack processes (and still passes positional
// arguments, so their count alone cannot tell); the classic platform never
// does. This is the only place the question is asked.
func contractFor(phase string, getenv func(string) string) contract {
	if phase == "build" {
		return cnbAPI
	}
	for _, name := range []string{"CNB_BUILDPACK_DIR", "CNB_PLATFORM_DIR", "CNB_BUILD_PLAN_PATH", "CNB_LAYERS_DIR"} {
		if getenv(name) != "" {
			return cnbAPI
		}
	}
	return classicAPI
}

var phases = map[string]bool{"detect": true, "compile": true, "release": true, "build": true}

// phaseOf reads the phase from the program name, as the lifecycle and packit
// do, or from the first argument, which is how the POSIX shims call it
// (plain sh cannot set argv[0]).
func phaseOf(args []string) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, errors.New("no program name")
	}
	if name := filepath.Base(args[0]); phases[name] {
		return name, args[1:], nil
	}
	if len(args) > 1 && phases[args[1]] {
		return args[1], args[2:], nil
	}
	return "", nil, fmt.Errorf("unknown phase: run as detect, compile, release or build")
}

func run(ctx context.Context, e env) int {
	phase, args, err := phaseOf(e.args)
	if err != nil {
		fmt.Fprintln(e.stderr, "heroku-applink-buildpack:", err)
		return exitUsage
	}
	style := output.Classic
	if contractFor(phase, e.getenv) == cnbAPI {
		style = output.CNB
	}
	out := output.New(e.stdout, e.stderr, style, e.color)

	switch {
	case phase == "detect" && style == output.Classic:
		err = classic.Detect(e.stdout)
	case phase == "release":
		err = classic.Release(e.stdout)
	case phase == "compile":
		err = runCompile(ctx, e, out, args)
	case phase == "detect" || phase == "build":
		err = runCNB(ctx, e, out, phase, args)
	}
	if err != nil {
		var usage *usageError
		if errors.As(err, &usage) {
			fmt.Fprintf(e.stderr, "usage: %s\n", usage.text)
			return exitUsage
		}
		out.Error(err)
		return exitError
	}
	return exitOK
}

type usageError struct{ text string }

func (e *usageError) Error() string { return "usage: " + e.text }

// Operator knobs, read from the build's process environment (never from
// config vars): platforms on slow networks may need longer timeouts, and the
// tests need shorter ones.
const (
	timeoutVar    = "HEROKU_APPLINK_BUILDPACK_TIMEOUT"
	retryDelayVar = "HEROKU_APPLINK_BUILDPACK_RETRY_DELAY"
)

func seconds(getenv func(string) string, name string) (time.Duration, bool, error) {
	v := getenv(name)
	if v == "" {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 3600 {
		return 0, false, fmt.Errorf("%s=%q: want a number of seconds between 0 and 3600", name, v)
	}
	return time.Duration(f * float64(time.Second)), true, nil
}

func newInstaller(e env, out *output.Printer) (*install.Installer, error) {
	client := fetch.New("heroku-buildpack-heroku-applink-service-mesh/" + e.version)
	client.OnRetry = func(attempt int, err error, wait time.Duration) {
		out.Detail("Attempt %d failed (%v); retrying in %s", attempt, err, output.Duration(wait))
	}
	if d, ok, err := seconds(e.getenv, timeoutVar); err != nil {
		return nil, err
	} else if ok {
		client.SetTimeout(d)
	}
	if d, ok, err := seconds(e.getenv, retryDelayVar); err != nil {
		return nil, err
	} else if ok {
		client.Backoff = fetch.ExponentialBackoff(d)
	}
	return &install.Installer{Fetcher: client, Out: out, Now: e.now}, nil
}

func runCompile(ctx context.Context, e env, out *output.Printer, args []string) error {
	if len(args) != 3 {
		return &usageError{"bin/compile BUILD_DIR CACHE_DIR ENV_DIR"}
	}
	bpDir := e.getenv(buildpackDirVar)
	if bpDir == "" {
		return fmt.Errorf("%s is not set: run the buildpack through bin/compile", buildpackDirVar)
	}
	inst, err := newInstaller(e, out)
	if err != nil {
		return err
	}
	c := &classic.Compiler{
		Installer: inst,
		Out:       out,
		Arch:      runtime.GOARCH,
		Now:       e.now,
		Version:   e.version,
	}
	return c.Compile(ctx, classic.Dirs{Build: args[0], Cache: args[1], Env: args[2], Buildpack: bpDir})
}

// firstOf returns the first non-empty value: the CNB_* variable, then the
// positional argument the lifecycle still passes for older platforms.
func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

func runCNB(ctx context.Context, e env, out *output.Printer, phase string, args []string) error {
	if phase == "detect" {
		return cnb.Detect()
	}
	d := cnb.Dirs{
		App:       e.wd,
		Layers:    firstOf(e.getenv("CNB_LAYERS_DIR"), arg(args, 0)),
		Platform:  firstOf(e.getenv("CNB_PLATFORM_DIR"), arg(args, 1)),
		Buildpack: firstOf(e.getenv("CNB_BUILDPACK_DIR"), e.getenv(buildpackDirVar)),
	}
	if d.Layers == "" || d.Platform == "" {
		return &usageError{"bin/build LAYERS_DIR PLATFORM_DIR PLAN_PATH (or the CNB_* variables)"}
	}
	if d.Buildpack == "" || d.App == "" {
		return errors.New("CNB_BUILDPACK_DIR is not set and the app directory is unknown: run the buildpack through the lifecycle")
	}
	inst, err := newInstaller(e, out)
	if err != nil {
		return err
	}
	b := &cnb.Builder{
		Installer: inst,
		Out:       out,
		Arch:      firstOf(e.getenv("CNB_TARGET_ARCH"), runtime.GOARCH),
		Now:       e.now,
		Version:   e.version,
	}
	return b.Build(ctx, d)
}
