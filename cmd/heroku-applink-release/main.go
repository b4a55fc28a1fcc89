// Command heroku-applink-release is the maintainers' tool behind make pin,
// update-inventory, package and release-check, and release.yml's notes.
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

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/release"
)

const usage = `usage:
  heroku-applink-release pin [--buildpack DIR] [--mirror URL] [--key FILE] [--dry-run] VERSION
  heroku-applink-release update [--buildpack DIR] [--mirror URL] [--key FILE] [--dry-run]
  heroku-applink-release package ROOT BINDIR DIST [PACK]  the classic tarball, the CNB directories (and with PACK, the .cnb files)
  heroku-applink-release check ROOT REBUILT               is ROOT ready to tag, against binaries rebuilt into REBUILT
  heroku-applink-release notes ROOT [VERSION]             print a CHANGELOG section (default: the version's)`

var errUsage = errors.New("usage")

func main() {
	syscall.Umask(0o022) // what it packages has the release's modes, whatever the maintainer's umask
	out := output.New(os.Stdout, os.Stderr, output.Classic, os.Getenv("NO_COLOR") == "")
	if err := run(os.Args[1:], out); err == errUsage {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	} else if err != nil {
		out.Error(err)
		os.Exit(1)
	}
}

func run(args []string, out *output.Printer) error {
	if len(args) > 0 && (args[0] == "pin" || args[0] == "update") {
		fs := flag.NewFlagSet(args[0], flag.ExitOnError)
		tool := &release.Pinner{Out: out, Stdout: os.Stdout}
		fs.StringVar(&tool.Buildpack, "buildpack", ".", "the buildpack directory")
		fs.StringVar(&tool.Mirror, "mirror", "", "download release files from this base URL instead of the release bucket")
		fs.StringVar(&tool.KeyFile, "key", "", "an armoured public key file to verify with")
		fs.BoolVar(&tool.DryRun, "dry-run", false, "print the updated inventory without writing anything")
		fs.Parse(args[1:])
		var err error
		if tool.Fetch, err = fetch.New("heroku-applink-release", os.Getenv); err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		switch {
		case args[0] == "update" && fs.NArg() == 0:
			return tool.Update(ctx)
		case args[0] == "pin" && fs.NArg() == 1:
			return tool.Pin(ctx, fs.Arg(0))
		}
		return errUsage
	}
	if len(args) < 2 {
		return errUsage
	}
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
			cnbs, perr := release.PackCNB(args[4], args[3], d.Buildpack.Version, append(os.Environ(), "PACK_HOME="+home))
			written, err = append(written, cnbs...), perr
		}
		if err != nil {
			return err
		}
		out.Step("Packaged the buildpack")
		out.Detail("%s", strings.Join(written, "\n"))
	case args[0] == "check" && len(args) == 3:
		if problems := release.Check(args[1], args[2]); len(problems) > 0 {
			return fmt.Errorf("the tree is not ready to release:\n- %s", strings.Join(problems, "\n- "))
		}
		out.Step("Ready to release %s: version, CHANGELOG, inventory and reproducible binaries check out", d.Buildpack.Version)
	case args[0] == "notes":
		changelog, err := os.ReadFile(filepath.Join(args[1], "CHANGELOG.md"))
		notes, nerr := release.Notes(changelog, append(args[2:], d.Buildpack.Version)[0])
		if err != nil || nerr != nil {
			return errors.Join(err, nerr)
		}
		fmt.Print(notes)
	default:
		return errUsage
	}
	return nil
}
