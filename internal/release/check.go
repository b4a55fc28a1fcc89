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
	if _, err := inventory.Load(filepath.Join(root, inventory.FileName)); err != nil {
		problems = append(problems, Problem(err.Error()))
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

func changelogHas(changelog []byte, version string) bool {
	re := regexp.MustCompile(`(?m)^## \[` + regexp.QuoteMeta(version) + `\] - \d{4}-\d{2}-\d{2}\s*$`)
	return re.Match(changelog)
}
