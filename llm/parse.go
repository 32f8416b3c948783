package llm

import (
	"regexp"
	"strconv"
	"strings"
)

// The answer format, as in ZMLX: variants separated by ---VARIANT---, each
// with REASONING:, THREADGROUP: x, y, z, an optional GRID: x, y, z (total
// work-items, expressions over the row variable, the dims and LOCAL) and
// SOURCE: followed by the kernel.
const variantSeparator = "---VARIANT---"

var (
	fieldLine = regexp.MustCompile(`(?m)^[ \t>*#]*(REASONING|THREADGROUP|GRID|SOURCE)[ \t*]*:(?:\*\*)?[ \t]*`)
	fence     = regexp.MustCompile("(?m)^[ \t]*```[\\w+-]*[ \t]*$\n?")
)

// Parse splits a raw answer into variants. Blocks without a SOURCE, or with
// an empty one, are dropped; malformed counts them.
func Parse(raw string) (variants []Variant, malformed int) {
	raw = strings.ReplaceAll(raw, "\r\n", "\n")
	for _, block := range strings.Split(raw, variantSeparator) {
		if strings.TrimSpace(block) == "" {
			continue
		}
		v, ok := parseBlock(block)
		if !ok {
			malformed++
			continue
		}
		variants = append(variants, v)
	}
	return variants, malformed
}

func parseBlock(block string) (Variant, bool) {
	var v Variant
	locs := fieldLine.FindAllStringSubmatchIndex(block, -1)
	hasSource := false
	for i, loc := range locs {
		name := block[loc[2]:loc[3]]
		end := len(block)
		if name != "SOURCE" && i+1 < len(locs) {
			end = locs[i+1][0]
		}
		value := block[loc[1]:end]
		switch name {
		case "REASONING":
			v.Reasoning = strings.TrimSpace(value)
		case "THREADGROUP":
			v.Threadgroup = parseThreadgroup(firstLine(value))
		case "GRID":
			v.Grid = parseGrid(firstLine(value))
		case "SOURCE":
			v.Source = strings.TrimSpace(fence.ReplaceAllString(value, ""))
			hasSource = true
		}
		if name == "SOURCE" {
			break
		}
	}
	return v, hasSource && v.Source != ""
}

// firstLine is a field's first line without backticks and without one
// pair of brackets around all of it, as in "(128, 1, 1)"; a bracket that
// belongs to an expression, as in "(B+1)/2*LOCAL", stays.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(strings.Trim(strings.TrimSpace(s), "`"))
	if len(s) >= 2 && closing(s) == len(s)-1 {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// closing is the index of the bracket that closes s's opening ( or [, or
// -1 when s does not start with one or it is not closed.
func closing(s string) int {
	open, shut := s[0], byte(')')
	switch open {
	case '(':
	case '[':
		shut = ']'
	default:
		return -1
	}
	depth := 0
	for i := range len(s) {
		switch s[i] {
		case open:
			depth++
		case shut:
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

// parseThreadgroup reads "x, y, z" (missing entries are 1); anything
// unreadable is zero, meaning the seed's.
func parseThreadgroup(s string) [3]int {
	tg := [3]int{1, 1, 1}
	parts := strings.Split(s, ",")
	if len(parts) > 3 {
		return [3]int{}
	}
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 {
			return [3]int{}
		}
		tg[i] = n
	}
	return tg
}

func parseGrid(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	for len(out) > 1 && out[len(out)-1] == "1" {
		out = out[:len(out)-1]
	}
	return out
}
