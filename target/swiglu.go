package target

import (
	_ "embed"
	"fmt"
	"math"
	"math/rand/v2"

	"discover/parallel"
)

//go:embed seeds/opencl/swiglu.cl
var swigluCL string

//go:embed seeds/cuda/swiglu.cu
var swigluCU string

func init() {
	register(newSwiGLU("glm_fused_swiglu", "GLM-4.7-Flash", 1536))
	register(newSwiGLU("fused_swiglu", "generic", 4096))
}

// newSwiGLU is the fused SwiGLU activation out = silu(gate) * up at width d.
//
// Kernel arguments: gate, up, out, n_rows.
// Seed launch: one work-item per element, global B*D, local 256.
func newSwiGLU(name, model string, d int) *Target {
	t := &Target{
		Name:        name,
		Kernel:      "swiglu",
		Description: fmt.Sprintf("fused SwiGLU activation silu(gate)*up, D=%d", d),
		Model:       model,
		Dims:        dims("D", d),
		RowVar:      "B",
		Shapes:      decodeShapes,
		Entry:       "swiglu",
		Inputs: []Tensor{
			{Name: "gate", DType: Float32, Shape: []string{"B", "D"}},
			{Name: "up", DType: Float32, Shape: []string{"B", "D"}},
		},
		Outputs: []Tensor{
			{Name: "out", DType: Float32, Shape: []string{"B", "D"}},
		},
		// Elementwise: a handful of correctly-rounded-ish float32 ops per
		// element (exp, add, divide, multiply) stay within a few ulp.
		Tolerance: Tolerance{Atol: 1e-5, Rtol: 1e-5},
		Math: "out[b,d] = silu(gate[b,d]) * up[b,d]\n" +
			"silu(x) = x * sigmoid(x) = x / (1 + exp(-x))\n" +
			"for b < B (rows), d < D; all float32",
		Seeds: seeds(swigluCL, swigluCU, 256, "B*D"),
	}
	t.Generate = func(rows int, seed int64, dist Distribution) [][]float32 {
		g := newInputGen(t.Kernel, seed, dist)
		f := func(r *rand.Rand) float64 { return draw(r, dist) }
		gate := g.fill(rows*d, f)
		up := g.fill(rows*d, f)
		return [][]float32{gate, up}
	}
	t.Reference = func(rows int, in [][]float32) [][]float64 {
		t.checkInputs(rows, in)
		gate, up := in[0], in[1]
		out := make([]float64, rows*d)
		parallel.For(len(out), parChunk, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				g := float64(gate[i])
				out[i] = g / (1 + math.Exp(-g)) * float64(up[i])
			}
		})
		return [][]float64{out}
	}
	t.Bytes = func(rows int) int64 { return 3 * int64(rows) * int64(d) * 4 }
	return t
}
