package procfile

import (
	"slices"
	"strings"
)

// The Procfile's command runs under a shell; these read it as that shell
// splits it, closely enough to advise on it: quotes, escapes and ${...}
// keep their white space, and each word keeps its quotes, so a suggested
// line rebuilt from words means what the user wrote.

// words splits a command line into words as written: the control
// operators (&&, ||, ;, &, |) are words of their own, written apart or not,
// and an unquoted # at the start of a word ends the line. An unterminated
// quote runs to the end of the line.
func words(s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			out = append(out, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
			flush()
			continue
		case c == '#' && !inWord:
			// A comment: the shell ignores the rest of the line.
			return out
		case c == '&' && (i+1 < len(s) && s[i+1] == '>' || inWord && strings.HasSuffix(cur.String(), ">") || inWord && strings.HasSuffix(cur.String(), "<")):
			// A redirection (2>&1, &>file), not an operator.
			cur.WriteByte(c)
		case c == ';' || c == '&' || c == '|':
			flush()
			end := i + 1
			if end < len(s) && (s[end] == c && c != ';' || c == '|' && s[end] == '&') {
				end++
			}
			out = append(out, s[i:end])
			i = end - 1
			continue
		case c == '\\':
			end := min(i+2, len(s))
			cur.WriteString(s[i:end])
			i = end - 1
		case c == '\'':
			end := len(s)
			if j := strings.IndexByte(s[i+1:], '\''); j >= 0 {
				end = i + 2 + j
			}
			cur.WriteString(s[i:end])
			i = end - 1
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+1, len(s))
			cur.WriteString(s[i:end])
			i = end - 1
		case c == '$' && i+1 < len(s) && s[i+1] == '(' || c == '`':
			// A command substitution is one piece of a word, whatever
			// operators it holds.
			end := substitutionEnd(s, i)
			cur.WriteString(s[i:end])
			i = end - 1
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			end := len(s)
			if j := strings.IndexByte(s[i:], '}'); j >= 0 {
				end = i + j + 1
			}
			cur.WriteString(s[i:end])
			i = end - 1
		default:
			cur.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// substitutionEnd is the end of the $(…) or `…` starting at i, nesting
// counted and quotes skipped, or the end of the line when it is not closed.
func substitutionEnd(s string, i int) int {
	if s[i] == '`' {
		if j := strings.IndexByte(s[i+1:], '`'); j >= 0 {
			return i + 2 + j
		}
		return len(s)
	}
	depth := 0
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '\'':
			if k := strings.IndexByte(s[j+1:], '\''); k >= 0 {
				j += k + 1
			} else {
				return len(s)
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(s)
}

// expanded is a word with what the Procfile's shell does not expand masked:
// single-quoted text and escaped characters. A "$APP_PORT" left in it is
// one the shell expands before running the command.
func expanded(w string) string {
	b := []byte(w)
	inDouble := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\':
			b[i] = '_'
			if i+1 < len(b) {
				i++
				b[i] = '_'
			}
		case c == '"':
			inDouble = !inDouble
		case c == '\'' && !inDouble:
			b[i] = '_'
			for i+1 < len(b) && b[i+1] != '\'' {
				i++
				b[i] = '_'
			}
			if i+1 < len(b) {
				i++
				b[i] = '_'
			}
		}
	}
	return string(b)
}

// unquote returns the text of a word that is one quoted string, and
// whether it is one.
func unquote(w string) (string, bool) {
	if len(w) < 2 || (w[0] != '"' && w[0] != '\'') || w[len(w)-1] != w[0] {
		return "", false
	}
	if words := words(w); len(words) != 1 || words[0] != w {
		return "", false
	}
	inner := w[1 : len(w)-1]
	if strings.ContainsRune(inner, rune(w[0])) {
		// "a"b"c": more than one string.
		return "", false
	}
	return inner, true
}

// isOperator is a word that ends one command and starts another.
func isOperator(w string) bool {
	return w == "&&" || w == "||" || w == ";" || w == "|" || w == "&" || w == "|&"
}

// isPipe is an operator that joins two commands into one pipeline.
func isPipe(w string) bool { return w == "|" || w == "|&" }

// hasOperator reports whether ws hold more than one command.
func hasOperator(ws []string) bool { return slices.ContainsFunc(ws, isOperator) }

// chains reports whether more commands follow the first in ws: after
// "&&", "||", ";" or "&" with more after it. A pipe does not count: the
// mesh still starts the command, with its output piped.
func chains(ws []string) bool {
	for i, w := range ws {
		if isOperator(w) && !isPipe(w) && !((w == "&" || w == ";") && i == len(ws)-1) {
			return true
		}
	}
	return false
}

// startsCompound reports whether a command begins with shell syntax that
// is no program a mesh could exec: a subshell, a group, a keyword.
func startsCompound(w string) bool {
	if strings.HasPrefix(w, "(") {
		return true
	}
	switch w {
	case "{", "!", "[[", "if", "for", "while", "until", "case", "select", "function":
		return true
	}
	return false
}

// background reports whether ws end in "&", which runs the line in the
// background: the shell exits at once.
func background(ws []string) bool { return len(ws) > 0 && ws[len(ws)-1] == "&" }

// join writes words back as a command line, with the usual spacing: none
// before ";".
func join(ws []string) string {
	var b strings.Builder
	for i, w := range ws {
		if i > 0 && w != ";" {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}
