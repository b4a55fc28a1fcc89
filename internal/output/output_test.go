package output_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

type helpful struct{}

func (helpful) Error() string { return "no release matches \"9.9.9\"" }
func (helpful) Help() string  { return "Pinned versions: 0.2.2\n\nUnset the config var." }

func transcript(style output.Style, color bool) (string, string) {
	var out, errOut bytes.Buffer
	p := output.New(&out, &errOut, style, color)
	p.Header("Heroku AppLink Service Mesh")
	p.Step("Installing Heroku AppLink Service Mesh %s", "0.2.2")
	p.Detail("Downloaded %s in %s", output.Size(12_582_912), output.Duration(1500*time.Millisecond))
	p.Detail("two\nlines")
	p.Warning("Your Procfile has no web process.\n\n  web: x")
	p.Error(fmt.Errorf("failed to resolve: %w", helpful{}))
	p.Done(40 * time.Millisecond)
	return out.String(), errOut.String()
}

func TestTranscripts(t *testing.T) {
	tests := []struct {
		name             string
		style            output.Style
		color            bool
		wantOut, wantErr string
	}{
		{
			name:  "classic without colour",
			style: output.Classic,
			wantOut: "-----> Installing Heroku AppLink Service Mesh 0.2.2\n" +
				"       Downloaded 12.0 MiB in 1.5s\n" +
				"       two\n" +
				"       lines\n" +
				"-----> Done (finished in < 0.1s)\n",
			wantErr: "\n" +
				" !     Warning: Your Procfile has no web process.\n" +
				" !\n" +
				" !       web: x\n" +
				"\n\n" +
				" !     Error: failed to resolve: no release matches \"9.9.9\"\n" +
				" !\n" +
				" !     Pinned versions: 0.2.2\n" +
				" !\n" +
				" !     Unset the config var.\n" +
				"\n",
		},
		{
			name:  "cnb without colour",
			style: output.CNB,
			wantOut: "\n## Heroku AppLink Service Mesh\n\n" +
				"- Installing Heroku AppLink Service Mesh 0.2.2\n" +
				"  - Downloaded 12.0 MiB in 1.5s\n" +
				"  - two\n" +
				"    lines\n" +
				"- Done (finished in < 0.1s)\n",
			wantErr: "\n" +
				"! Warning: Your Procfile has no web process.\n" +
				"!\n" +
				"!   web: x\n" +
				"\n\n" +
				"! Error: failed to resolve: no release matches \"9.9.9\"\n" +
				"!\n" +
				"! Pinned versions: 0.2.2\n" +
				"!\n" +
				"! Unset the config var.\n" +
				"\n",
		},
		{
			name:  "classic with colour resets every line",
			style: output.Classic,
			color: true,
			wantOut: "\x1b[1m-----> Installing Heroku AppLink Service Mesh 0.2.2\x1b[0m\n" +
				"       Downloaded 12.0 MiB in 1.5s\n" +
				"       two\n" +
				"       lines\n" +
				"\x1b[1m-----> Done (finished in < 0.1s)\x1b[0m\n",
			wantErr: "\n" +
				"\x1b[33m !     Warning: Your Procfile has no web process.\x1b[0m\n" +
				"\x1b[33m !\x1b[0m\n" +
				"\x1b[33m !       web: x\x1b[0m\n" +
				"\n\n" +
				"\x1b[31m !     Error: failed to resolve: no release matches \"9.9.9\"\x1b[0m\n" +
				"\x1b[31m !\x1b[0m\n" +
				"\x1b[31m !     Pinned versions: 0.2.2\x1b[0m\n" +
				"\x1b[31m !\x1b[0m\n" +
				"\x1b[31m !     Unset the config var.\x1b[0m\n" +
				"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotOut, gotErr := transcript(tt.style, tt.color)
			if diff := cmp.Diff(tt.wantOut, gotOut); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEscape: text that is not the buildpack's own can neither erase nor
// forge a line, nor reorder or hide what a terminal shows, on any stream.
func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain /api/*, caf\u00e9", "plain /api/*, caf\u00e9"},
		{"two\nlines", "two\nlines"},
		{"/public/*\x1b[2K\r-----> Done", `/public/*\x1b[2K\x0d-----> Done`},
		{"tab\tnul\x00del\x7f", `tab\x09nul\x00del\x7f`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bidi \u202eevil\u2066x\u2069 \u200f", `bidi \u202eevil\u2066x\u2069 \u200f`},
		{"bytes \xff\x9b", `bytes \xff\x9b`},
		{"marks \u061c\u200e\u202a\u2068 nel \u0085", `marks \u061c\u200e\u202a\u2068 nel \u0085`},
		{"a real \ufffd, a cut one \xef\xbf", "a real \ufffd, a cut one " + `\xef\xbf`},
		{"zero-width \ufeffhttps://\u200bmirror\u200d\u2060\u00ad", `zero-width \ufeffhttps://\u200bmirror\u200d\u2060\u00ad`},
		{"a space, not a format character: \u00a0", "a space, not a format character: \u00a0"},
		{"lines \u2028Done\u2029", `lines \u2028Done\u2029`},
		{"invisible mirror\ufe0f\U000e0100\u034f\u3164\u115f", `invisible mirror\ufe0f\U000e0100\u034f\u3164\u115f`},
		{"a tag \U000e0041", `a tag \U000e0041`},
		{"visible: caf\u00e9 \u0336 \u2800 \U0001f600", "visible: caf\u00e9 \u0336 \u2800 \U0001f600"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, output.Escape(tt.in)); diff != "" {
			t.Errorf("Escape(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	var out, errOut bytes.Buffer
	p := output.New(&out, &errOut, output.Classic, true)
	p.Detail("route %s", "/x\x1b[1A\x1b[2K")
	p.Warning("from the app: \r-----> Done")
	if diff := cmp.Diff("       route /x\\x1b[1A\\x1b[2K\n", out.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("\n\x1b[33m !     Warning: from the app: \\x0d-----> Done\x1b[0m\n\n", errOut.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}

func TestCNBHeaderColour(t *testing.T) {
	var out, errOut bytes.Buffer
	output.New(&out, &errOut, output.CNB, true).Header("Title")
	if diff := cmp.Diff("\n\x1b[1;35m## Title\x1b[0m\n\n", out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestErrorWithoutHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	output.New(&out, &errOut, output.Classic, false).Error(errors.New("disk full"))
	if diff := cmp.Diff("\n !     Error: disk full\n\n", errOut.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if out.Len() != 0 {
		t.Errorf("errors must not go to stdout, got %q", out.String())
	}
	errOut.Reset()
	output.New(&out, &errOut, output.CNB, false).Warning("ends in spaces  \n   \nnext")
	if diff := cmp.Diff("\n! Warning: ends in spaces\n!\n! next\n\n", errOut.String()); diff != "" {
		t.Errorf("no line ends in spaces (-want +got):\n%s", diff)
	}
}

func TestSizeAndDuration(t *testing.T) {
	for in, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1<<20 - 1: "1024.0 KiB", 10 << 20: "10.0 MiB", 3 << 30: "3.0 GiB",
		math.MaxInt64: "8.0 EiB"} {
		if got := output.Size(in); got != want {
			t.Errorf("Size(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[time.Duration]string{
		50 * time.Millisecond: "< 0.1s", 250 * time.Millisecond: "0.2s", 59 * time.Second: "59.0s", 125 * time.Second: "2m 05s",
	} {
		if got := output.Duration(in); got != want {
			t.Errorf("Duration(%s) = %q, want %q", in, got, want)
		}
	}
}
