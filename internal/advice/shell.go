package advice

import (
	"cmp"
	"path"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// parse reads a command as bash, which Heroku runs it with, does.
func parse(src string) (*syntax.File, error) {
	return syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
}

// format is a line as bash's printer writes it; "" when the printer cannot keep it.
func format(src string) string {
	f, err := parse(src)
	if err != nil || strings.ContainsFunc(src, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return ""
	}
	var b strings.Builder
	syntax.NewPrinter(syntax.SingleLine(true)).Print(&b, f)
	if _, err := parse(b.String()); err != nil {
		return "" // a form the printer cannot write back
	}
	return strings.TrimSuffix(b.String(), "\n")
}

type edit struct {
	from, to int
	text     string
}

func off(p syntax.Pos) int                  { return int(p.Offset()) }
func text(src string, n syntax.Node) string { return src[off(n.Pos()):off(n.End())] }

// apply makes the edits, insertions first; one overlapping another is dropped.
func apply(src string, edits []edit) string {
	slices.SortStableFunc(edits, func(a, b edit) int { return 2*(a.from-b.from) + min(a.to-a.from, 1) - min(b.to-b.from, 1) })
	var out strings.Builder // not +=: a line of thousands of edits would cost their square
	at := 0
	for _, e := range edits {
		if e.from >= at {
			out.WriteString(src[at:e.from] + e.text)
			at = e.to
		}
	}
	return out.String() + src[at:]
}

// static is a word as bash expands it, if it expands nothing but $HOME and ~ (/app).
func static(w *syntax.Word) (string, bool) {
	ok := w != nil && len(w.Parts) > 0
	syntax.Walk(w, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.ParamExp:
			ok = ok && ref(n, "HOME", false)
		case nil, *syntax.Word, *syntax.Lit, *syntax.SglQuoted, *syntax.DblQuoted:
		default:
			ok = false
		}
		return ok
	})
	if !ok {
		return "", false
	}
	fields, err := expand.Fields(&expand.Config{Env: expand.ListEnviron("HOME=/app")}, w)
	return strings.Join(fields, " "), err == nil && len(fields) == 1
}

// lead is a word as bash reads it, or its literal start: enough for an option.
func lead(w *syntax.Word) string {
	if v, ok := static(w); ok {
		return v
	} else if lit, ok := w.Parts[0].(*syntax.Lit); ok {
		return lit.Value
	}
	return ""
}

// ref reports whether pe expands name: plainly, or with ops (${name:-5000}).
func ref(pe *syntax.ParamExp, name string, ops bool) bool {
	return pe.Param != nil && pe.Param.Value == name && !pe.Length && !pe.Excl && pe.Index == nil &&
		pe.Slice == nil && pe.Repl == nil && (ops || pe.Exp == nil)
}

func refs(node syntax.Node, name string) []*syntax.ParamExp {
	var out []*syntax.ParamExp
	syntax.Walk(node, func(n syntax.Node) bool {
		if pe, ok := n.(*syntax.ParamExp); ok && ref(pe, name, true) {
			out = append(out, pe)
		}
		return true
	})
	return out
}

// onPORT: a word that is $PORT alone, in any form (also --port=$PORT).
func onPORT(w *syntax.Word) bool {
	parts := w.Parts
	if lit, ok := parts[0].(*syntax.Lit); len(parts) > 1 && ok && (lit.Value == "--port=" || lit.Value == "-p=") {
		parts = parts[1:]
	}
	if dq, ok := parts[0].(*syntax.DblQuoted); len(parts) == 1 && ok {
		parts = dq.Parts
	}
	if len(parts) != 1 {
		return false
	}
	pe, ok := parts[0].(*syntax.ParamExp)
	return ok && ref(pe, "PORT", true)
}

func isName(s string) bool { return validType(s) && s[0] > '9' && !strings.Contains(s, "-") }

func splitAssign(w *syntax.Word) (string, *syntax.Word, bool) {
	if lit, ok := w.Parts[0].(*syntax.Lit); ok {
		if name, rest, found := strings.Cut(lit.Value, "="); found && isName(name) {
			return name, &syntax.Word{Parts: append([]syntax.WordPart{&syntax.Lit{ValuePos: lit.ValuePos, Value: rest}}, w.Parts[1:]...)}, true
		}
	}
	return "", nil, false
}

// quoted writes text as one word, quoted as w is if that keeps its meaning.
func quoted(w *syntax.Word, text string) string {
	if sq, ok := w.Parts[0].(*syntax.SglQuoted); ok && len(w.Parts) == 1 && !sq.Dollar && !strings.Contains(text, "'") {
		return "'" + text + "'"
	}
	q, _ := syntax.Quote(text, syntax.LangBash)
	return q
}

// shScript finds "sh -c '…'" (or bash, dash; -lc…): the script's word and text.
func shScript(args []*syntax.Word) (*syntax.Word, string, bool) {
	i := slices.IndexFunc(args, func(w *syntax.Word) bool { return !wrappers[lead(w)] })
	if i < 0 || i+2 >= len(args) {
		return nil, "", false
	}
	text, ok := static(args[i+2])
	return args[i+2], text, ok && slices.Contains([]string{"sh", "bash", "dash"}, path.Base(lead(args[i]))) && shFlag.MatchString(lead(args[i+1]))
}

// cmd is a command after op; nested: in ( ) or { }, where a cd is not followed.
type cmd struct {
	stmt   *syntax.Stmt
	op     string
	opAt   int
	nested bool
}

// flatten appends stmts' commands to out; c is what the first follows.
func flatten(out []cmd, stmts []*syntax.Stmt, c cmd) []cmd {
	for _, s := range stmts {
		switch x := s.Cmd.(type) {
		case *syntax.BinaryCmd:
			out = flatten(out, []*syntax.Stmt{x.X}, c)
			out = flatten(out, []*syntax.Stmt{x.Y}, cmd{op: x.Op.String(), opAt: off(x.OpPos), nested: c.nested})
		case *syntax.Subshell:
			out = flatten(out, x.Stmts, cmd{op: c.op, opAt: c.opAt, nested: true})
		case *syntax.Block:
			out = flatten(out, x.Stmts, cmd{op: c.op, opAt: c.opAt, nested: true})
		default:
			out = append(out, cmd{s, c.op, c.opAt, c.nested})
		}
		c.op = map[bool]string{false: ";", true: "&"}[s.Background]
	}
	return out
}

func end(f *syntax.File) int {
	last := f.Stmts[len(f.Stmts)-1]
	return off(cmp.Or(last.Semicolon, last.End()))
}

func over[N syntax.Node](text string, nodes ...N) []edit {
	var out []edit
	for _, n := range nodes {
		out = append(out, edit{off(n.Pos()), off(n.End()), text})
	}
	return out
}
