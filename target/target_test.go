package target

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"discover/device"
)

// within reports whether got passes the evaluator's rule against ref:
// |got-ref| <= atol*max|ref| + rtol*|ref|, finite.
func within(got []float32, ref []float64, tol Tolerance) (bool, string) {
	scale := 0.0
	for _, r := range ref {
		scale = math.Max(scale, math.Abs(r))
	}
	worst, at := 0.0, -1
	for i, r := range ref {
		x := float64(got[i])
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false, fmt.Sprintf("[%d] = %g", i, x)
		}
		lim := tol.Atol*scale + tol.Rtol*math.Abs(r)
		if e := math.Abs(x - r); lim > 0 && e/lim > worst {
			worst, at = e/lim, i
		}
	}
	if worst > 1 {
		return false, fmt.Sprintf("[%d] = %g, want %g (%.2fx the tolerance)", at, got[at], ref[at], worst)
	}
	return true, fmt.Sprintf("worst %.3g of the tolerance", worst)
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

var wantTargets = []struct {
	name, kernel, model string
	dims                []Dim
}{
	{"glm_fused_swiglu", "swiglu", "GLM-4.7-Flash", []Dim{{"D", 1536}}},
	{"glm_rmsnorm", "rmsnorm", "GLM-4.7-Flash", []Dim{{"D", 2048}}},
	{"glm_moe_combine", "moe_combine", "GLM-4.7-Flash", []Dim{{"D", 2048}, {"K", 4}}},
	{"glm_topk_gating", "topk_gating", "GLM-4.7-Flash", []Dim{{"E", 64}, {"K", 4}}},
	{"fused_swiglu", "swiglu", "generic", []Dim{{"D", 4096}}},
	{"rmsnorm", "rmsnorm", "generic", []Dim{{"D", 4096}}},
	{"moe_combine", "moe_combine", "generic", []Dim{{"D", 4096}, {"K", 2}}},
	{"topk_gating", "topk_gating", "generic", []Dim{{"E", 8}, {"K", 2}}},
	{"ttt_linear_decode", "ttt_linear_decode", "TTT", []Dim{{"F", 64}}},
}

func TestRegistry(t *testing.T) {
	if got := len(All()); got != len(wantTargets) {
		t.Errorf("%d targets registered, want %d: %v", got, len(wantTargets), Names())
	}
	for _, w := range wantTargets {
		t.Run(w.name, func(t *testing.T) {
			tg, ok := Lookup(w.name)
			if !ok {
				t.Fatalf("not registered")
			}
			if tg.Kernel != w.kernel || tg.Entry != w.kernel || tg.Model != w.model {
				t.Errorf("kernel %q entry %q model %q, want %q %q %q", tg.Kernel, tg.Entry, tg.Model, w.kernel, w.kernel, w.model)
			}
			if !slices.Equal(tg.Dims, w.dims) {
				t.Errorf("dims %v, want %v", tg.Dims, w.dims)
			}
			wantRow, wantShapes := "B", []int{1, 4, 16, 4096}
			if w.kernel == "ttt_linear_decode" {
				wantRow, wantShapes = "R", []int{2, 8, 32}
			}
			if tg.RowVar != wantRow || !slices.Equal(tg.Shapes, wantShapes) {
				t.Errorf("row var %q shapes %v, want %q %v", tg.RowVar, tg.Shapes, wantRow, wantShapes)
			}
		})
	}
	if !slices.IsSorted(Names()) {
		t.Errorf("Names not sorted: %v", Names())
	}
}

func TestElementsLiteral(t *testing.T) {
	tg, _ := Lookup("ttt_linear_decode")
	if n := tg.Elements(Tensor{Name: "token_idx", Shape: []string{"1"}}, 8); n != 1 {
		t.Errorf("Elements({1}) = %d, want 1", n)
	}
	if n := tg.Elements(Tensor{Name: "c", Shape: []string{"R", "3", "F"}}, 8); n != 8*3*64 {
		t.Errorf("Elements({R,3,F}) = %d, want %d", n, 8*3*64)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Elements with an unknown symbol did not panic")
		}
	}()
	tg.Elements(Tensor{Name: "bad", Shape: []string{"Q"}}, 8)
}

