package target

import (
	_ "embed"
	"fmt"
	"math"
	"math/rand/v2"

	"discover/parallel"
)

//go:embed seeds/opencl/rmsnorm.cl
var rmsnormCL string

//go:embed seeds/cuda/rmsnorm.cu
var rmsnormCU string

// rmsnormEps is the epsilon inside the square root.
const rmsnormEps = 1e-6

func init() {
	register(newRMSNorm("glm_rmsnorm", "GLM-4.7-Flash", 2048))
	register(newRMSNorm("rmsnorm", "generic", 4096))
}

// newRMSNorm is RMSNorm over rows of width d with eps 1e-6.
//
// Kernel arguments: x, weight, out, n_rows.
// Seed launch: one work-group per row, global B*LOCAL, local 256 (any
// work-group size up to RMS_LOCAL_MAX = 256 works).
func newRMSNorm(name, model string, d int) *Target {
	t := &Target{
		Name:        name,
		Kernel:      "rmsnorm",
		Description: fmt.Sprintf("RMSNorm (eps 1e-6) with a learned weight, D=%d", d),
		Model:       model,
		Dims:        dims("D", d),
		RowVar:      "B",
		Shapes:      decodeShapes,
		Entry:       "rmsnorm",
		Inputs: []Tensor{
			{Name: "x", DType: Float32, Shape: []string{"B", "D"}},
			{Name: "weight", DType: Float32, Shape: []string{"D"}},
		},
		Outputs: []Tensor{
			{Name: "out", DType: Float32, Shape: []string{"B", "D"}},
		},
		// One float32 sum of D squares per row (error ~ log2(D)..sqrt(D) ulp
		// depending on the reduction order) scales the whole row, plus an
		// rsqrt of a few ulp: looser rtol than elementwise kernels.
		Tolerance: Tolerance{Atol: 1e-5, Rtol: 1e-4},
		Math: "out[b,j] = x[b,j] / sqrt(mean_j(x[b,:]^2) + 1e-6) * weight[j]\n" +
			"mean over the D elements of row b; for b < B (rows), j < D; all float32",
		Seeds: seeds(rmsnormCL, rmsnormCU, 256, "B*LOCAL"),
	}
	t.Generate = func(rows int, seed int64, dist Distribution) [][]float32 {
		g := newInputGen(t.Kernel, seed, dist)
		x := g.fill(rows*d, func(r *rand.Rand) float64 { return draw(r, dist) })
		// Weights are learned scales: drawn like the activations, except
		// that Large stresses the activations only.
		wdist := dist
		if dist == Large {
			wdist = Normal
		}
		w := g.fill(d, func(r *rand.Rand) float64 { return draw(r, wdist) })
		return [][]float32{x, w}
	}
	t.Reference = func(rows int, in [][]float32) [][]float64 {
		t.checkInputs(rows, in)
		x, w := in[0], in[1]
		out := make([]float64, rows*d)
		parallel.For(rows, rowChunk(d), func(lo, hi int) {
			for b := lo; b < hi; b++ {
				row := x[b*d : (b+1)*d]
				ss := 0.0
				for _, v := range row {
					ss += float64(v) * float64(v)
				}
				rms := math.Sqrt(ss/float64(d) + rmsnormEps)
				for j, v := range row {
					out[b*d+j] = float64(v) / rms * float64(w[j])
				}
			}
		})
		return [][]float64{out}
	}
	t.Bytes = func(rows int) int64 { return (2*int64(rows)*int64(d) + int64(d)) * 4 }
	return t
}
