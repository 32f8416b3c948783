package llm

import (
	"embed"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"discover/device"
	"discover/target"
)

// The tuner's kernels are text/template files, one per family, written
// once for both dialects: dialectWords fills in what differs, and the
// reductions that only CUDA has (warp shuffles) are template branches.
//
//go:embed templates/*.tmpl
var templateFS embed.FS

var kernelTemplates = template.Must(template.New("").ParseFS(templateFS, "templates/*.tmpl"))

// dialectWords are the spellings that differ between OpenCL C and CUDA.
type dialectWords struct {
	CUDA       bool
	Shared     string // declares a group-shared array
	LocalPtr   string // qualifies a pointer to one, in a helper's parameters
	Global     string // qualifies a pointer to device memory
	Func       string // a helper function's qualifiers
	Barrier    string
	Lid, Group string
	NegInf     string
	Sqrt       string
	Rsqrt      string
}

var words = map[device.Dialect]dialectWords{
	device.OpenCL: {
		Shared: "__local", LocalPtr: "__local ", Global: "__global ",
		Barrier: "barrier(CLK_LOCAL_MEM_FENCE)", Lid: "(uint)get_local_id(0)", Group: "(uint)get_group_id(0)",
		NegInf: "(-INFINITY)", Sqrt: "sqrt", Rsqrt: "rsqrt",
	},
	device.CUDA: {
		CUDA: true, Shared: "__shared__", Func: "static __device__ __forceinline__ ",
		Barrier: "__syncthreads()", Lid: "threadIdx.x", Group: "blockIdx.x",
		// No math headers under NVRTC, so no INFINITY macro.
		NegInf: "(-__int_as_float(0x7f800000))", Sqrt: "sqrtf", Rsqrt: "rsqrtf",
	},
}

// kernelData is what a template sees.
type kernelData struct {
	dialectWords
	Header    string // "tuner <family>: <knobs>", read back by space.parse
	Summary   string
	Defines   []define
	VecMacros string
	Signature string
	K         point          // knob values
	N         map[string]int // derived numbers, as in Defines
	Exp       string         // the exp function, per the fast knob
}

// render writes the kernel of point p.
func (s *space) render(p point) (Variant, error) {
	pl, err := s.check(p)
	if err != nil {
		return Variant{}, fmt.Errorf("tuner %s: %s: %w", s.t.Name, s.format(p), err)
	}
	w := words[s.dialect]
	data := kernelData{
		dialectWords: w,
		Header:       fmt.Sprintf("tuner %s: %s", s.t.Kernel, s.format(p)),
		Summary:      pl.summary,
		Defines:      pl.defines,
		VecMacros:    vecMacros(s.dialect, pl.n["VEC"], p["hint"]),
		Signature:    signature(s.t, s.dialect),
		K:            p,
		N:            pl.n,
		Exp:          expFunc(s.dialect, p["fast"] == "1"),
	}
	var b strings.Builder
	if err := kernelTemplates.ExecuteTemplate(&b, s.t.Kernel, data); err != nil {
		return Variant{}, fmt.Errorf("tuner %s: render %s: %w", s.t.Name, s.format(p), err)
	}
	return Variant{
		Reasoning:   data.Header + "; " + pl.summary,
		Threadgroup: [3]int{pl.tpb, 1, 1},
		Grid:        []string{pl.grid},
		Source:      tidy(b.String()),
	}, nil
}

var (
	trailingSpace = regexp.MustCompile(`(?m)[ \t]+$`)
	blankRuns     = regexp.MustCompile(`\n{3,}`)
)

// tidy drops the blank lines and trailing spaces that template branches
// leave behind.
func tidy(src string) string {
	src = trailingSpace.ReplaceAllString(src, "")
	return strings.TrimSpace(blankRuns.ReplaceAllString(src, "\n\n")) + "\n"
}

func expFunc(d device.Dialect, fast bool) string {
	switch {
	case d == device.CUDA && fast:
		return "__expf"
	case d == device.CUDA:
		return "expf"
	case fast:
		return "native_exp"
	}
	return "exp"
}

// signature is the entry point's declaration: inputs, outputs, n_rows, as
// the evaluator passes them. The group size is fixed at TPB, which lets
// both compilers specialize for it.
func signature(t *target.Target, d device.Dialect) string {
	var params []string
	param := func(tn target.Tensor, input bool) {
		typ := "float"
		if tn.DType == target.Uint32 {
			typ = "uint"
		}
		if input {
			typ = "const " + typ
		}
		if d == device.CUDA {
			params = append(params, fmt.Sprintf("%s* __restrict__ %s", typ, tn.Name))
		} else {
			params = append(params, fmt.Sprintf("__global %s* restrict %s", typ, tn.Name))
		}
	}
	for _, tn := range t.Inputs {
		param(tn, true)
	}
	for _, tn := range t.Outputs {
		param(tn, false)
	}
	params = append(params, "const uint n_rows")
	head := fmt.Sprintf("__kernel __attribute__((reqd_work_group_size(TPB, 1, 1))) void %s(", t.Entry)
	if d == device.CUDA {
		head = fmt.Sprintf("extern \"C\" __global__ void __launch_bounds__(TPB) %s(", t.Entry)
	}
	return head + strings.Join(params, ",\n        ") + ")"
}

// vecMacros define LOADV and STOREV: VEC consecutive floats at vector
// index i of a device pointer, to or from a float array. Every vector
// access the templates make is aligned (rows are multiples of VEC floats).
// LOADV_S and STOREV_S are the same for data used once (LOADV_S its last
// read): hint "loads" makes LOADV_S __ldcs, evict-first in the caches, and
// "stream" also makes STOREV_S __stcs (CUDA only).
func vecMacros(d device.Dialect, vec int, hint string) string {
	typ := vecName(vec)
	comps := []string{"x", "y", "z", "w"}[:vec]
	var load, elems []string
	for i, c := range comps {
		load = append(load, fmt.Sprintf("(d)[%d] = v_.%s;", i, c))
		elems = append(elems, fmt.Sprintf("(s)[%d]", i))
	}
	if vec == 1 {
		load, elems = []string{"(d)[0] = v_;"}, []string{"(s)[0]"}
	}
	in, out, ctor := fmt.Sprintf("(const %s*)", typ), fmt.Sprintf("(%s*)", typ), "make_"+typ
	if d == device.OpenCL {
		in, out, ctor = fmt.Sprintf("(__global const %s*)", typ), fmt.Sprintf("(__global %s*)", typ), "("+typ+")"
	}
	if vec == 1 {
		ctor = ""
	}
	value := fmt.Sprintf("%s(%s)", ctor, strings.Join(elems, ", "))
	macros := fmt.Sprintf("#define LOADV(d, p, i) do { const %s v_ = (%s(p))[i]; %s } while (0)\n", typ, in, strings.Join(load, " ")) +
		fmt.Sprintf("#define STOREV(p, i, s) ((%s(p))[i] = %s)\n", out, value)
	if hint == "loads" || hint == "stream" {
		macros += fmt.Sprintf("#define LOADV_S(d, p, i) do { const %s v_ = __ldcs(%s(p) + (i)); %s } while (0)\n", typ, in, strings.Join(load, " "))
	} else {
		macros += "#define LOADV_S LOADV\n"
	}
	if hint == "stream" {
		return macros + fmt.Sprintf("#define STOREV_S(p, i, s) __stcs(%s(p) + (i), %s)", out, value)
	}
	return macros + "#define STOREV_S STOREV"
}