// TestTargets checks the contract every target owes the evaluator.
func TestTargets(t *testing.T) {
	for _, tg := range All() {
		t.Run(tg.Name, func(t *testing.T) {
			if strings.TrimSpace(tg.Math) == "" || tg.Description == "" {
				t.Errorf("empty math or description")
			}
			if tg.Tolerance.Atol <= 0 || tg.Tolerance.Rtol <= 0 || tg.Tolerance.Atol > 1e-3 || tg.Tolerance.Rtol > 1e-2 {
				t.Errorf("implausible tolerance %+v", tg.Tolerance)
			}
			if got := tg.Dialects(); !slices.Equal(got, []device.Dialect{device.CUDA, device.OpenCL}) {
				t.Errorf("dialects %v, want cuda and opencl", got)
			}
			for dl, s := range tg.Seeds {
				if !strings.Contains(s.Source, "void "+tg.Entry+"(") {
					t.Errorf("%s seed has no entry %q", dl, tg.Entry)
				}
				if s.Local[0] <= 0 || s.Local[1] != 1 || s.Local[2] != 1 || len(s.Global) == 0 {
					t.Errorf("%s seed launch local %v global %v", dl, s.Local, s.Global)
				}
				if dl == device.CUDA && (strings.Contains(s.Source, "#include") || !strings.Contains(s.Source, `extern "C" __global__`)) {
					t.Errorf("cuda seed must be extern \"C\" __global__ and include nothing")
				}
				if dl == device.OpenCL && !strings.Contains(s.Source, "__kernel void "+tg.Entry) {
					t.Errorf("opencl seed has no __kernel %s", tg.Entry)
				}
				for _, tn := range append(slices.Clone(tg.Inputs), tg.Outputs...) {
					if !strings.Contains(s.Source, tn.Name) {
						t.Errorf("%s seed does not name argument %s", dl, tn.Name)
					}
				}
				if !strings.Contains(s.Source, "n_rows") {
					t.Errorf("%s seed has no n_rows", dl)
				}
			}
			for _, tn := range tg.Inputs {
				if tn.DType != Float32 {
					t.Errorf("input %s is %s", tn.Name, tn.DType)
				}
			}
			for _, rows := range tg.Shapes[:len(tg.Shapes)-1] {
				if got, want := tg.Bytes(rows), tg.tensorBytes(rows); got != want {
					t.Errorf("Bytes(%d) = %d, want every tensor once = %d", rows, got, want)
				}
				for _, dist := range Distributions {
					in := tg.Generate(rows, 7, dist)
					if len(in) != len(tg.Inputs) {
						t.Fatalf("Generate gave %d inputs, want %d", len(in), len(tg.Inputs))
					}
					for i, tn := range tg.Inputs {
						if len(in[i]) != tg.Elements(tn, rows) {
							t.Errorf("%s rows=%d: input %s has %d elements, want %d", dist, rows, tn.Name, len(in[i]), tg.Elements(tn, rows))
						}
						for _, v := range in[i] {
							if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
								t.Fatalf("%s: input %s not finite", dist, tn.Name)
							}
						}
					}
					again := tg.Generate(rows, 7, dist)
					other := tg.Generate(rows, 8, dist)
					same, differs := true, false
					for i := range in {
						same = same && slices.Equal(in[i], again[i])
						differs = differs || !slices.Equal(in[i], other[i])
					}
					if !same {
						t.Errorf("%s rows=%d: Generate not deterministic", dist, rows)
					}
					if !differs {
						t.Errorf("%s rows=%d: seeds 7 and 8 give the same inputs", dist, rows)
					}
					ref := tg.Reference(rows, in)
					if len(ref) != len(tg.Outputs) {
						t.Fatalf("Reference gave %d outputs, want %d", len(ref), len(tg.Outputs))
					}
					for i, tn := range tg.Outputs {
						if len(ref[i]) != tg.Elements(tn, rows) {
							t.Errorf("%s rows=%d: output %s has %d elements, want %d", dist, rows, tn.Name, len(ref[i]), tg.Elements(tn, rows))
						}
						for _, v := range ref[i] {
							if math.IsNaN(v) || math.Abs(v) > 1e30 || (tn.DType == Uint32 && (v != math.Trunc(v) || v < 0)) {
								t.Fatalf("%s: output %s has %g", dist, tn.Name, v)
							}
						}
					}
				}
			}
			// The large shape is only sized, not computed, here.
			big := tg.Shapes[len(tg.Shapes)-1]
			if got, want := tg.Bytes(big), tg.tensorBytes(big); got != want {
				t.Errorf("Bytes(%d) = %d, want %d", big, got, want)
			}
		})
	}
}

