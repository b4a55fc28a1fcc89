// Command heroku-applink-release is the maintainers' tool: it pins mesh
// releases in inventory.toml (make pin, make update-inventory; see package
// pin), packages the buildpack (make package), checks a release commit
// (make release-check) and makes a release's edits (make prepare-release);
// the release workflow reads the version, its notes and the image
// repository with it. See package release.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/heroku/color"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/pin"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/release"
)

const usage = `usage:
  heroku-applink-release pin [--buildpack DIR] [--mirror URL] [--key FILE] [--dry-run] VERSION
  heroku-applink-release update [--buildpack DIR] [--mirror URL] [--key FILE]
  heroku-applink-release package ROOT BINDIR DIST [PACK]  the classic tarball, the CNB directories (and with PACK, the .cnb files)
  heroku-applink-release check ROOT REBUILT               is ROOT ready to tag, against binaries rebuilt into REBUILT
  heroku-applink-release prepare ROOT BUMP DATE           bump the version (major, minor or patch) and date the CHANGELOG
  heroku-applink-release version|image|notes ROOT         print the version, the image repository, the version's notes`

func main() {
	color.Disable(os.Getenv("NO_COLOR") != "")
	out := output.New(os.Stdout, os.Stderr, output.Classic, os.Getenv("NO_COLOR") == "")
	var err error
	switch args := os.Args[1:]; {
	case len(args) > 0 && (args[0] == "pin" || args[0] == "update"):
		err = pinning(args, out)
	case len(args) >= 2:
		err = run(args, out)
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		out.Error(err)
		os.Exit(1)
	}
}

func run(args []string, out *output.Printer) error {
	d, err := release.Read(args[1])
	switch {
	case err != nil:
		return err
	case args[0] == "package" && (len(args) == 4 || len(args) == 5):
		written, err := release.Package(args[1], args[2], args[3])
		if err == nil && len(args) == 5 {
			// A throwaway home, so that packaging never writes to ~/.pack.
			home, _ := os.MkdirTemp("", "pack-home-")
			defer os.RemoveAll(home)
			var cnbs []string
			cnbs, err = release.PackCNB(args[4], args[3], d.Buildpack.Version, append(os.Environ(), "PACK_HOME="+home))
			written = append(written, cnbs...)
		}
		if err != nil {
			return err
		}
		out.Step("Packaged the buildpack")
		out.Detail("%s", strings.Join(written, "\n"))
	case args[0] == "check" && len(args) == 3:
		problems, err := release.Check(args[1], args[2])
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			return fmt.Errorf("the tree is not ready to release:\n- %s", strings.Join(problems, "\n- "))
		}
		out.Step("Ready to release %s: version, CHANGELOG, inventory and reproducible binaries check out", d.Buildpack.Version)
	case args[0] == "prepare" && len(args) == 4:
		version, err := release.Prepare(args[1], args[2], args[3])
		if err != nil {
			return err
		}
		fmt.Println(version)
	case args[0] == "version":
		fmt.Println(d.Buildpack.Version)
	case args[0] == "image":
		fmt.Println(d.Metadata.Release.Image.Repository)
	case args[0] == "notes":
		changelog, err := os.ReadFile(filepath.Join(args[1], "CHANGELOG.md"))
		notes, nerr := release.Notes(changelog, append(args[2:], d.Buildpack.Version)[0])
		if err != nil || nerr != nil {
			return errors.Join(err, nerr)
		}
		fmt.Print(notes)
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	return nil
}

// pinning runs the pin tool: a version, or what the bucket calls latest.
func pinning(args []string, out *output.Printer) error {
	fs := flag.NewFlagSet(args[0], flag.ExitOnError)
	tool := &pin.Tool{Out: out, Stdout: os.Stdout}
	fs.StringVar(&tool.Buildpack, "buildpack", ".", "the buildpack directory")
	fs.StringVar(&tool.Mirror, "mirror", "", "download release files from this base URL instead of the release bucket")
	fs.StringVar(&tool.KeyFile, "key", "", "an armoured public key file to verify with")
	dryRun := fs.Bool("dry-run", false, "print the updated inventory without writing it")
	fs.Parse(args[1:])
	client, err := fetch.New("heroku-applink-release", os.Getenv)
	if err != nil {
		return err
	}
	tool.Fetch = client
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if args[0] == "update" && fs.NArg() == 0 {
		return tool.Update(ctx)
	}
	if args[0] == "pin" && fs.NArg() == 1 {
		return tool.Pin(ctx, fs.Arg(0), *dryRun)
	}
	fmt.Fprintln(os.Stderr, usage)
	os.Exit(2)
	return nil
}
