package procfile

import (
	"slices"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Heroku runs each Procfile command with bash: these read it with a bash
// parser, and write a fixed line back through its printer, so that a
// suggestion means what it says.

func parse(src string) (*syntax.File, error) {
	return syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
}

// format writes a command line as bash reads it, on one line; "" when it
// does not parse, or holds a control character, which the printer may not
// keep.
func format(src string) string {
	f, err := parse(src)
	if err != nil || strings.ContainsFunc(src, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return ""
	}
	var b strings.Builder
	syntax.NewPrinter(syntax.SingleLine(true)).Print(&b, f)
	out := strings.TrimSuffix(b.String(), "\n")
	if _, err := parse(out); err != nil {
		return "" // a form the printer cannot write back
	}
	return out
}

func off(p syntax.Pos) int { return int(p.Offset()) }

// edit replaces [from, to) of a command line with text.
type edit struct {
	from, to int
	text     string
}

// apply makes the edits to src in order of position; an edit that
// overlaps one before it is dropped.
func apply(src string, edits []edit) string {
	slices.SortStableFunc(edits, func(a, b edit) int { return a.from*2 + min(a.to-a.from, 1) - b.from*2 - min(b.to-b.from, 1) })
	var b strings.Builder
	at := 0
	for _, e := range edits {
		if e.from >= at {
			b.WriteString(src[at:e.from] + e.text)
			at = e.to
		}
	}
	return b.String() + src[at:]
}

// dyno is the environment a static word may use: HOME, and so ~, is the
// app's folder.
var dyno = expand.FuncEnviron(func(name string) string {
	if name == "HOME" {
		return "/app"
	}
	return ""
})

// static is the text bash makes of a word that expands nothing but $HOME
// and ~, and whether it is one.
func static(w *syntax.Word) (string, bool) {
	ok := w != nil
	syntax.Walk(w, func(n syntax.Node) bool {
		switch n := n.(type) {
		case nil, *syntax.Word, *syntax.Lit, *syntax.SglQuoted, *syntax.DblQuoted:
		case *syntax.ParamExp:
			ok = ok && ref(n, "HOME", false)
		default:
			ok = false
		}
		return ok
	})
	if !ok {
		return "", false
	}
	fields, err := expand.Fields(&expand.Config{Env: dyno}, w)
	if err != nil || len(fields) != 1 {
		return "", false
	}
	return fields[0], true
}

// ref reports whether pe expands the variable name, plainly ($name,
// ${name}) or, with ops, with an operator (${name:-5000}).
func ref(pe *syntax.ParamExp, name string, ops bool) bool {
	return pe.Param != nil && pe.Param.Value == name && !pe.Length && !pe.Excl && pe.Index == nil &&
		pe.Slice == nil && pe.Repl == nil && (ops || pe.Exp == nil)
}

// refs are the expansions of the variable name in node, in any form.
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

// onPORT reports whether a word is Heroku's port and nothing else: $PORT
// in any form, quoted or not, or an option's value (--port=$PORT).
func onPORT(w *syntax.Word) bool {
	parts := w.Parts
	if len(parts) == 0 {
		return false
	}
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

// splitAssign reads a word such as APP_PORT=3000, given to env or, by
// mistake, to exec: its name and value.
func splitAssign(w *syntax.Word) (string, *syntax.Word, bool) {
	lit, ok := w.Parts[0].(*syntax.Lit)
	if !ok {
		return "", nil, false
	}
	name, rest, found := strings.Cut(lit.Value, "=")
	if !found || name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" || name[0] <= '9' {
		return "", nil, false
	}
	value := &syntax.Word{Parts: w.Parts[1:]}
	if rest != "" || len(value.Parts) == 0 {
		value.Parts = append([]syntax.WordPart{&syntax.Lit{ValuePos: lit.ValuePos, Value: rest}}, value.Parts...)
	}
	return name, value, true
}

// quoted writes text as one word, quoted like w when that keeps its
// meaning, else as bash quotes it.
func quoted(w *syntax.Word, text string) string {
	if sq, ok := w.Parts[0].(*syntax.SglQuoted); ok && len(w.Parts) == 1 && !sq.Dollar && !strings.Contains(text, "'") {
		return "'" + text + "'"
	}
	q, _ := syntax.Quote(text, syntax.LangBash)
	return q
}

// shells are the programs whose -c runs a script.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true}

// script finds "sh -c '…'" in args from i: the script's word and its
// text, when it is static.
func script(args []*syntax.Word, i int) (*syntax.Word, string, bool) {
	if i+2 >= len(args) {
		return nil, "", false
	}
	name, _ := static(args[i])
	flag, _ := static(args[i+1])
	text, ok := static(args[i+2])
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return args[i+2], text, ok && shells[name] && len(flag) > 1 && flag[0] == '-' && strings.HasSuffix(flag, "c") &&
		strings.Trim(flag[1:], "abcdefghijklmnopqrstuvwxyz") == ""
}

// cmd is one command of a line, in the order bash reaches it.
type cmd struct {
	stmt *syntax.Stmt
	// op is the operator before it: "", ";", "&", "&&", "||", "|" or "|&";
	// opAt is where an && or || is.
	op   string
	opAt int
	// scope names the subshells it runs in (a pipeline's commands, a list
	// in the background, ( )): what it changes reaches only commands in the
	// same ones. nested: it is inside ( ) or { }, where the build does not
	// follow a cd.
	scope  string
	nested bool
}

// sees reports whether what c changes reaches a command in scope.
func (c cmd) sees(scope string) bool { return strings.HasPrefix(scope+"/", c.scope+"/") }

// flatten lists the commands of a line, through &&, ||, pipes, subshells
// and groups.
func flatten(f *syntax.File) []cmd {
	var out []cmd
	n := 0
	sub := func(scope string) string { n++; return scope + "/" + strconv.Itoa(n) }
	var list func(stmts []*syntax.Stmt, op string, opAt int, scope string, nested bool)
	var add func(s *syntax.Stmt, op string, opAt int, scope string, nested bool)
	add = func(s *syntax.Stmt, op string, opAt int, scope string, nested bool) {
		if s.Background {
			scope = sub(scope)
		}
		switch c := s.Cmd.(type) {
		case *syntax.BinaryCmd:
			x, y := scope, scope
			if c.Op == syntax.Pipe || c.Op == syntax.PipeAll {
				x, y = sub(scope), sub(scope)
			}
			add(c.X, op, opAt, x, nested)
			add(c.Y, c.Op.String(), off(c.OpPos), y, nested)
		case *syntax.Subshell:
			list(c.Stmts, op, opAt, sub(scope), true)
		case *syntax.Block:
			list(c.Stmts, op, opAt, scope, true)
		default:
			out = append(out, cmd{stmt: s, op: op, opAt: opAt, scope: scope, nested: nested})
		}
	}
	list = func(stmts []*syntax.Stmt, op string, opAt int, scope string, nested bool) {
		for _, s := range stmts {
			add(s, op, opAt, scope, nested)
			op = map[bool]string{false: ";", true: "&"}[s.Background]
		}
	}
	list(f.Stmts, "", 0, "", false)
	return out
}

// end is where a line's last command ends, before a final ";" or "&".
func end(f *syntax.File) int {
	last := f.Stmts[len(f.Stmts)-1]
	if last.Semicolon.IsValid() {
		return off(last.Semicolon)
	}
	return off(last.End())
}
