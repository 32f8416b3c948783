package target

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"discover/device"
	"discover/parallel"
)

// Test shapes shared by the seed targets: decode row counts plus one large
// count for bandwidth.
var (
	decodeShapes = []int{1, 4, 16, 4096}
	tttShapes    = []int{2, 8, 32}
)

// parChunk is the element count of one unit of parallel work: big enough
// that handing it to a goroutine costs nothing next to computing it, small
// enough that the large shapes (16M elements) spread over every core.
// Generate keys its random streams by chunk, so changing it changes the
// generated inputs.
const parChunk = 1 << 16

// rowChunk is the number of rows of `width` elements in about one parChunk.
func rowChunk(width int) int { return max(1, parChunk/width) }

// inputGen draws the tensors of one Generate call, in Inputs order. Chunk c
// of tensor t comes from its own PCG stream, keyed by (family, dist, seed,
// t, c), so chunks fill in parallel and the same (rows, seed, dist) gives
// the same inputs on any number of cores.
type inputGen struct {
	key    uint64 // family, dist and seed, hashed
	tensor uint64 // index of the next tensor
}

func newInputGen(family string, seed int64, dist Distribution) *inputGen {
	h := fnv.New64a()
	h.Write([]byte(family))
	h.Write([]byte{0})
	h.Write([]byte(dist))
	return &inputGen{key: splitmix64(h.Sum64() ^ splitmix64(uint64(seed)))}
}

// splitmix64 is the SplitMix64 output function, a bijective mixer: nearby
// keys (consecutive chunks) give unrelated PCG states.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// fill returns the next tensor: n values drawn by f.
func (g *inputGen) fill(n int, f func(r *rand.Rand) float64) []float32 {
	return g.fillRows(n, 1, parChunk, func(r *rand.Rand, dst []float32) {
		for i := range dst {
			dst[i] = float32(f(r))
		}
	})
}

// fillRows returns the next tensor, rows rows of width values, for draws
// made a row at a time: fill gets chunks of `per` whole rows (fewer in the
// last chunk), each with its own stream.
func (g *inputGen) fillRows(rows, width, per int, fill func(r *rand.Rand, dst []float32)) []float32 {
	t := g.tensor
	g.tensor++
	out := make([]float32, rows*width)
	parallel.For(rows, per, func(lo, hi int) {
		s := splitmix64(g.key ^ t<<32 ^ uint64(lo/per))
		fill(rand.New(rand.NewPCG(s, splitmix64(s))), out[lo*width:hi*width])
	})
	return out
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
