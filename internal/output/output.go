package output

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"time"
	"unicode"

	"github.com/heroku/color"
)

// Style is one platform's log: Classic ("-----> " steps, 7-space details,
// " !     " warnings) or CNB (a "## " header, "- " steps, "  - " details).
type Style int

const (
	Classic Style = iota
	CNB
)

// prefixes: step, detail, a detail's further lines, warning.
var prefixes = [...][4]string{Classic: {"-----> ", "       ", "       ", " !     "}, CNB: {"- ", "  - ", "    ", "! "}}

// Printer writes steps and details to out, warnings and errors to errOut.
// Without colour it emits no escape code, whatever color's global switch says.
type Printer struct {
	out, err   io.Writer
	p          [4]string
	color, cnb bool
}

func New(out, errOut io.Writer, style Style, useColor bool) *Printer {
	return &Printer{out: out, err: errOut, p: prefixes[style], color: useColor, cnb: style == CNB}
}

// Escape makes visible what could steer a terminal, so that outside text
// can neither erase, forge nor hide lines: C0 controls but the newline, DEL,
// C1 controls, line and paragraph separators, format characters (bidi
// overrides and marks, zero-width characters, a byte order mark), other
// invisible ones (variation selectors, fillers) and bytes not UTF-8.
func Escape(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\uFFFD' && !strings.HasPrefix(s[i:], "\uFFFD"): // a byte that is not UTF-8
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || !unicode.IsControl(r) && !unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf,
			unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point):
			b.WriteRune(r)
		case r < 0x80: // C0 or DEL
			fmt.Fprintf(&b, `\x%02x`, r)
		case r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// paint colours one line, with its own reset: Git prefixes each streamed
// line with "remote: ", which would inherit an open colour.
func (p *Printer) paint(c *color.Color, line string) string {
	if !p.color || line == "" {
		return line
	}
	return c.Sprint(line)
}

// Header opens a CNB log; on classic the platform prints its own.
func (p *Printer) Header(title string) {
	if p.cnb {
		fmt.Fprintf(p.out, "\n%s\n\n", p.paint(color.New(color.Bold, color.FgMagenta), "## "+Escape(title)))
	}
}

func (p *Printer) Step(format string, a ...any) {
	for _, line := range lines(fmt.Sprintf(format, a...)) {
		fmt.Fprintln(p.out, p.paint(color.New(color.Bold), p.p[0]+line))
	}
}

func (p *Printer) Detail(format string, a ...any) {
	for i, line := range lines(fmt.Sprintf(format, a...)) {
		fmt.Fprintln(p.out, p.p[min(i, 1)+1]+line)
	}
}

func (p *Printer) Done(took time.Duration) { p.Step("Done (finished in %s)", Duration(took)) }

func (p *Printer) Warning(text string) { p.block(color.New(color.FgYellow), "Warning: "+text) }

// Error renders err for humans, here and nowhere else: the chain, then the first help in it.
func (p *Printer) Error(err error) {
	text := "Error: " + err.Error()
	var h interface{ Help() string }
	if errors.As(err, &h) && h.Help() != "" {
		text += "\n\n" + h.Help()
	}
	p.block(color.New(color.FgRed), text)
}

func (p *Printer) block(c *color.Color, text string) {
	fmt.Fprintln(p.err)
	for _, line := range lines(text) {
		fmt.Fprintln(p.err, p.paint(c, strings.TrimRight(p.p[3]+line, " "))) // an empty line is the mark alone
	}
	fmt.Fprintln(p.err)
}

// lines escapes and splits: the one place text reaches the log.
func lines(s string) []string {
	return strings.Split(strings.TrimRight(Escape(s), "\n"), "\n")
}

// Duration is short and rounded, as Heroku's logs print durations.
func Duration(d time.Duration) string {
	switch {
	case d < 100*time.Millisecond:
		return "< 0.1s"
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// Size is n bytes in binary units: 1023 B, 1.0 KiB, 12.5 MiB.
func Size(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	exp := (bits.Len64(uint64(n)) - 1) / 10 // the largest power of 1024 in n
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(int64(1)<<(10*exp)), " KMGTPE"[exp])
}