func TestBytesFormulas(t *testing.T) {
	cases := []struct {
		name string
		rows int
		want int64
	}{
		{"glm_fused_swiglu", 4, 3 * 4 * 1536 * 4},
		{"rmsnorm", 16, (2*16*4096 + 4096) * 4},
		{"glm_moe_combine", 4, (4*4*2048 + 4*4 + 4*2048) * 4},
		{"topk_gating", 16, (16*8 + 2*16*2) * 4},
		{"ttt_linear_decode", 8, (4*8*64*64 + 10*8*64 + 8 + 1) * 4},
	}
	for _, c := range cases {
		tg, _ := Lookup(c.name)
		if got := tg.Bytes(c.rows); got != c.want {
			t.Errorf("%s Bytes(%d) = %d, want %d", c.name, c.rows, got, c.want)
		}
	}
}

func TestSwiGLUReference(t *testing.T) {
	tg, _ := Lookup("glm_fused_swiglu")
	d := 1536
	gate, up := make([]float32, d), make([]float32, d)
	gate[0], up[0] = 1, 2
	gate[1], up[1] = -1, 1
	gate[2], up[2] = 0, 5
	gate[3], up[3] = -1e4, 3 // exp overflows: silu -> -0
	gate[4], up[4] = 1e4, 3
	out := tg.Reference(1, [][]float32{gate, up})[0]
	want := []float64{2 / (1 + math.Exp(-1)), -1 / (1 + math.E), 0, 0, 3e4}
	for i, w := range want {
		if !near(out[i], w, 1e-15) {
			t.Errorf("out[%d] = %g, want %g", i, out[i], w)
		}
	}
	if !near(out[0], 1.4621171572600098, 1e-15) {
		t.Errorf("silu(1)*2 = %.17g", out[0])
	}
}

func TestRMSNormReference(t *testing.T) {
	for _, name := range []string{"glm_rmsnorm", "rmsnorm"} {
		t.Run(name, func(t *testing.T) {
			tg, _ := Lookup(name)
			d := tg.dim("D")
			x, w := make([]float32, 2*d), make([]float32, d)
			for j := range w {
				w[j] = float32(j%7) - 3
				x[j] = 3 // row 0: constant -> out = weight (up to eps)
				x[d+j] = 2
				if j%2 == 1 {
					x[d+j] = -2 // row 1: +-2 -> out = +-weight
				}
			}
			out := tg.Reference(2, [][]float32{x, w})[0]
			for j := range w {
				if !near(out[j], float64(w[j]), 1e-7) {
					t.Fatalf("constant row: out[%d] = %g, want weight %g", j, out[j], w[j])
				}
				want := float64(x[d+j]) / math.Sqrt(4+1e-6) * float64(w[j])
				if !near(out[d+j], want, 1e-15) {
					t.Fatalf("+-2 row: out[%d] = %g, want %g", j, out[d+j], want)
				}
			}
		})
	}
}

func TestMoECombineReference(t *testing.T) {
	for _, name := range []string{"glm_moe_combine", "moe_combine"} {
		t.Run(name, func(t *testing.T) {
			tg, _ := Lookup(name)
			d, k := tg.dim("D"), tg.dim("K")
			rows := 3
			in := tg.Generate(rows, 1, Normal)
			eo, w := in[0], in[1]
			for b := 0; b < rows; b++ { // row b: one-hot on expert b%K
				for kk := 0; kk < k; kk++ {
					w[b*k+kk] = 0
				}
				w[b*k+b%k] = 1
			}
			clear(w[2*k : 3*k])
			w[2*k+0], w[2*k+1] = 0.25, 0.5 // row 2: a mix of two
			out := tg.Reference(rows, in)[0]
			for b := 0; b < 2; b++ {
				for j := 0; j < d; j++ {
					if out[b*d+j] != float64(eo[(b*k+b%k)*d+j]) {
						t.Fatalf("one-hot row %d: out[%d] = %g, want expert %d's %g", b, j, out[b*d+j], b%k, eo[(b*k+b%k)*d+j])
					}
				}
			}
			for j := 0; j < d; j++ {
				want := 0.25*float64(eo[(2*k)*d+j]) + 0.5*float64(eo[(2*k+1)*d+j])
				if !near(out[2*d+j], want, 1e-15) {
					t.Fatalf("mixed row: out[%d] = %g, want %g", j, out[2*d+j], want)
				}
			}
		})
	}
}

