// Package target holds the registry of operators to optimize: what each one
// computes (a float64 reference), its inputs and test shapes, its tolerance,
// the bytes it must move, and a plain seed kernel per dialect.
package target

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"discover/device"
)

// DType of a tensor element. Buffers hold 4-byte elements.
type DType string

const (
	Float32 DType = "float32"
	Uint32  DType = "uint32"
)

// Tensor is one kernel argument buffer. Shape is in terms of the row
// variable (B, or R for ttt) and the dims, e.g. {"B", "K", "D"}.
type Tensor struct {
	Name  string   `json:"name"`
	DType DType    `json:"dtype"`
	Shape []string `json:"shape"`
}

// Dim is a compile-time constant of the kernel, passed as -DName=Value.
type Dim struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
}

// JoinDims writes dims as NAME=value, separated by sep.
func JoinDims(dims []Dim, sep string) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprintf("%s=%d", d.Name, d.Value)
	}
	return strings.Join(s, sep)
}

// Distribution names how correctness inputs are drawn.
type Distribution string

const (
	Normal  Distribution = "normal"
	Uniform Distribution = "uniform"
	Large   Distribution = "large" // large magnitudes, to catch overflow and bad scaling
)

// Distributions in the order the evaluator cycles through them.
var Distributions = []Distribution{Normal, Uniform, Large}

// Seed is the plain, obviously-correct kernel that discovery must beat.
// Global is the launch's total work-items per dimension as expressions over
// the row variable, the dims and LOCAL (the work-group's x size), e.g.
// {"B*D"} or {"B*LOCAL"}; missing entries are 1.
type Seed struct {
	Source string   `json:"source"`
	Local  [3]int   `json:"local"`
	Global []string `json:"global"`
}

// Tolerance for float outputs: |out-ref| <= Atol*scale + Rtol*|ref|, with
// scale the largest |ref| of that output (so atol follows its magnitude).
// Integer outputs must match exactly.
type Tolerance struct {
	Atol float64 `json:"atol"`
	Rtol float64 `json:"rtol"`
}

// Target is one operator at one model's dims.
type Target struct {
	Name        string    `json:"name"`
	Kernel      string    `json:"kernel"` // family: swiglu, rmsnorm, moe_combine, topk_gating, ttt_linear_decode
	Description string    `json:"description"`
	Model       string    `json:"model"`
	Dims        []Dim     `json:"dims"`
	RowVar      string    `json:"row_var"` // "B", or "R" for ttt
	Shapes      []int     `json:"shapes"`  // row counts; the last is the large one
	Entry       string    `json:"entry"`   // kernel function name
	Inputs      []Tensor  `json:"inputs"`
	Outputs     []Tensor  `json:"outputs"`
	Tolerance   Tolerance `json:"tolerance"`
	// Math is the target's definition in a few lines, for prompts and reports.
	Math  string                  `json:"math"`
	Seeds map[device.Dialect]Seed `json:"-"`

	// Generate draws the inputs for `rows` rows, in Inputs order.
	Generate func(rows int, seed int64, dist Distribution) [][]float32 `json:"-"`
	// Reference computes every output in float64, in Outputs order
	// (uint32 outputs as exact integers).
	Reference func(rows int, inputs [][]float32) [][]float64 `json:"-"`
	// Bytes is the minimum traffic of one launch: every input read once,
	// every output written once.
	Bytes func(rows int) int64 `json:"-"`
}

// Defines are the dims as compiler defines.
func (t *Target) Defines() []device.Define {
	out := make([]device.Define, len(t.Dims))
	for i, d := range t.Dims {
		out[i] = device.Define{Name: d.Name, Value: fmt.Sprint(d.Value)}
	}
	return out
}

// Vars are the dims and the row variable, for shape and launch expressions.
func (t *Target) Vars(rows int) map[string]int {
	v := map[string]int{t.RowVar: rows}
	for _, d := range t.Dims {
		v[d.Name] = d.Value
	}
	return v
}

// Elements is the element count of a tensor at `rows` rows.
func (t *Target) Elements(tn Tensor, rows int) int {
	vars := t.Vars(rows)
	n := 1
	for _, s := range tn.Shape {
		v, ok := vars[s]
		if !ok {
			// A shape entry may also be an integer literal, e.g. {"1"}.
			lit, err := strconv.Atoi(s)
			if err != nil || lit < 0 {
				panic(fmt.Sprintf("target %s: tensor %s: unknown shape symbol %q", t.Name, tn.Name, s))
			}
			v = lit
		}
		n *= v
	}
	return n
}

// Dialects lists the dialects that have a seed kernel, sorted.
func (t *Target) Dialects() []device.Dialect {
	var out []device.Dialect
	for d := range t.Seeds {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

var registry = map[string]*Target{}

func register(t *Target) {
	if _, dup := registry[t.Name]; dup {
		panic("target registered twice: " + t.Name)
	}
	registry[t.Name] = t
}

// Lookup returns the named target.
func Lookup(name string) (*Target, bool) {
	t, ok := registry[name]
	return t, ok
}

// All returns every target, sorted by name.
func All() []*Target {
	out := make([]*Target, 0, len(registry))
	for _, t := range registry {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns every target name, sorted.
func Names() []string {
	var out []string
	for _, t := range All() {
		out = append(out, t.Name)
	}
	return out
}
