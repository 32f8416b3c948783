package target

import (
	_ "embed"
	"fmt"
	"math/rand/v2"

	"discover/parallel"
)

//go:embed seeds/opencl/moe_combine.cl
var moeCombineCL string

//go:embed seeds/cuda/moe_combine.cu
var moeCombineCU string

func init() {
	register(newMoECombine("glm_moe_combine", "GLM-4.7-Flash", 2048, 4))
	register(newMoECombine("moe_combine", "generic", 4096, 2))
}

// newMoECombine is the weighted sum of the K selected experts' outputs,
// width d.
//
// Kernel arguments: expert_outputs, weights, out, n_rows.
// Seed launch: one work-item per output element, global B*D, local 256.
func newMoECombine(name, model string, d, k int) *Target {
	t := &Target{
		Name:        name,
		Kernel:      "moe_combine",
		Description: fmt.Sprintf("MoE combine: routing-weighted sum of %d expert outputs, D=%d", k, d),
		Model:       model,
		Dims:        dims("D", d, "K", k),
		RowVar:      "B",
		Shapes:      decodeShapes,
		Entry:       "moe_combine",
		Inputs: []Tensor{
			{Name: "expert_outputs", DType: Float32, Shape: []string{"B", "K", "D"}},
			{Name: "weights", DType: Float32, Shape: []string{"B", "K"}},
		},
		Outputs: []Tensor{
			{Name: "out", DType: Float32, Shape: []string{"B", "D"}},
		},
		// K products summed in float32: a few ulp of the largest term;
		// atol (scaled by max|out|) covers cancellation between terms.
		Tolerance: Tolerance{Atol: 1e-5, Rtol: 1e-5},
		Math: "out[b,d] = sum_{k<K} weights[b,k] * expert_outputs[b,k,d]\n" +
			"for b < B (rows), d < D; accumulate in float32 at least",
		Seeds: seeds(moeCombineCL, moeCombineCU, 256, "B*D"),
	}
	t.Generate = func(rows int, seed int64, dist Distribution) [][]float32 {
		g := newInputGen(t.Kernel, seed, dist)
		eo := g.fill(rows*k*d, func(r *rand.Rand) float64 { return draw(r, dist) })
		// Routing weights: drawn like the experts' outputs, except that
		// Large stresses the experts' outputs only.
		wdist := dist
		if dist == Large {
			wdist = Normal
		}
		w := g.fill(rows*k, func(r *rand.Rand) float64 { return draw(r, wdist) })
		return [][]float32{eo, w}
	}
	t.Reference = func(rows int, in [][]float32) [][]float64 {
		t.checkInputs(rows, in)
		eo, w := in[0], in[1]
		out := make([]float64, rows*d)
		parallel.For(rows, rowChunk(k*d), func(lo, hi int) {
			for b := lo; b < hi; b++ {
				for kk := 0; kk < k; kk++ {
					wk := float64(w[b*k+kk])
					e := eo[(b*k+kk)*d : (b*k+kk+1)*d]
					for j, v := range e {
						out[b*d+j] += wk * float64(v)
					}
				}
			}
		})
		return [][]float64{out}
	}
	t.Bytes = func(rows int) int64 {
		b, kk, dd := int64(rows), int64(k), int64(d)
		return (b*kk*dd + b*kk + b*dd) * 4
	}
	return t
}
