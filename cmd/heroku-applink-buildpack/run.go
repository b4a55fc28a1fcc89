package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/builddata"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/classic"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/cnb"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/config"
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

var phases = map[string]bool{"detect": true, "compile": true, "release": true, "build": true, "report": true}

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
	return "", nil, fmt.Errorf("unknown phase: run as detect, compile, release, report or build")
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
	case phase == "detect":
		err = cnb.Detect()
	case phase == "release":
		err = classic.Release(e.stdout)
	case phase == "report":
		runReport(e, args)
	case phase == "compile":
		err = runCompile(ctx, e, out, args)
	case phase == "build":
		err = runBuild(ctx, e, out, args)
	}
	if err != nil {
		var usage interface{ Usage() string }
		if errors.As(err, &usage) {
			fmt.Fprintf(e.stderr, "usage: %s\n", usage.Usage())
			return exitUsage
		}
		// Whatever failed after a cancellation failed because of it: say
		// so, rather than blame the network.
		var cancelled *cancelledError
		if errors.As(context.Cause(ctx), &cancelled) {
			err = cancelled
		}
		out.Error(err)
		if cancelled != nil {
			return exitCode(cancelled.signal)
		}
		return exitError
	}
	return exitOK
}

// cancelledError is a build stopped by a signal.
type cancelledError struct{ signal os.Signal }

func (e *cancelledError) Error() string { return fmt.Sprintf("the build was cancelled (%s)", e.signal) }

// Help says what happened to the build's files.
func (e *cancelledError) Help() string {
	return "Nothing was installed, and the temporary files were removed."
}

// exitCode is the shell's convention for a process a signal stopped.
func exitCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return exitError
}

func newInstaller(e env, out *output.Printer) (*install.Installer, error) {
	knobs, err := config.ReadKnobs(e.getenv)
	if err != nil {
		return nil, err
	}
	client := fetch.New("heroku-buildpack-heroku-applink-service-mesh/" + e.version)
	client.OnRetry = func(attempt int, err error, wait time.Duration) {
		out.Detail("Attempt %d failed (%v); retrying in %s", attempt, err, output.Duration(wait))
	}
	client.OnProgress = func(received, total int64, elapsed time.Duration) {
		if total > 0 {
			out.Detail("Received %s of %s (%d%%) after %s", output.Size(received), output.Size(total), received*100/total, output.Duration(elapsed))
			return
		}
		out.Detail("Received %s after %s", output.Size(received), output.Duration(elapsed))
	}
	client.Now = e.now
	if knobs.Timeout > 0 {
		client.SetTimeout(knobs.Timeout)
	}
	if knobs.RetryDelay > 0 {
		client.Backoff = fetch.ExponentialBackoff(knobs.RetryDelay)
	}
	if knobs.Deadline > 0 {
		client.Deadline = knobs.Deadline
	}
	return &install.Installer{Fetcher: client, Out: out, Now: e.now}, nil
}

func runCompile(ctx context.Context, e env, out *output.Printer, args []string) error {
	dirs, err := classic.DirsFrom(args, e.getenv(buildpackDirVar), e.wd)
	if err != nil {
		return err
	}
	data := builddata.Start(dirs.Cache, e.version, e.now)
	data.Stack(e.getenv("STACK"))
	inst, err := newInstaller(e, out)
	if err != nil {
		return data.Finish(err)
	}
	c := &classic.Compiler{Installer: inst, Out: out, Arch: runtime.GOARCH, Now: e.now, Version: e.version, Data: data}
	return data.Finish(c.Compile(ctx, dirs))
}

// runReport is bin/report: the platform runs it after compile, with
// compile's arguments, whether compile succeeded or not. It never fails.
func runReport(e env, args []string) {
	cacheDir := ""
	if len(args) >= 2 {
		cacheDir = args[1]
		if !filepath.IsAbs(cacheDir) {
			cacheDir = filepath.Join(e.wd, cacheDir)
		}
	}
	if err := builddata.Print(e.stdout, cacheDir); err != nil {
		fmt.Fprintln(e.stderr, "heroku-applink-buildpack: report:", err)
	}
}

func runBuild(ctx context.Context, e env, out *output.Printer, args []string) error {
	dirs, err := cnb.DirsFrom(args, e.getenv, e.wd, e.getenv(buildpackDirVar))
	if err != nil {
		return err
	}
	inst, err := newInstaller(e, out)
	if err != nil {
		return err
	}
	arch := e.getenv("CNB_TARGET_ARCH")
	if arch == "" {
		arch = runtime.GOARCH
	}
	b := &cnb.Builder{Installer: inst, Out: out, Arch: arch, Now: e.now, Version: e.version}
	return b.Build(ctx, dirs)
}
