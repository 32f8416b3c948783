package target

import (
	_ "embed"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"discover/parallel"
)

//go:embed seeds/opencl/topk_gating.cl
var topkGatingCL string

//go:embed seeds/cuda/topk_gating.cu
var topkGatingCU string

func init() {
	register(newTopKGating("glm_topk_gating", "GLM-4.7-Flash", 64, 4))
	register(newTopKGating("topk_gating", "generic", 8, 2))
}

// newTopKGating is MoE routing: the k largest of e logits per row, in
// descending order, with a softmax over those k values.
//
// Kernel arguments: logits, weights, indices, n_rows.
// Seed launch: one work-group per row, global B*LOCAL, local 64 (any
// work-group size works: each work-item ranks logits i = lid, lid+LOCAL, ...).
func newTopKGating(name, model string, e, k int) *Target {
	t := &Target{
		Name:        name,
		Kernel:      "topk_gating",
		Description: fmt.Sprintf("MoE top-%d gating over %d experts, softmax over the selected logits", k, e),
		Model:       model,
		Dims:        dims("E", e, "K", k),
		RowVar:      "B",
		Shapes:      decodeShapes,
		Entry:       "topk_gating",
		Inputs: []Tensor{
			{Name: "logits", DType: Float32, Shape: []string{"B", "E"}},
		},
		Outputs: []Tensor{
			{Name: "weights", DType: Float32, Shape: []string{"B", "K"}},
			{Name: "indices", DType: Uint32, Shape: []string{"B", "K"}},
		},
		// Indices are exact. Weights: a softmax over K values (exp, sum,
		// divide), a few ulp; the atol is relative to max weight >= 1/K.
		Tolerance: Tolerance{Atol: 1e-5, Rtol: 1e-4},
		Math: "indices[b,0..K-1] = the indices of the K largest logits[b,0..E-1], in descending order of logit\n" +
			"v[k] = logits[b, indices[b,k]]\n" +
			"weights[b,k] = exp(v[k] - v[0]) / sum_{j<K} exp(v[j] - v[0])   (softmax over the K selected only)\n" +
			"for b < B (rows); weights float32, indices uint32; inputs have no ties",
		Seeds: seeds(topkGatingCL, topkGatingCU, 64, "B*LOCAL"),
	}
	t.Generate = func(rows int, seed int64, dist Distribution) [][]float32 {
		g := newInputGen(t.Kernel, seed, dist)
		logits := g.fillRows(rows, e, topkChunkRows, func(r *rand.Rand, dst []float32) {
			for o := 0; o < len(dst); o += e {
				topkRow(r, dist, dst[o:o+e])
			}
		})
		return [][]float32{logits}
	}
	t.Reference = func(rows int, in [][]float32) [][]float64 {
		t.checkInputs(rows, in)
		logits := in[0]
		weights := make([]float64, rows*k)
		indices := make([]float64, rows*k)
		parallel.For(rows, topkChunkRows, func(lo, hi int) {
			order := make([]int, e)
			for b := lo; b < hi; b++ {
				row := logits[b*e : (b+1)*e]
				for i := range order {
					order[i] = i
				}
				// Descending by value; equal values (never generated) by index.
				slices.SortStableFunc(order, func(i, j int) int {
					switch {
					case row[i] > row[j]:
						return -1
					case row[i] < row[j]:
						return 1
					}
					return 0
				})
				top := float64(row[order[0]])
				sum := 0.0
				for kk := 0; kk < k; kk++ {
					sum += math.Exp(float64(row[order[kk]]) - top)
				}
				for kk := 0; kk < k; kk++ {
					indices[b*k+kk] = float64(order[kk])
					weights[b*k+kk] = math.Exp(float64(row[order[kk]])-top) / sum
				}
			}
		})
		return [][]float64{weights, indices}
	}
	t.Bytes = func(rows int) int64 {
		b := int64(rows)
		return (b*int64(e) + 2*b*int64(k)) * 4
	}
	return t
}

// topkChunkRows is the rows per chunk of Generate's streams and of the
// reference's parallel work: a row costs a sort and e quantiles, far more
// than an element of the elementwise targets, so chunks are counted in rows.
const topkChunkRows = 64

// topkRow fills row with e = len(row) logits with no ties: stratified
// values (a random permutation of e strata, each value placed in the middle half of
// its stratum), mapped through the distribution's quantile. Adjacent values
// are therefore at least half a stratum apart, far above float32 rounding.
//
//   - Uniform: in (-1, 1), gaps >= 1/e.
//   - Normal: standard normal quantiles, gaps >= ~1.25/e.
//   - Large: a row offset of magnitude 1e3..1e4 plus 10x normal quantiles,
//     so a softmax that does not subtract the maximum overflows.
func topkRow(r *rand.Rand, dist Distribution, row []float32) {
	e := len(row)
	for {
		perm := r.Perm(e)
		offset, spread := 0.0, 1.0
		if dist == Large {
			offset, spread = draw(r, Large), 10
		}
		for i, s := range perm {
			p := (float64(s) + 0.25 + 0.5*r.Float64()) / float64(e)
			var v float64
			switch dist {
			case Uniform:
				v = 2*p - 1
			case Normal, Large:
				v = math.Sqrt2 * math.Erfinv(2*p-1)
			default:
				panic(fmt.Sprintf("target: unknown distribution %q", dist))
			}
			row[i] = float32(offset + spread*v)
		}
		if topkMinGap(row) >= 1e-3*spread {
			return
		}
	}
}

// topkMinGap is the smallest difference between two values of row.
func topkMinGap(row []float32) float64 {
	s := slices.Clone(row)
	slices.Sort(s)
	gap := math.Inf(1)
	for i := 1; i < len(s); i++ {
		gap = math.Min(gap, float64(s[i])-float64(s[i-1]))
	}
	return gap
}
