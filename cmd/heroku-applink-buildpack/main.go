// Command heroku-applink-buildpack is bin/compile and bin/report (classic)
// and bin/build (CNB), by its name or, from the shims, its first argument.
// main alone reads arguments, environment, streams, signals and clock, and exits.
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

// version is stamped at build time from buildpack.toml.
var version = "0.0.0-dev"

// Exit codes; a build stopped by a signal exits 128 + the signal.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	// Modes are the buildpack's whatever the platform's umask.
	syscall.Umask(0o022)
	noColor := os.Getenv("NO_COLOR") != ""
	color.Disable(noColor)
	wd, _ := os.Getwd()
	// SIGTERM or SIGINT cancels the build; two seconds later it stops regardless.
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

// run is one phase, with everything it may know about the process passed in.
func run(ctx context.Context, args []string, getenv func(string) string, wd string, stdout, stderr io.Writer, now func() time.Time, useColor bool) int {
	phase, args := phaseOf(args)
	out := output.New(stdout, stderr, map[bool]output.Style{true: output.CNB, false: output.Classic}[phase == "build"], useColor)
	client, err := fetch.New("heroku-buildpack-heroku-applink-service-mesh/"+version, getenv)
	inst := &install.Installer{Fetch: client, Out: out, Now: now}
	if err == nil {
		client.OnRetry = func(attempt int, err error, wait time.Duration) {
			out.Detail("Attempt %d failed (%v); retrying in %s", attempt, err, output.Duration(wait))
		}
	}
	bpDir := getenv("HEROKU_APPLINK_BUILDPACK_DIR")
	switch phase {
	case "report":
		// It runs after compile, failed or not, and never fails.
		d, err := classic.DirsFrom(args, ".", wd)
		if err != nil {
			fmt.Fprintln(stderr, "usage: bin/report BUILD_DIR CACHE_DIR ENV_DIR")
			return exitUsage
		}
		if err := report.Print(stdout, d.Cache); err != nil {
			fmt.Fprintln(stderr, "heroku-applink-buildpack: report:", err)
		}
		return exitOK
	case "compile":
		d, derr := classic.DirsFrom(args, bpDir, wd)
		if err = cmp.Or(derr, err); derr == nil {
			rec := report.Start(d.Cache, version, getenv("STACK"), now)
			if err == nil {
				err = classic.Compile(ctx, inst, d, runtime.GOARCH, version, rec)
			}
			err = rec.Finish(cancelled(ctx, err))
		}
	case "build":
		d, derr := cnb.DirsFrom(args, getenv, wd, bpDir)
		if err = cmp.Or(derr, err); err == nil {
			err = cnb.Build(ctx, inst, d, cmp.Or(getenv("CNB_TARGET_ARCH"), runtime.GOARCH), version)
		}
	default:
		fmt.Fprintln(stderr, "usage: heroku-applink-buildpack compile|report|build ARGS...")
		return exitUsage
	}
	switch err = cancelled(ctx, err); {
	case err == nil:
		return exitOK
	case errors.Is(err, classic.ErrUsage), errors.Is(err, cnb.ErrUsage):
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	out.Error(err)
	if stopped, ok := errors.AsType[*cancelledError](err); ok {
		return 128 + int(stopped.signal)
	}
	return exitError
}

// phaseOf reads the phase from the program name, or from the first argument
// as the shims pass it (sh cannot set argv[0]).
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

// cancelled names the signal, not the download or write it cut off.
func cancelled(ctx context.Context, err error) error {
	if c, ok := errors.AsType[*cancelledError](context.Cause(ctx)); ok && err != nil {
		return c
	}
	return err
}

type cancelledError struct{ signal syscall.Signal }

func (e *cancelledError) Error() string  { return fmt.Sprintf("the build was cancelled (%s)", e.signal) }
func (e *cancelledError) Reason() string { return "build::cancelled" }
func (e *cancelledError) Help() string {
	return "Nothing was installed, and the temporary files were removed."
}
