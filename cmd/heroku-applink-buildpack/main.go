// Command heroku-applink-buildpack is the whole buildpack: bin/detect,
// bin/compile, bin/release and bin/build all run it, and it dispatches on the
// name it is called by (or, from the shims, on its first argument).
//
// main is the only place that reads the process's arguments, environment,
// standard streams, signals and clock, and the only place that exits.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/heroku/color"
)

// version is the buildpack's version, stamped at build time from
// buildpack.toml.
var version = "0.0.0-dev"

// cancelGrace is how long a cancelled build has to remove its temporary
// files and say so before it is stopped regardless.
const cancelGrace = 2 * time.Second

func main() {
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
		cancel(&cancelledError{signal: s})
		time.AfterFunc(cancelGrace, func() {
			fmt.Fprintf(os.Stderr, "\n !     Error: the build was cancelled (%s) and did not stop in time\n\n", s)
			os.Exit(exitCode(s))
		})
	}()

	code := run(ctx, env{
		args:    os.Args,
		getenv:  os.Getenv,
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		now:     time.Now,
		color:   !noColor,
		version: version,
		wd:      wd,
	})
	signal.Stop(signals)
	os.Exit(code)
}
