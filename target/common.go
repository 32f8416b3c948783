package target

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"discover/device"
)

// Test shapes shared by the seed targets: decode row counts plus one large
// count for bandwidth.
var (
	decodeShapes = []int{1, 4, 16, 4096}
	tttShapes    = []int{2, 8, 32}
)

// newRand returns the generator for one Generate call: a PCG seeded from
// seed, on a stream picked by the target family and the distribution, so the
// same (rows, seed, dist) always gives the same inputs.
func newRand(family string, seed int64, dist Distribution) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(family))
	h.Write([]byte{0})
	h.Write([]byte(dist))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// draw returns one value of the distribution: Normal is N(0,1), Uniform is
// U(-1,1), Large has a random sign and a magnitude uniform in [1e3, 1e4).
func draw(r *rand.Rand, dist Distribution) float64 {
	switch dist {
	case Normal:
		return r.NormFloat64()
	case Uniform:
		return 2*r.Float64() - 1
	case Large:
		m := 1e3 + 9e3*r.Float64() // magnitudes 1e3..1e4
		if r.IntN(2) == 0 {
			return -m
		}
		return m
	default:
		panic(fmt.Sprintf("target: unknown distribution %q", dist))
	}
}

// fillWith returns n values drawn by f.
func fillWith(n int, f func() float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(f())
	}
	return out
}

// dims builds a Dim list from name/value pairs.
func dims(kv ...any) []Dim {
	var out []Dim
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, Dim{Name: kv[i].(string), Value: kv[i+1].(int)})
	}
	return out
}

// dim returns the value of the named dim; it panics if there is none.
func (t *Target) dim(name string) int {
	for _, d := range t.Dims {
		if d.Name == name {
			return d.Value
		}
	}
	panic(fmt.Sprintf("target %s: no dim %q", t.Name, name))
}

// seeds returns the OpenCL and CUDA seeds of a family, which share one
// launch rule.
func seeds(cl, cu string, local int, global ...string) map[device.Dialect]Seed {
	l := [3]int{local, 1, 1}
	return map[device.Dialect]Seed{
		device.OpenCL: {Source: cl, Local: l, Global: global},
		device.CUDA:   {Source: cu, Local: l, Global: global},
	}
}

// tensorBytes is the traffic of reading every input once and writing every
// output once at `rows` rows (4-byte elements).
func (t *Target) tensorBytes(rows int) int64 {
	var n int64
	for _, tn := range t.Inputs {
		n += int64(t.Elements(tn, rows))
	}
	for _, tn := range t.Outputs {
		n += int64(t.Elements(tn, rows))
	}
	return 4 * n
}

// checkInputs panics unless inputs match the target's Inputs at `rows` rows;
// references call it so a caller's mistake is loud rather than a wrong number.
func (t *Target) checkInputs(rows int, inputs [][]float32) {
	if len(inputs) != len(t.Inputs) {
		panic(fmt.Sprintf("target %s: %d inputs, want %d", t.Name, len(inputs), len(t.Inputs)))
	}
	for i, tn := range t.Inputs {
		if want := t.Elements(tn, rows); len(inputs[i]) != want {
			panic(fmt.Sprintf("target %s: input %s has %d elements, want %d", t.Name, tn.Name, len(inputs[i]), want))
		}
	}
}