func TestTopKGatingReference(t *testing.T) {
	tg, _ := Lookup("topk_gating") // E=8, K=2
	logits := []float32{0.5, -1, 3, 2, 0, 1.5, -2, 2.5}
	ref := tg.Reference(1, [][]float32{logits})
	w, idx := ref[0], ref[1]
	if !slices.Equal(idx, []float64{2, 7}) {
		t.Errorf("indices %v, want [2 7]", idx)
	}
	// softmax over {3, 2.5}: 1/(1+e^-0.5), e^-0.5/(1+e^-0.5)
	w0 := 1 / (1 + math.Exp(-0.5))
	if !near(w[0], w0, 1e-15) || !near(w[1], 1-w0, 1e-15) {
		t.Errorf("weights %v, want [%g %g]", w, w0, 1-w0)
	}

	glm, _ := Lookup("glm_topk_gating") // E=64, K=4
	row := make([]float32, 64)
	for i := range row {
		row[i] = float32(-i) // descending already: top 4 are 0,1,2,3
	}
	row[40], row[17] = 10, 9 // then 40, 17, 0, 1
	ref = glm.Reference(1, [][]float32{row})
	if !slices.Equal(ref[1], []float64{40, 17, 0, 1}) {
		t.Errorf("indices %v, want [40 17 0 1]", ref[1])
	}
	sum := 0.0
	for _, v := range ref[0] {
		sum += v
	}
	if !near(sum, 1, 1e-15) || !near(ref[0][1]/ref[0][0], math.Exp(-1), 1e-14) || !near(ref[0][2]/ref[0][0], math.Exp(-10), 1e-14) {
		t.Errorf("weights %v", ref[0])
	}
}

// TestTopKGatingInputs: every generated row has distinct values, with a
// clear gap between the K-th and (K+1)-th largest, and the reference picks
// them in descending order with weights summing to 1.
func TestTopKGatingInputs(t *testing.T) {
	for _, name := range []string{"glm_topk_gating", "topk_gating"} {
		tg, _ := Lookup(name)
		e, k := tg.dim("E"), tg.dim("K")
		for _, dist := range Distributions {
			t.Run(name+"/"+string(dist), func(t *testing.T) {
				for seed := int64(0); seed < 200; seed++ {
					rows := 16
					logits := tg.Generate(rows, seed, dist)[0]
					ref := tg.Reference(rows, [][]float32{logits})
					for b := 0; b < rows; b++ {
						row := logits[b*e : (b+1)*e]
						s := slices.Clone(row)
						slices.Sort(s)
						slices.Reverse(s)
						for i := 1; i < e; i++ {
							if s[i] >= s[i-1] {
								t.Fatalf("seed %d row %d: tie %g", seed, b, s[i])
							}
						}
						gap := float64(s[k-1]) - float64(s[k])
						if gap < 1e-3*math.Max(1, math.Abs(float64(s[k]))*1e-3) {
							t.Fatalf("seed %d row %d: gap %g after the K-th", seed, b, gap)
						}
						sum := 0.0
						for kk := 0; kk < k; kk++ {
							i := int(ref[1][b*k+kk])
							if row[i] != s[kk] {
								t.Fatalf("seed %d row %d: pick %d is index %d (%g), want value %g", seed, b, kk, i, row[i], s[kk])
							}
							if kk > 0 && ref[0][b*k+kk] > ref[0][b*k+kk-1] {
								t.Fatalf("weights not descending")
							}
							sum += ref[0][b*k+kk]
						}
						if !near(sum, 1, 1e-12) {
							t.Fatalf("weights sum to %g", sum)
						}
					}
				}
			})
		}
	}
}

// tttInputs returns ttt inputs for `rows` rows with the given lr and
// token_idx, the rest generated.
func tttInputs(tg *Target, rows int, lr, tok float32) [][]float32 {
	in := tg.Generate(rows, 3, Normal)
	for r := range in[3] {
		in[3][r] = lr
	}
	in[4][0] = tok
	return in
}

