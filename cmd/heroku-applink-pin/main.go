// Command heroku-applink-pin pins Heroku AppLink Service Mesh releases in
// the buildpack's inventory.toml: `make pin VERSION=v1.2.3` pins a
// version, `make update-inventory` pins what the bucket publishes as
// latest when it is new. See package pin.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/heroku/color"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/pin"
)

func main() {
	args := os.Args[1:]
	update := len(args) > 0 && args[0] == "update"
	if update {
		args = args[1:]
	}
	fs := flag.NewFlagSet("heroku-applink-pin", flag.ContinueOnError)
	tool := &pin.Tool{Stdout: os.Stdout}
	fs.StringVar(&tool.Buildpack, "buildpack", ".", "the buildpack directory (its buildpack.toml, inventory.toml and CHANGELOG.md)")
	fs.StringVar(&tool.Mirror, "mirror", "", "download the release files from this base URL instead of the release bucket")
	fs.StringVar(&tool.KeyFile, "key", "", "an armoured public key file to verify with (default: keys/public-key.asc, else the bucket's)")
	dryRun := fs.Bool("dry-run", false, "print the updated inventory without writing it (pin only)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: heroku-applink-pin [flags] VERSION\n       heroku-applink-pin update [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		os.Exit(2)
	}
	if update != (fs.NArg() == 0) || fs.NArg() > 1 {
		fs.Usage()
		os.Exit(2)
	}
	noColor := os.Getenv("NO_COLOR") != ""
	color.Disable(noColor)
	tool.Out = output.New(os.Stdout, os.Stderr, output.Classic, !noColor)
	client, err := fetch.New("heroku-applink-pin", os.Getenv)
	if err != nil {
		tool.Out.Error(err)
		os.Exit(1)
	}
	tool.Fetch = client
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if update {
		err = tool.Update(ctx)
	} else {
		err = tool.Pin(ctx, fs.Arg(0), *dryRun)
	}
	stop()
	if err != nil {
		tool.Out.Error(err)
		os.Exit(1)
	}
}
