package output

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heroku/color"
)

// Style selects the conventions of one platform's build log: Classic is
// Heroku's classic buildpack log ("-----> " steps, 7-space details,
// " !     " warnings and errors); CNB is Heroku's Cloud Native Buildpack
// log (a "## " header, "- " steps, "  - " details, "! " warnings).
type Style int

const (
	Classic Style = iota
	CNB
)

// prefixes are each style's: step, detail, a detail's further lines, a
// warning's or an error's lines, and an empty one of those.
var prefixes = [...][5]string{Classic: {"-----> ", "       ", "       ", " !     ", " !"}, CNB: {"- ", "  - ", "    ", "! ", "!"}}

var (
	stepColor    = color.New(color.Bold)
	warningColor = color.New(color.FgYellow)
	errorColor   = color.New(color.FgRed)
	headerColor  = color.New(color.Bold, color.FgMagenta)
)

// Printer writes a build log: steps and details to out, warnings and errors
// to errOut. It is not safe for concurrent use: a build is one sequence of
// lines. Without colour it never emits an escape code, so it needs no
// global switch and is safe in parallel tests.
type Printer struct {
	out, err io.Writer
	p        [5]string
	color    bool
	cnb      bool
}

// New returns a Printer for a style.
func New(out, errOut io.Writer, style Style, useColor bool) *Printer {
	return &Printer{out: out, err: errOut, p: prefixes[style], color: useColor, cnb: style == CNB}
}

// Escape makes visible every character of s that could steer a terminal:
// C0 controls but the newline, DEL, C1 controls, bidirectional overrides
// and bytes that are not UTF-8. Text that is not the buildpack's own (a
// server's reason phrase, a URL, a Procfile line, a file name) reaches the
// log only through it, so it can neither erase lines nor forge them.
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 && r != '\n', r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafeRune is a C1 control or a character that reorders text: the bidi
// embeddings, overrides and isolates, and the invisible direction marks.
func unsafeRune(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0x200e || r == 0x200f || r == 0x061c
}

// paint colours one line. Every line carries its own reset because Git
// prefixes each streamed line with "remote: ", which would otherwise inherit
// an open colour.
func (p *Printer) paint(c *color.Color, line string) string {
	if !p.color || line == "" {
		return line
	}
	return c.Sprint(line)
}

// Header opens the buildpack's part of a CNB log; on classic the platform
// prints "-----> <name> app detected" itself.
func (p *Printer) Header(title string) {
	if p.cnb {
		fmt.Fprintf(p.out, "\n%s\n\n", p.paint(headerColor, "## "+Escape(title)))
	}
}

// Step announces one stage of the build.
func (p *Printer) Step(format string, a ...any) {
	for _, line := range lines(fmt.Sprintf(format, a...)) {
		fmt.Fprintln(p.out, p.paint(stepColor, p.p[0]+line))
	}
}

// Detail adds a line under the current step; further lines align under
// its text.
func (p *Printer) Detail(format string, a ...any) {
	for i, line := range lines(fmt.Sprintf(format, a...)) {
		fmt.Fprintln(p.out, p.p[min(i, 1)+1]+line)
	}
}

// Done closes the buildpack's log with the time it took.
func (p *Printer) Done(took time.Duration) { p.Step("Done (finished in %s)", Duration(took)) }

// Warning prints a block of text as a warning on the error stream.
func (p *Printer) Warning(text string) { p.block(warningColor, "Warning: "+text) }

// Error renders err for humans, here and nowhere else: "Error: " and the
// chain, then the help of the first error in the chain that has any.
func (p *Printer) Error(err error) {
	text := "Error: " + err.Error()
	var h interface{ Help() string }
	if errors.As(err, &h) && h.Help() != "" {
		text += "\n\n" + h.Help()
	}
	p.block(errorColor, text)
}

func (p *Printer) block(c *color.Color, text string) {
	fmt.Fprintln(p.err)
	for _, line := range lines(text) {
		if line == "" {
			fmt.Fprintln(p.err, p.paint(c, p.p[4]))
		} else {
			fmt.Fprintln(p.err, p.paint(c, p.p[3]+line))
		}
	}
	fmt.Fprintln(p.err)
}

// lines splits a message for printing, after escaping it: this is the one
// place text reaches the log.
func lines(s string) []string {
	return strings.Split(strings.TrimRight(Escape(s), "\n"), "\n")
}

// Duration formats a build duration the way Heroku's logs do: short and
// rounded, never more precise than a human can use.
func Duration(d time.Duration) string {
	switch {
	case d < 100*time.Millisecond:
		return "< 0.1s"
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
}

// Size formats a byte count in binary units, as "12.3 MiB".
func Size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
