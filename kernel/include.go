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
// includes are always refused. Comments and line continuations are handled
// as the preprocessor does.
func CheckIncludes(dialect, source string) error {
	lines, starts := spliceLines(source)
	for i, line := range strings.Split(stripComments(strings.Join(lines, "\n")), "\n") {
		header, ok := includeDirective(line)
		switch {
		case !ok:
		case dialect != "cuda":
			return fmt.Errorf("line %d: #include %s is not allowed: %s kernels must be self-contained", starts[i], header, dialect)
		case !headerAllowed(header):
			return fmt.Errorf("line %d: #include %s is not allowed: only CUDA's own headers may be included (<%s>, <%s...>)",
				starts[i], header, strings.Join(allowedHeaders, ">, <"), strings.Join(allowedDirs, "...>, <"))
		}
	}
	return nil
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

// includeDirective returns the header of an include-like directive as
// written (<x.h>, "x.h" or a macro) and whether line is one.
func includeDirective(line string) (string, bool) {
	l := strings.TrimLeft(line, " \t\f\v")
	switch {
	case strings.HasPrefix(l, "#"):
		l = l[1:]
	case strings.HasPrefix(l, "%:"): // digraph for #
		l = l[2:]
	default:
		return "", false
	}
	l = strings.TrimLeft(l, " \t\f\v")
	n := 0
	for n < len(l) && (l[n] == '_' || l[n] >= 'a' && l[n] <= 'z') {
		n++
	}
	switch l[:n] {
	case "include", "include_next", "import", "embed":
	default:
		return "", false
	}
	rest := strings.TrimSpace(l[n:])
	if strings.HasPrefix(rest, "<") {
		if end := strings.IndexByte(rest, '>'); end > 0 {
			return rest[:end+1], true
		}
	}
	return rest, true
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
