package output

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/heroku/color"
)

// Style selects the conventions of one platform's build log.
type Style int

const (
	// Classic is the Heroku classic buildpack API log: "-----> " steps,
	// 7-space details and " !     " warnings and errors.
	Classic Style = iota
	// CNB is Heroku's Cloud Native Buildpack log: a "## " header, "- " steps,
	// "  - " details and "! " warnings and errors.
	CNB
)

var (
	stepColor    = color.New(color.Bold)
	warningColor = color.New(color.FgYellow)
	errorColor   = color.New(color.FgRed)
	headerColor  = color.New(color.Bold, color.FgMagenta)
	valueColor   = color.New(color.FgYellow)
)

// Printer writes a build log. It is not safe for concurrent use: a build is
// one sequence of lines.
type Printer struct {
	out   io.Writer
	err   io.Writer
	style Style
	color bool
}

// New returns a Printer writing steps and details to out, and warnings and
// errors to errOut. With useColor false it never emits an escape code, so it
// needs no global switch and is safe in parallel tests.
func New(out, errOut io.Writer, style Style, useColor bool) *Printer {
	return &Printer{out: out, err: errOut, style: style, color: useColor}
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

// Value highlights a value (a version, a path) inside a message. Without
// colour it quotes nothing: the log stays copy-pasteable.
func (p *Printer) Value(v string) string {
	if !p.color {
		return v
	}
	return valueColor.Sprint(v)
}

// Header opens the buildpack's part of the log. Classic logs have no header:
// the platform prints "-----> <name> app detected" itself.
func (p *Printer) Header(title string) {
	if p.style == CNB {
		fmt.Fprintf(p.out, "\n%s\n\n", p.paint(headerColor, "## "+title))
	}
}

// Step announces one stage of the build.
func (p *Printer) Step(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	prefix := "-----> "
	if p.style == CNB {
		prefix = "- "
	}
	for _, line := range lines(msg) {
		fmt.Fprintln(p.out, p.paint(stepColor, prefix+line))
	}
}

// Detail adds a line under the current step.
func (p *Printer) Detail(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	prefix := strings.Repeat(" ", 7)
	if p.style == CNB {
		prefix = "  - "
	}
	for i, line := range lines(msg) {
		if i > 0 && p.style == CNB {
			// Continuation lines align under the text, not under a new bullet.
			fmt.Fprintln(p.out, "    "+line)
			continue
		}
		fmt.Fprintln(p.out, prefix+line)
	}
}

// Done closes the buildpack's log with the time it took.
func (p *Printer) Done(took time.Duration) {
	if p.style == CNB {
		fmt.Fprintf(p.out, "- Done (finished in %s)\n", Duration(took))
		return
	}
	fmt.Fprintf(p.out, "-----> Done (finished in %s)\n", Duration(took))
}

// Warning prints a block of text as a warning on the error stream.
func (p *Printer) Warning(text string) {
	p.block(warningColor, "Warning: "+text)
}

// Error renders err for humans on the error stream: "Error: " and the error
// chain, then the advice of the first error in the chain that has any.
func (p *Printer) Error(err error) {
	text := "Error: " + err.Error()
	var h helper
	if errors.As(err, &h) {
		if help := h.Help(); help != "" {
			text += "\n\n" + help
		}
	}
	p.block(errorColor, text)
}

// helper is implemented by errors that know what the user should do next.
type helper interface {
	Help() string
}

func (p *Printer) block(c *color.Color, text string) {
	prefix := " !     "
	bare := " !"
	if p.style == CNB {
		prefix = "! "
		bare = "!"
	}
	fmt.Fprintln(p.err)
	for _, line := range lines(text) {
		if line == "" {
			fmt.Fprintln(p.err, p.paint(c, bare))
			continue
		}
		fmt.Fprintln(p.err, p.paint(c, prefix+line))
	}
	fmt.Fprintln(p.err)
}

func lines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
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