// layerNorm64 is LN over one row, for the hand checks.
func layerNorm64(z, w, b []float64) []float64 {
	n := float64(len(z))
	mu := 0.0
	for _, v := range z {
		mu += v
	}
	mu /= n
	va := 0.0
	for _, v := range z {
		va += (v - mu) * (v - mu)
	}
	s := math.Sqrt(va/n + 1e-6)
	out := make([]float64, len(z))
	for j := range z {
		out[j] = w[j]*(z[j]-mu)/s + b[j]
	}
	return out
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func TestTTTReferenceNoLearning(t *testing.T) {
	tg, _ := Lookup("ttt_linear_decode")
	f, rows := 64, 2
	const tok = 0.25
	in := tttInputs(tg, rows, 0, tok) // lr = 0: the inner step adds nothing
	ref := tg.Reference(rows, in)
	out, Wo, bo, Wgo, bgo := ref[0], ref[1], ref[2], ref[3], ref[4]
	xq, W, b, Wg, bg, lnw, lnb := in[0], in[5], in[6], in[7], in[8], in[9], in[10]
	for i := range Wo {
		if Wgo[i] != float64(Wg[i]) || !near(Wo[i], float64(W[i])-tok*float64(Wg[i]), 1e-15) {
			t.Fatalf("W[%d]: W'=%g W_grad'=%g; want W - tok*W_grad = %g and W_grad = %g", i, Wo[i], Wgo[i], float64(W[i])-tok*float64(Wg[i]), Wg[i])
		}
	}
	for i := range bo {
		if bgo[i] != float64(bg[i]) || !near(bo[i], float64(b[i])-tok*float64(bg[i]), 1e-15) {
			t.Fatalf("b[%d]: b'=%g b_grad'=%g", i, bo[i], bgo[i])
		}
	}
	for r := 0; r < rows; r++ {
		z2 := make([]float64, f)
		for j := 0; j < f; j++ {
			z2[j] = bo[r*f+j]
			for i := 0; i < f; i++ {
				z2[j] += float64(xq[r*f+i]) * Wo[r*f*f+i*f+j]
			}
		}
		ln := layerNorm64(z2, f64(lnw[r*f:(r+1)*f]), f64(lnb[r*f:(r+1)*f]))
		for j := 0; j < f; j++ {
			if want := float64(xq[r*f+j]) + ln[j]; !near(out[r*f+j], want, 1e-12) {
				t.Fatalf("out[%d,%d] = %g, want xq + LN(xq@W'+b') = %g", r, j, out[r*f+j], want)
			}
		}
	}
}

// With W = 0 and b = 0, z = 0: s = sqrt(1e-6), zh = 0, y = ln_b, and the
// LayerNorm backward reduces to dz = (gh - mean(gh)) / s.
func TestTTTReferenceZeroWeights(t *testing.T) {
	tg, _ := Lookup("ttt_linear_decode")
	f := 64
	const lr, tok = 0.05, 0.5
	in := tttInputs(tg, 1, lr, tok)
	clear(in[5]) // W
	clear(in[6]) // b
	ref := tg.Reference(1, in)
	xk, xv, Wg, bg, lnw, lnb := in[1], in[2], in[7], in[8], in[9], in[10]
	s := math.Sqrt(1e-6)
	gh := make([]float64, f)
	mean := 0.0
	for j := range gh {
		g := float64(lnb[j]) - (float64(xv[j]) - float64(xk[j]))
		gh[j] = g * float64(lnw[j])
		mean += gh[j] / float64(f)
	}
	for j := 0; j < f; j++ {
		d := float64(float32(lr)) * (gh[j] - mean) / s
		if want := float64(bg[j]) + d; !near(ref[4][j], want, 1e-12) {
			t.Fatalf("b_grad'[%d] = %g, want %g", j, ref[4][j], want)
		}
		if want := -tok * (float64(bg[j]) + d); !near(ref[2][j], want, 1e-12) {
			t.Fatalf("b'[%d] = %g, want %g", j, ref[2][j], want)
		}
		for i := 0; i < f; i++ {
			wg := float64(Wg[i*f+j]) + float64(xk[i])*d
			if !near(ref[3][i*f+j], wg, 1e-12) || !near(ref[1][i*f+j], -tok*wg, 1e-12) {
				t.Fatalf("W_grad'/W' [%d,%d] = %g/%g, want %g/%g", i, j, ref[3][i*f+j], ref[1][i*f+j], wg, -tok*wg)
			}
		}
	}
}

// The update direction d/lr is the gradient of 0.5*||LN(z) - target||^2
// with respect to z (checked by central differences), so steps 4-6 are
// the LayerNorm backward they claim to be.
func TestTTTReferenceGradient(t *testing.T) {
	tg, _ := Lookup("ttt_linear_decode")
	f := 64
	in := tttInputs(tg, 1, 1, 0) // lr = 1: d = dz; token_idx = 0
	clear(in[8])                 // b_grad = 0, so b_grad' = d
	ref := tg.Reference(1, in)
	xk, xv, W, b, lnw, lnb := f64(in[1]), f64(in[2]), f64(in[5]), f64(in[6]), f64(in[9]), f64(in[10])
	z := make([]float64, f)
	for j := range z {
		z[j] = b[j]
		for i := 0; i < f; i++ {
			z[j] += xk[i] * W[i*f+j]
		}
	}
	loss := func(z []float64) float64 {
		y := layerNorm64(z, lnw, lnb)
		l := 0.0
		for j := range y {
			e := y[j] - (xv[j] - xk[j])
			l += 0.5 * e * e
		}
		return l
	}
	for j := 0; j < f; j++ {
		h := 1e-5
		zp, zm := slices.Clone(z), slices.Clone(z)
		zp[j] += h
		zm[j] -= h
		num := (loss(zp) - loss(zm)) / (2 * h)
		if !near(ref[4][j], num, 1e-5) {
			t.Fatalf("dz[%d] = %g, numerical gradient %g", j, ref[4][j], num)
		}
	}
}

// TestFloat32Ports runs a float32 Go port of each seed (same operations, in
// the same order per work-item, sequential sums) against the reference on
// every distribution: the tolerance must admit an honest float32 kernel,
// with room to spare for other summation orders.
func TestFloat32Ports(t *testing.T) {
	for _, tg := range All() {
		port := float32Ports[tg.Kernel]
		if port == nil {
			t.Fatalf("no float32 port for %s", tg.Kernel)
		}
		t.Run(tg.Name, func(t *testing.T) {
			for _, rows := range tg.Shapes[:len(tg.Shapes)-1] {
				for _, dist := range Distributions {
					for seed := int64(0); seed < 3; seed++ {
						in := tg.Generate(rows, seed, dist)
						got := port(tg, rows, in)
						ref := tg.Reference(rows, in)
						for i, tn := range tg.Outputs {
							if tn.DType == Uint32 {
								for e := range ref[i] {
									if float64(got[i][e]) != ref[i][e] {
										t.Fatalf("%s rows=%d seed=%d: %s[%d] = %g, want %g", dist, rows, seed, tn.Name, e, got[i][e], ref[i][e])
									}
								}
								continue
							}
							ok, msg := within(got[i], ref[i], tg.Tolerance)
							if !ok {
								t.Errorf("%s rows=%d seed=%d: %s: %s", dist, rows, seed, tn.Name, msg)
							} else if testing.Verbose() {
								t.Logf("%s rows=%d seed=%d: %s: %s", dist, rows, seed, tn.Name, msg)
							}
						}
					}
				}
			}
		})
	}
}

// float32Ports mirror the seed kernels in float32 (uint32 outputs as
// float32 of the index).
var float32Ports = map[string]func(tg *Target, rows int, in [][]float32) [][]float32{
	"swiglu": func(tg *Target, rows int, in [][]float32) [][]float32 {
		out := make([]float32, len(in[0]))
		for i, g := range in[0] {
			out[i] = g / (1 + float32(math.Exp(float64(-g)))) * in[1][i]
		}
		return [][]float32{out}
	},
	"rmsnorm": func(tg *Target, rows int, in [][]float32) [][]float32 {
		d := tg.dim("D")
		x, w := in[0], in[1]
		out := make([]float32, rows*d)
		for b := 0; b < rows; b++ {
			var acc float32
			for j := 0; j < d; j++ {
				acc += x[b*d+j] * x[b*d+j]
			}
			inv := float32(1 / math.Sqrt(float64(acc/float32(d)+1e-6)))
			for j := 0; j < d; j++ {
				out[b*d+j] = x[b*d+j] * inv * w[j]
			}
		}
		return [][]float32{out}
	},
	"moe_combine": func(tg *Target, rows int, in [][]float32) [][]float32 {
		d, k := tg.dim("D"), tg.dim("K")
		out := make([]float32, rows*d)
		for i := range out {
			b, j := i/d, i%d
			var acc float32
			for kk := 0; kk < k; kk++ {
				acc += in[1][b*k+kk] * in[0][(b*k+kk)*d+j]
			}
			out[i] = acc
		}
		return [][]float32{out}
	},
	"topk_gating": func(tg *Target, rows int, in [][]float32) [][]float32 {
		e, k := tg.dim("E"), tg.dim("K")
		w, idx := make([]float32, rows*k), make([]float32, rows*k)
		sel := make([]float32, k)
		for b := 0; b < rows; b++ {
			x := in[0][b*e : (b+1)*e]
			for i, v := range x {
				rank := 0
				for j, u := range x {
					if u > v || (u == v && j < i) {
						rank++
					}
				}
				if rank < k {
					sel[rank] = v
					idx[b*k+rank] = float32(i)
				}
			}
			var sum float32
			for _, v := range sel {
				sum += float32(math.Exp(float64(v - sel[0])))
			}
			for kk, v := range sel {
				w[b*k+kk] = float32(math.Exp(float64(v-sel[0]))) / sum
			}
		}
		return [][]float32{w, idx}
	},
	"ttt_linear_decode": tttFloat32Port,
}

func tttFloat32Port(tg *Target, rows int, in [][]float32) [][]float32 {
	f := tg.dim("F")
	F := float32(f)
	xq, xk, xv, lr, tok := in[0], in[1], in[2], in[3], in[4][0]
	W, b, Wg, bg, lnw, lnb := in[5], in[6], in[7], in[8], in[9], in[10]
	out, bo, bgo := make([]float32, rows*f), make([]float32, rows*f), make([]float32, rows*f)
	Wo, Wgo := make([]float32, rows*f*f), make([]float32, rows*f*f)
	sqrt32 := func(x float32) float32 { return float32(math.Sqrt(float64(x))) }
	meanStd := func(z []float32) (float32, float32) {
		var p float32
		for _, v := range z {
			p += v
		}
		mu := p / F
		p = 0
		for _, v := range z {
			p += (v - mu) * (v - mu)
		}
		return mu, sqrt32(p/F + 1e-6)
	}
	z, zh, gh := make([]float32, f), make([]float32, f), make([]float32, f)
	for r := 0; r < rows; r++ {
		v, m := r*f, r*f*f
		for j := 0; j < f; j++ {
			acc := b[v+j]
			for i := 0; i < f; i++ {
				acc += xk[v+i] * W[m+i*f+j]
			}
			z[j] = acc
		}
		mu, s := meanStd(z)
		var sgh, sghzh float32
		for j := 0; j < f; j++ {
			zh[j] = (z[j] - mu) / s
			y := lnw[v+j]*zh[j] + lnb[v+j]
			g := y - (xv[v+j] - xk[v+j])
			gh[j] = g * lnw[v+j]
			sgh += gh[j]
			sghzh += gh[j] * zh[j]
		}
		for j := 0; j < f; j++ {
			d := lr[r] * ((F*gh[j] - sgh - zh[j]*sghzh) / (s * F))
			bgo[v+j] = bg[v+j] + d
			bo[v+j] = b[v+j] - tok*bgo[v+j]
			acc := bo[v+j]
			for i := 0; i < f; i++ {
				o := m + i*f + j
				Wgo[o] = Wg[o] + xk[v+i]*d
				Wo[o] = W[o] - tok*Wgo[o]
				acc += xq[v+i] * Wo[o]
			}
			z[j] = acc
		}
		mu2, s2 := meanStd(z)
		for j := 0; j < f; j++ {
			out[v+j] = xq[v+j] + lnw[v+j]*(z[j]-mu2)/s2 + lnb[v+j]
		}
	}
	return [][]float32{out, Wo, bo, Wgo, bgo}
}
