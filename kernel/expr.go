package kernel

import (
	"fmt"
	"strconv"
	"unicode"
)

// EvalExpr evaluates an integer launch expression such as "B*D/4" or
// "(B+3)/4*LOCAL" over the given variables. Operators: + - * / % and
// parentheses; / is integer division, so write ceil-division explicitly.
func EvalExpr(expr string, vars map[string]int) (int, error) {
	p := exprParser{src: expr, vars: vars}
	v, err := p.sum()
	if err == nil && p.skipSpace() < len(p.src) {
		err = fmt.Errorf("unexpected %q", p.src[p.pos:])
	}
	if err != nil {
		return 0, fmt.Errorf("launch expression %q: %w", expr, err)
	}
	return v, nil
}

type exprParser struct {
	src  string
	pos  int
	vars map[string]int
}

func (p *exprParser) skipSpace() int {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
	return p.pos
}

func (p *exprParser) sum() (int, error) {
	v, err := p.product()
	for err == nil && p.skipSpace() < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
		op := p.src[p.pos]
		p.pos++
		var r int
		if r, err = p.product(); err == nil {
			if op == '+' {
				v += r
			} else {
				v -= r
			}
		}
	}
	return v, err
}

func (p *exprParser) product() (int, error) {
	v, err := p.atom()
	for err == nil && p.skipSpace() < len(p.src) && (p.src[p.pos] == '*' || p.src[p.pos] == '/' || p.src[p.pos] == '%') {
		op := p.src[p.pos]
		p.pos++
		var r int
		if r, err = p.atom(); err != nil {
			break
		}
		switch {
		case op == '*':
			v *= r
		case r == 0:
			err = fmt.Errorf("division by zero")
		case op == '/':
			v /= r
		default:
			v %= r
		}
	}
	return v, err
}

func (p *exprParser) atom() (int, error) {
	if p.skipSpace() >= len(p.src) {
		return 0, fmt.Errorf("unexpected end")
	}
	c := rune(p.src[p.pos])
	switch {
	case c == '(':
		p.pos++
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		if p.skipSpace() >= len(p.src) || p.src[p.pos] != ')' {
			return 0, fmt.Errorf("missing )")
		}
		p.pos++
		return v, nil
	case unicode.IsDigit(c):
		start := p.pos
		for p.pos < len(p.src) && unicode.IsDigit(rune(p.src[p.pos])) {
			p.pos++
		}
		return strconv.Atoi(p.src[start:p.pos])
	case unicode.IsLetter(c) || c == '_':
		start := p.pos
		for p.pos < len(p.src) && (unicode.IsLetter(rune(p.src[p.pos])) || unicode.IsDigit(rune(p.src[p.pos])) || p.src[p.pos] == '_') {
			p.pos++
		}
		name := p.src[start:p.pos]
		v, ok := p.vars[name]
		if !ok {
			return 0, fmt.Errorf("unknown name %q", name)
		}
		return v, nil
	}
	return 0, fmt.Errorf("unexpected %q", p.src[p.pos:])
}

// GlobalSize is a launch's global size: each grid expression (at most 3;
// missing dimensions are 1) evaluated over vars and rounded up to a
// multiple of local in its dimension. An expression that is not positive
// is an error.
func GlobalSize(grid []string, vars map[string]int, local [3]int) ([3]int, error) {
	g := [3]int{1, 1, 1}
	if len(grid) > 3 {
		return g, fmt.Errorf("grid has %d dimensions, at most 3", len(grid))
	}
	for i, expr := range grid {
		v, err := EvalExpr(expr, vars)
		if err != nil {
			return g, err
		}
		if v <= 0 {
			return g, fmt.Errorf("grid %q is %d", expr, v)
		}
		g[i] = v
	}
	for i := range g {
		g[i] = (g[i] + local[i] - 1) / local[i] * local[i]
	}
	return g, nil
}
