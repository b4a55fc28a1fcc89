// Command heroku-applink-buildpack is the buildpack: bin/compile and
// bin/report (classic) and bin/build (CNB) run it, and it dispatches on the
// name it is called by or, from the shims, on its first argument. bin/detect
// and bin/release need no program: they print the same lines for every app.
//
// main is the only place that reads the process's arguments, environment,
// standard streams, signals and clock, and the only place that exits.
package main

import (
	"cmp"
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

// Exit codes; a build stopped by a signal exits 128 + the signal, as a
// shell reports it.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	// Modes are explicit whatever the platform's umask: folders and the
	// binary 0755, scripts 0644, private files 0600.
	syscall.Umask(0o022)
	noColor := os.Getenv("NO_COLOR") != ""
	color.Disable(noColor)
	wd, _ := os.Getwd()
	// SIGTERM or SIGINT cancels the build: downloads stop, temporary files
	// are removed, the log says so. Two seconds later it stops regardless.
	ctx, cancel := context.WithCancelCause(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := (<-signals).(syscall.Signal)
		cancel(&cancelledError{signal: s})
		time.AfterFunc(2*time.Second, func() {
			fmt.Fprintf(os.Stderr, "\n !     Error: the build was cancelled (%s) and did not stop in time\n\n", s)
			os.Exit(128 + int(s))
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
	client, err := fetch.New("heroku-buildpack-heroku-applink-service-mesh/"+version, getenv)
	inst := &install.Installer{Fetch: client, Out: out, Now: now}
	if err == nil {
		client.Now = now
		client.OnRetry = func(attempt int, err error, wait time.Duration) {
			out.Detail("Attempt %d failed (%v); retrying in %s", attempt, err, output.Duration(wait))
		}
		client.OnProgress = func(received, total int64, elapsed time.Duration) {
			of := ""
			if total > 0 {
				of = fmt.Sprintf(" of %s (%d%%)", output.Size(total), received*100/total)
			}
			out.Detail("Received %s%s after %s", output.Size(received), of, output.Duration(elapsed))
		}
	}
	bpDir := getenv("HEROKU_APPLINK_BUILDPACK_DIR")
	switch phase {
	case "report":
		// The platform runs it after compile, with compile's arguments,
		// whether compile succeeded or not. It never fails.
		if len(args) != 3 {
			fmt.Fprintln(stderr, "usage: bin/report BUILD_DIR CACHE_DIR ENV_DIR")
			return exitUsage
		}
		cache := args[1]
		if !filepath.IsAbs(cache) {
			cache = filepath.Join(wd, cache)
		}
		if err := report.Print(stdout, cache); err != nil {
			fmt.Fprintln(stderr, "heroku-applink-buildpack: report:", err)
		}
		return exitOK
	case "compile":
		d, derr := classic.DirsFrom(args, bpDir, wd)
		if derr != nil {
			err = derr
			break
		}
		rec := report.Start(d.Cache, version, getenv("STACK"), now)
		if err == nil {
			err = classic.Compile(ctx, inst, d, runtime.GOARCH, version, rec)
		}
		err = rec.Finish(cancelled(ctx, err))
	case "build":
		d, derr := cnb.DirsFrom(args, getenv, wd, bpDir)
		if err == nil {
			err = derr
		}
		if err == nil {
			err = cnb.Build(ctx, inst, d, cmp.Or(getenv("CNB_TARGET_ARCH"), runtime.GOARCH), version)
		}
	default:
		fmt.Fprintln(stderr, "usage: heroku-applink-buildpack compile|report|build ARGS...")
		return exitUsage
	}
	var usage interface{ Usage() string }
	var stopped *cancelledError
	err = cancelled(ctx, err)
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
// the disk its cancellation cut off.
func cancelled(ctx context.Context, err error) error {
	var c *cancelledError
	if err != nil && errors.As(context.Cause(ctx), &c) {
		return c
	}
	return err
}

// cancelledError is a build stopped by a signal.
type cancelledError struct{ signal syscall.Signal }

func (e *cancelledError) Error() string  { return fmt.Sprintf("the build was cancelled (%s)", e.signal) }
func (e *cancelledError) Reason() string { return "build::cancelled" }
func (e *cancelledError) Help() string {
	return "Nothing was installed, and the temporary files were removed."
}
