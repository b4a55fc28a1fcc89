package release

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
)

// Problem is one reason a tree is not ready to release.
type Problem string

// Check inspects a release tree: the version and its CHANGELOG entry, the
// inventory, the committed binaries for every arch, and that each binary is
// byte for byte the one built from this source (built by the caller into
// rebuilt/linux-<arch>/).
func Check(root, rebuilt string) ([]Problem, error) {
	var problems []Problem
	descriptor, err := os.ReadFile(filepath.Join(root, "buildpack.toml"))
	if err != nil {
		return nil, err
	}
	version, err := Version(descriptor)
	if err != nil {
		problems = append(problems, Problem(err.Error()))
	}
	changelog, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	switch {
	case err != nil:
		problems = append(problems, "CHANGELOG.md is missing")
	case version != "" && !changelogHas(changelog, version):
		problems = append(problems, Problem(fmt.Sprintf("CHANGELOG.md has no \"## [%s] - YYYY-MM-DD\" entry for the version in buildpack.toml", version)))
	}
	inv, err := inventory.Load(filepath.Join(root, inventory.FileName))
	if err != nil {
		problems = append(problems, Problem(err.Error()))
	} else {
		targets, err := Targets(descriptor)
		if err != nil {
			problems = append(problems, Problem(err.Error()))
		}
		problems = append(problems, inventoryProblems(inv, targets)...)
	}
	for _, arch := range inventory.Architectures {
		committed, err := os.ReadFile(filepath.Join(root, BinaryPath(arch)))
		if err != nil {
			problems = append(problems, Problem(fmt.Sprintf("the linux/%s binary %s is missing (make release-binaries)", arch, BinaryPath(arch))))
			continue
		}
		info, _ := os.Stat(filepath.Join(root, BinaryPath(arch)))
		if info != nil && info.Mode().Perm()&0o111 == 0 {
			problems = append(problems, Problem(BinaryPath(arch)+" is not executable"))
		}
		if rebuilt == "" {
			continue
		}
		fresh, err := os.ReadFile(filepath.Join(rebuilt, "linux-"+arch, BuildpackBinary))
		if err != nil {
			return nil, fmt.Errorf("the rebuilt linux/%s binary: %w", arch, err)
		}
		if !bytes.Equal(committed, fresh) {
			problems = append(problems, Problem(fmt.Sprintf("%s is not the reproducible build of this source", BinaryPath(arch))))
		}
	}
	return problems, nil
}

// inventoryProblems is why an inventory cannot ship: a release must pin a
// mesh release for every target, or its users' builds all fall back to an
// unpinned `latest`; and it must pin the signing key's fingerprint, or
// those releases are checked against a key fetched from the same bucket.
func inventoryProblems(inv inventory.Inventory, targets []Target) []Problem {
	var problems []Problem
	for _, t := range targets {
		if len(inv.Versions(t.Arch)) == 0 {
			problems = append(problems, Problem(fmt.Sprintf(
				"%s pins no release of the service mesh for %s/%s: run make update-inventory (or make pin VERSION=vX.Y.Z) and commit it",
				inventory.FileName, t.OS, t.Arch)))
		}
	}
	if inv.SigningKey == "" {
		problems = append(problems, Problem(fmt.Sprintf(
			"%s pins no signing key: add [signing] fingerprint = \"<40 hex digits>\" to it, the fingerprint of the key that signs mesh releases",
			inventory.FileName)))
	}
	return problems
}

func changelogHas(changelog []byte, version string) bool {
	re := regexp.MustCompile(`(?m)^## \[` + regexp.QuoteMeta(version) + `\] - \d{4}-\d{2}-\d{2}\s*$`)
	return re.Match(changelog)
}
