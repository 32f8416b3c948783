package target

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"
)

func withProcs[T any](p int, f func() T) T {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(p))
	return f()
}

// sameBits reports whether a and b are bit-identical (so -0 != 0).
func sameBits[T float32 | float64](a, b []T) bool {
	return slices.EqualFunc(a, b, func(x, y T) bool {
		return math.Float64bits(float64(x)) == math.Float64bits(float64(y))
	})
}

// TestParallelDeterminism: Generate and Reference give bit-identical results
// on one core (sequential: parallelFor runs inline) and on four, at a row
// count that spans several chunks, the last one partial.
func TestParallelDeterminism(t *testing.T) {
	const rows = 100
	for _, tg := range All() {
		t.Run(tg.Name, func(t *testing.T) {
			for _, dist := range Distributions {
				gen := func() [][]float32 { return tg.Generate(rows, 5, dist) }
				in1, in4 := withProcs(1, gen), withProcs(4, gen)
				for i, tn := range tg.Inputs {
					if !sameBits(in1[i], in4[i]) {
						t.Errorf("%s: input %s differs between GOMAXPROCS 1 and 4", dist, tn.Name)
					}
				}
				ref := func() [][]float64 { return tg.Reference(rows, in1) }
				ref1, ref4 := withProcs(1, ref), withProcs(4, ref)
				for i, tn := range tg.Outputs {
					if !sameBits(ref1[i], ref4[i]) {
						t.Errorf("%s: output %s differs between GOMAXPROCS 1 and 4", dist, tn.Name)
					}
				}
			}
		})
	}
}

// TestGenerateStreams: chunks and tensors draw from distinct streams (a key
// that ignored the chunk or tensor index would repeat values), and the
// values keep their distributions across chunks.
func TestGenerateStreams(t *testing.T) {
	tg, _ := Lookup("fused_swiglu") // two [B, 4096] inputs
	const rows = 64                 // 4 chunks per tensor
	for _, dist := range Distributions {
		in := tg.Generate(rows, 11, dist)
		gate, up := in[0], in[1]
		if slices.Equal(gate[:parChunk], gate[parChunk:2*parChunk]) || slices.Equal(gate[:parChunk], up[:parChunk]) {
			t.Errorf("%s: chunks or tensors repeat", dist)
		}
		var sum, sq float64
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range slices.Concat(gate, up) {
			v := float64(x)
			sum += v
			sq += v * v
			lo, hi = min(lo, math.Abs(v)), max(hi, math.Abs(v))
		}
		n := float64(2 * len(gate))
		mean, meanSq := sum/n, sq/n
		switch dist {
		case Normal: // N(0,1)
			if math.Abs(mean) > 0.01 || math.Abs(meanSq-1) > 0.01 {
				t.Errorf("normal: mean %g, E[x^2] %g", mean, meanSq)
			}
		case Uniform: // U(-1,1): E[x^2] = 1/3
			if hi > 1 || math.Abs(mean) > 0.01 || math.Abs(meanSq-1.0/3) > 0.01 {
				t.Errorf("uniform: max |x| %g, mean %g, E[x^2] %g", hi, mean, meanSq)
			}
		case Large: // +-[1e3, 1e4): E[x^2] = 3.7e7
			if lo < 1e3 || hi > 1e4 || math.Abs(mean) > 50 || math.Abs(meanSq/3.7e7-1) > 0.01 {
				t.Errorf("large: |x| in [%g, %g], mean %g, E[x^2] %g", lo, hi, mean, meanSq)
			}
		}
	}
}

// BenchmarkGenerate and BenchmarkReference time the large shape, where the
// evaluator spends its CPU time.
func BenchmarkGenerate(b *testing.B) {
	for _, name := range []string{"fused_swiglu", "rmsnorm", "moe_combine", "glm_topk_gating"} {
		tg, _ := Lookup(name)
		rows := tg.Shapes[len(tg.Shapes)-1]
		b.Run(fmt.Sprintf("%s/rows=%d", name, rows), func(b *testing.B) {
			for b.Loop() {
				tg.Generate(rows, 1, Normal)
			}
		})
	}
}

func BenchmarkReference(b *testing.B) {
	for _, name := range []string{"fused_swiglu", "rmsnorm", "moe_combine", "glm_topk_gating"} {
		tg, _ := Lookup(name)
		rows := tg.Shapes[len(tg.Shapes)-1]
		in := tg.Generate(rows, 1, Normal)
		b.Run(fmt.Sprintf("%s/rows=%d", name, rows), func(b *testing.B) {
			for b.Loop() {
				tg.Reference(rows, in)
			}
		})
	}
}
