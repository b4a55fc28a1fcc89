package testhelpers

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// DocTable reads the rows of the first table under a heading of a markdown
// file, header row included, so that a test can keep a documented table
// and its cases in step.
func DocTable(t testing.TB, path, heading string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
			if in && len(rows) > 0 {
				return rows
			}
			in = strings.TrimLeft(line, "# ") == heading
		case in && strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			if !strings.HasPrefix(cells[0], "---") {
				rows = append(rows, cells)
			}
		case in && len(rows) > 0 && strings.TrimSpace(line) == "":
			return rows
		}
	}
	return rows
}
