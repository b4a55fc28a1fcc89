package release

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Problem is one reason a tree is not ready to release.
type Problem string

// Check inspects a release tree: the version and its CHANGELOG entry, the
// committed binaries for every arch, buildpack.toml's TOML 0.4 form, and
// that each binary is byte for byte the one built from this source (built by
// the caller into rebuilt/linux-<arch>/).
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
	for _, p := range LintTOML(string(descriptor)) {
		problems = append(problems, Problem("buildpack.toml: "+p))
	}
	for _, arch := range Arches {
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
		fresh, err := os.ReadFile(filepath.Join(rebuilt, "linux-"+arch, BinaryName))
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

var (
	keyValue    = regexp.MustCompile(`^\s*("[^"]*"|[A-Za-z0-9_.-]+)\s*=\s*(.*)$`)
	inlineTable = regexp.MustCompile(`^\{|\[\s*\{|,\s*\{`)
)

// LintTOML finds the constructs the classic registry's TOML 0.4-era parser
// rejects: inline tables and dotted keys.
func LintTOML(text string) []string {
	var problems []string
	inArray := false
	for i, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(stripComment(line))
		if t == "" || (strings.HasPrefix(t, "[") && !inArray) {
			continue
		}
		value := t
		if m := keyValue.FindStringSubmatch(t); m != nil && !inArray {
			if !strings.HasPrefix(m[1], `"`) && strings.Contains(m[1], ".") {
				problems = append(problems, fmt.Sprintf("line %d: dotted key %s", i+1, m[1]))
			}
			value = strings.TrimSpace(m[2])
		}
		if inlineTable.MatchString(value) {
			problems = append(problems, fmt.Sprintf("line %d: inline table", i+1))
		}
		opens, closes := strings.Count(value, "["), strings.Count(value, "]")
		if opens > closes {
			inArray = true
		} else if closes > opens {
			inArray = false
		}
	}
	return problems
}

// stripComment drops a # comment that is not inside a string.
func stripComment(line string) string {
	inString := false
	for i, r := range line {
		switch {
		case r == '"' && (i == 0 || line[i-1] != '\\'):
			inString = !inString
		case r == '#' && !inString:
			return line[:i]
		}
	}
	return line
}
