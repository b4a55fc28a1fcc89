package procfile

import "strings"

// The Procfile's command runs under a shell; these read it as that shell
// splits it, closely enough to advise on it: quotes, escapes and ${...}
// keep their white space, and each word keeps its quotes, so a suggested
// line rebuilt from words means what the user wrote.

// words splits a command line into words as written. An unterminated quote
// runs to the end of the line.
func words(s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
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
func isOperator(w string) bool { return w == "&&" || w == "||" || w == ";" || w == "|" || w == "&" }

// endsCommand is a word with a command's end attached: "VAR=1;".
func endsCommand(w string) bool {
	return len(w) > 1 && strings.HasSuffix(w, ";") && !strings.HasSuffix(w, `\;`)
}

// hasOperator reports whether ws hold more than one command.
func hasOperator(ws []string) bool {
	for _, w := range ws {
		if isOperator(w) || endsCommand(w) {
			return true
		}
	}
	return false
}

// chains reports whether more commands follow the first in ws: after
// "&&", "||", ";" or "&". A pipe does not count: the mesh still starts
// the command, with its output piped.
func chains(ws []string) bool {
	for _, w := range ws {
		if (isOperator(w) && w != "|") || endsCommand(w) {
			return true
		}
	}
	return false
}
