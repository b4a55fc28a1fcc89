// Command heroku-applink-pin pins a Heroku AppLink Service Mesh release in
// the buildpack's inventory.toml: `make pin VERSION=v1.2.3` runs it. See
// package pin.
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
	fs := flag.NewFlagSet("heroku-applink-pin", flag.ContinueOnError)
	opts := pin.Options{}
	fs.StringVar(&opts.Buildpack, "buildpack", ".", "the buildpack directory (its buildpack.toml and inventory.toml)")
	fs.StringVar(&opts.Mirror, "mirror", "", "download the release files from this base URL instead of the release bucket")
	fs.StringVar(&opts.KeyFile, "key", "", "an armoured public key file to verify with (default: keys/public-key.asc, else the bucket's)")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "print the updated inventory without writing it")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: heroku-applink-pin [flags] VERSION")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		os.Exit(2)
	}
	opts.Version = fs.Arg(0)
	noColor := os.Getenv("NO_COLOR") != ""
	color.Disable(noColor)
	out := output.New(os.Stdout, os.Stderr, output.Classic, !noColor)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	tool := &pin.Tool{Fetcher: fetch.New("heroku-applink-pin"), Out: out, Stdout: os.Stdout}
	err := tool.Run(ctx, opts)
	stop()
	if err != nil {
		out.Error(err)
		os.Exit(1)
	}
}
