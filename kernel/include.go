package kernel

import (
	"fmt"
	"strings"
)

// CUDA kernels may include only CUDA's own device headers, OpenCL kernels
// nothing: anything else would read files of whichever machine compiles it
// (and could leak them into compile logs), and results would differ between
// machines.
var (
	allowedHeaders = []string{"cuda_fp16.h", "cuda_bf16.h", "cuda_fp8.h", "cooperative_groups.h"}
	allowedDirs    = []string{"cooperative_groups/", "cuda/std/"}
)

// CheckIncludes names the first #include (or #include_next, #import,
// #embed) that the dialect does not allow: for CUDA anything but CUDA's own
// headers, e.g. <cuda_fp16.h>; for OpenCL anything at all. Quoted and macro
// includes are always refused. Trigraphs (OpenCL C compilers read ??= as #),
// comments and line continuations are handled as the preprocessor does.
// __has_include and its kin, which probe the host's files, are held to the
// same rule.
func CheckIncludes(dialect, source string) error {
	lines, starts := spliceLines(trigraphs.Replace(source))
	for i, line := range strings.Split(stripComments(strings.Join(lines, "\n")), "\n") {
		what, header, ok := includeDirective(line)
		if !ok {
			what, header, ok = hasInclude(line)
		}
		switch {
		case !ok:
		case dialect != "cuda":
			return fmt.Errorf("line %d: %s %s is not allowed: %s kernels must be self-contained", starts[i], what, header, dialect)
		case !headerAllowed(header):
			return fmt.Errorf("line %d: %s %s is not allowed: only CUDA's own headers may be included (<%s>, <%s...>)",
				starts[i], what, header, strings.Join(allowedHeaders, ">, <"), strings.Join(allowedDirs, "...>, <"))
		}
	}
	return nil
}

// trigraphs are replaced before anything else, as in translation phase 1
// of C (OpenCL C is C99): ??=include is an #include there, and ??/ at the
// end of a line continues it. C++17 (CUDA) has no trigraphs; replacing them
// there too costs nothing, since only the check sees the result.
var trigraphs = strings.NewReplacer("??=", "#", "??/", "\\", "??'", "^", "??(", "[", "??)", "]",
	"??!", "|", "??<", "{", "??>", "}", "??-", "~")

// hasIncludeOps probe whether a file exists (and __has_embed, what it holds).
var hasIncludeOps = []string{"__has_include_next", "__has_include", "__has_embed"}

// hasInclude finds the first __has_include-like operator on a line, with its
// operand as written (<x.h>, "x.h", or whatever follows when it is neither,
// e.g. when a macro names the operator).
func hasInclude(line string) (what, header string, ok bool) {
	for i := 0; i < len(line); i++ {
		if i > 0 && isIdentChar(line[i-1]) {
			continue
		}
		for _, op := range hasIncludeOps {
			if !strings.HasPrefix(line[i:], op) || i+len(op) < len(line) && isIdentChar(line[i+len(op)]) {
				continue
			}
			rest := strings.TrimLeft(line[i+len(op):], " \t\f\v")
			if inner, found := strings.CutPrefix(rest, "("); found {
				rest = strings.TrimLeft(inner, " \t\f\v")
			}
			switch {
			case strings.HasPrefix(rest, "<") && strings.IndexByte(rest, '>') > 0:
				rest = rest[:strings.IndexByte(rest, '>')+1]
			case strings.HasPrefix(rest, `"`) && strings.IndexByte(rest[1:], '"') >= 0:
				rest = rest[:strings.IndexByte(rest[1:], '"')+2]
			default:
				rest = strings.TrimSpace(rest)
			}
			return op, rest, true
		}
	}
	return "", "", false
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// spliceLines joins lines ending in a backslash with the next, as the
// preprocessor does first, and returns each joined line's first line number.
func spliceLines(source string) (lines []string, starts []int) {
	phys := strings.Split(source, "\n")
	for i := 0; i < len(phys); i++ {
		start := i + 1
		l := strings.TrimSuffix(phys[i], "\r")
		for strings.HasSuffix(l, "\\") && i+1 < len(phys) {
			i++
			l = l[:len(l)-1] + strings.TrimSuffix(phys[i], "\r")
		}
		lines = append(lines, l)
		starts = append(starts, start)
	}
	return lines, starts
}

// stripComments replaces each comment by a space, keeping the newlines of
// block comments so lines keep their numbers. String and character
// literals are skipped; they end at a newline at the latest.
func stripComments(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
			b.WriteByte(' ')
			if i < len(s) {
				b.WriteByte('\n')
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				end = len(s) - i - 2
			}
			b.WriteByte(' ')
			b.WriteString(strings.Repeat("\n", strings.Count(s[i:i+2+end], "\n")))
			i += end + 3
		case s[i] == '"' || s[i] == '\'':
			quote := s[i]
			b.WriteByte(quote)
			for i++; i < len(s) && s[i] != quote && s[i] != '\n'; i++ {
				if s[i] == '\\' && i+1 < len(s) && s[i+1] != '\n' {
					b.WriteByte(s[i])
					i++
				}
				b.WriteByte(s[i])
			}
			if i < len(s) {
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// includeDirective returns the directive ("#include", "#embed"...) and the
// header of an include-like directive as written (<x.h>, "x.h" or a macro),
// and whether line is one.
func includeDirective(line string) (what, header string, ok bool) {
	l := strings.TrimLeft(line, " \t\f\v")
	switch {
	case strings.HasPrefix(l, "#"):
		l = l[1:]
	case strings.HasPrefix(l, "%:"): // digraph for #
		l = l[2:]
	default:
		return "", "", false
	}
	l = strings.TrimLeft(l, " \t\f\v")
	n := 0
	for n < len(l) && (l[n] == '_' || l[n] >= 'a' && l[n] <= 'z') {
		n++
	}
	switch l[:n] {
	case "include", "include_next", "import", "embed":
	default:
		return "", "", false
	}
	rest := strings.TrimSpace(l[n:])
	if strings.HasPrefix(rest, "<") {
		if end := strings.IndexByte(rest, '>'); end > 0 {
			return "#" + l[:n], rest[:end+1], true
		}
	}
	return "#" + l[:n], rest, true
}

func headerAllowed(header string) bool {
	if len(header) < 3 || header[0] != '<' || header[len(header)-1] != '>' {
		return false
	}
	name := header[1 : len(header)-1]
	for _, h := range allowedHeaders {
		if name == h {
			return true
		}
	}
	if strings.Contains(name, "..") || strings.Contains(name, "\\") {
		return false
	}
	for _, dir := range allowedDirs {
		if strings.HasPrefix(name, dir) && len(name) > len(dir) {
			return true
		}
	}
	return false
}
