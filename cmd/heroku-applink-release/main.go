// Command heroku-applink-release packages the buildpack (make package) and
// checks a release commit (make release-check). See package release.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/heroku/color"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/release"
)

const usage = `usage:
  heroku-applink-release package ROOT BINDIR DIST [PACK]
                                                    write the classic tarball and CNB packages
                                                    (and with the pack binary PACK, each target's .cnb)
  heroku-applink-release check ROOT REBUILT         check ROOT is ready to tag, against binaries rebuilt into REBUILT
  heroku-applink-release prepare ROOT BUMP DATE     bump buildpack.toml's version (major, minor or patch) and
                                                    date CHANGELOG.md's Unreleased notes; prints the version
  heroku-applink-release version ROOT               print buildpack.toml's version
  heroku-applink-release image ROOT                 print the repository the CNB image is published to
  heroku-applink-release notes ROOT [VERSION]       print VERSION's CHANGELOG.md section (buildpack.toml's version)`

func main() {
	noColor := os.Getenv("NO_COLOR") != ""
	color.Disable(noColor)
	out := output.New(os.Stdout, os.Stderr, output.Classic, !noColor)
	if err := run(os.Args[1:], out); err != nil {
		out.Error(err)
		os.Exit(1)
	}
}

// packCNB runs pack with a throwaway home, so packaging never writes to
// the user's ~/.pack.
func packCNB(packBin, root, dist string) ([]string, error) {
	descriptor, err := os.ReadFile(filepath.Join(root, "buildpack.toml"))
	if err != nil {
		return nil, err
	}
	version, err := release.Version(descriptor)
	if err != nil {
		return nil, err
	}
	home, err := os.MkdirTemp("", "pack-home-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(home)
	return release.PackCNB(packBin, dist, version, append(os.Environ(), "PACK_HOME="+home))
}

func readVersion(root string) (string, error) {
	descriptor, err := os.ReadFile(filepath.Join(root, "buildpack.toml"))
	if err != nil {
		return "", err
	}
	return release.Version(descriptor)
}

// prepare makes the release commit's edits: both files are checked before
// either is written.
func prepare(root, bump, date string) (string, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return "", fmt.Errorf("release date %q is not YYYY-MM-DD", date)
	}
	descriptorPath, changelogPath := filepath.Join(root, "buildpack.toml"), filepath.Join(root, "CHANGELOG.md")
	descriptor, err := os.ReadFile(descriptorPath)
	if err != nil {
		return "", err
	}
	current, err := release.Version(descriptor)
	if err != nil {
		return "", err
	}
	next, err := release.Bump(current, bump)
	if err != nil {
		return "", err
	}
	descriptor, err = release.SetVersion(descriptor, next)
	if err != nil {
		return "", err
	}
	changelog, err := os.ReadFile(changelogPath)
	if err != nil {
		return "", err
	}
	changelog, err = release.DateChangelog(changelog, next, date)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(descriptorPath, descriptor, 0o644); err != nil {
		return "", err
	}
	return next, os.WriteFile(changelogPath, changelog, 0o644)
}

func run(args []string, out *output.Printer) error {
	switch {
	case (len(args) == 4 || len(args) == 5) && args[0] == "package":
		written, err := release.Package(args[1], args[2], args[3])
		if err != nil {
			return err
		}
		if len(args) == 5 {
			cnbs, err := packCNB(args[4], args[1], args[3])
			if err != nil {
				return err
			}
			written = append(written, cnbs...)
		}
		out.Step("Packaged the buildpack")
		for _, w := range written {
			out.Detail("%s", w)
		}
		return nil
	case len(args) == 3 && args[0] == "check":
		problems, err := release.Check(args[1], args[2])
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			text := ""
			for _, p := range problems {
				text += "- " + string(p) + "\n"
			}
			return fmt.Errorf("the tree is not ready to release:\n%s", text)
		}
		out.Step("Ready to release: version, CHANGELOG, inventory and reproducible binaries for %v check out", inventory.Architectures)
		return nil
	case len(args) == 4 && args[0] == "prepare":
		version, err := prepare(args[1], args[2], args[3])
		if err != nil {
			return err
		}
		fmt.Println(version)
		return nil
	case len(args) == 2 && args[0] == "version":
		version, err := readVersion(args[1])
		if err != nil {
			return err
		}
		fmt.Println(version)
		return nil
	case len(args) == 2 && args[0] == "image":
		descriptor, err := os.ReadFile(filepath.Join(args[1], "buildpack.toml"))
		if err != nil {
			return err
		}
		repository, err := release.ImageRepository(descriptor)
		if err != nil {
			return err
		}
		fmt.Println(repository)
		return nil
	case (len(args) == 2 || len(args) == 3) && args[0] == "notes":
		version := ""
		if len(args) == 3 {
			version = args[2]
		} else {
			v, err := readVersion(args[1])
			if err != nil {
				return err
			}
			version = v
		}
		changelog, err := os.ReadFile(filepath.Join(args[1], "CHANGELOG.md"))
		if err != nil {
			return err
		}
		notes, err := release.Notes(changelog, version)
		if err != nil {
			return err
		}
		fmt.Print(notes)
		return nil
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
		return nil
	}
}
