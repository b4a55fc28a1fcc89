// Command heroku-applink-buildpack is the buildpack: bin/compile and
// bin/report (classic) and bin/build (CNB) run it, and it dispatches on the
// name it is called by or, from the shims, on its first argument. bin/detect
// and bin/release need no program: they print the same lines for every app.
//
// main is the only place that reads the process's arguments, environment,
// standard streams, signals and clock, and the only place that exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/heroku/color"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/classic"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/cnb"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/report"
)

// version is the buildpack's version, stamped at build time from
// buildpack.toml.
var version = "0.0.0-dev"

// Exit codes: a build stopped by a signal exits 128 + the signal, as a
// shell reports it.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// cancelGrace is how long a cancelled build has to remove its temporary
// files and say so before it is stopped regardless.
const cancelGrace = 2 * time.Second

func main() {
	// Modes are explicit whatever the platform's umask: directories and
	// the binary 0755, scripts 0644, private files 0600.
	syscall.Umask(0o022)
	noColor := os.Getenv("NO_COLOR") != ""
	color.Disable(noColor)
	wd, _ := os.Getwd()

	// SIGTERM or SIGINT cancels the build: downloads stop, temporary files
	// are removed, and the log says the build was cancelled. If that has not
	// happened within the grace period, the process stops anyway.
	ctx, cancel := context.WithCancelCause(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-signals
		cancel(&cancelledError{signal: s.(syscall.Signal)})
		time.AfterFunc(cancelGrace, func() {
			fmt.Fprintf(os.Stderr, "\n !     Error: the build was cancelled (%s) and did not stop in time\n\n", s)
			os.Exit(128 + int(s.(syscall.Signal)))
		})
	}()
	os.Exit(run(ctx, os.Args, os.Getenv, wd, os.Stdout, os.Stderr, time.Now, !noColor))
}

// run is the buildpack for one phase, with everything it may know about
// the process passed in.
func run(ctx context.Context, args []string, getenv func(string) string, wd string, stdout, stderr io.Writer, now func() time.Time, useColor bool) int {
	phase, args := phaseOf(args)
	style := output.Classic
	if phase == "build" {
		style = output.CNB
	}
	out := output.New(stdout, stderr, style, useColor)
	newInstaller := func() (*install.Installer, error) {
		client, err := fetch.New("heroku-buildpack-heroku-applink-service-mesh/"+version, getenv)
		if err != nil {
			return nil, err
		}
		client.Now = now
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
		return &install.Installer{Fetch: client, Out: out, Now: now}, nil
	}

	var err error
	switch phase {
	case "report":
		// The platform runs it after compile, with compile's arguments,
		// whether compile succeeded or not. It never fails.
		if len(args) == 3 {
			cache := args[1]
			if !filepath.IsAbs(cache) {
				cache = filepath.Join(wd, cache)
			}
			if err := report.Print(stdout, cache); err != nil {
				fmt.Fprintln(stderr, "heroku-applink-buildpack: report:", err)
			}
			return exitOK
		}
		err = &usageError{"bin/report BUILD_DIR CACHE_DIR ENV_DIR"}
	case "compile":
		var d classic.Dirs
		if d, err = classic.DirsFrom(args, getenv("HEROKU_APPLINK_BUILDPACK_DIR"), wd); err != nil {
			break
		}
		rec := report.Start(d.Cache, version, getenv("STACK"), now)
		inst, ierr := newInstaller()
		if err = ierr; err == nil {
			err = classic.Compile(ctx, inst, d, runtime.GOARCH, version, rec)
		}
		err = rec.Finish(cancelled(ctx, err))
	case "build":
		var d cnb.Dirs
		if d, err = cnb.DirsFrom(args, getenv, wd, getenv("HEROKU_APPLINK_BUILDPACK_DIR")); err != nil {
			break
		}
		arch := getenv("CNB_TARGET_ARCH")
		if arch == "" {
			arch = runtime.GOARCH
		}
		inst, ierr := newInstaller()
		if err = ierr; err == nil {
			err = cnb.Build(ctx, inst, d, arch, version)
		}
	default:
		err = &usageError{"heroku-applink-buildpack compile|report|build ARGS..."}
	}
	err = cancelled(ctx, err)
	var usage interface{ Usage() string }
	var stopped *cancelledError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "usage: %s\n", usage.Usage())
		return exitUsage
	case errors.As(err, &stopped):
		out.Error(err)
		return 128 + int(stopped.signal)
	}
	out.Error(err)
	return exitError
}

// phaseOf reads the phase from the program name, as the lifecycle does, or
// from the first argument, which is how the POSIX shims call it (plain sh
// cannot set argv[0]).
func phaseOf(args []string) (string, []string) {
	phases := map[string]bool{"compile": true, "report": true, "build": true}
	switch {
	case len(args) > 0 && phases[filepath.Base(args[0])]:
		return filepath.Base(args[0]), args[1:]
	case len(args) > 1 && phases[args[1]]:
		return args[1], args[2:]
	}
	return "", nil
}

// cancelled is what failed after a signal: the signal, not the network or
// the disk that its cancellation cut off.
func cancelled(ctx context.Context, err error) error {
	var c *cancelledError
	if err != nil && errors.As(context.Cause(ctx), &c) {
		return c
	}
	return err
}

// cancelledError is a build stopped by a signal.
type cancelledError struct{ signal syscall.Signal }

func (e *cancelledError) Error() string { return fmt.Sprintf("the build was cancelled (%s)", e.signal) }

// Help says what happened to the build's files.
func (e *cancelledError) Help() string {
	return "Nothing was installed, and the temporary files were removed."
}

// Reason names the failure for the build report.
func (e *cancelledError) Reason() string { return "build::cancelled" }

type usageError struct{ usage string }

func (e *usageError) Error() string { return "usage: " + e.usage }
func (e *usageError) Usage() string { return e.usage }
