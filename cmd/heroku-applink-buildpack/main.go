// Command heroku-applink-buildpack is the whole buildpack: bin/detect,
// bin/compile, bin/release and bin/build all run it, and it dispatches on the
// name it is called by (or, from the shims, on its first argument).
//
// main is the only place that reads the process's arguments, environment,
// standard streams and clock, and the only place that exits.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/heroku/color"
)

// version is the buildpack's version, stamped at build time from
// buildpack.toml.
var version = "0.0.0-dev"

func main() {
	noColor := os.Getenv("NO_COLOR") != ""
	color.Disable(noColor)
	wd, _ := os.Getwd()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
	stop()
	os.Exit(code)
}
