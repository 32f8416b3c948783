package llm

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"discover/device"
	"discover/eval"
	"discover/target"
)

// Prompt builds the system and user prompts of one request: the brief a
// kernel engineer would want, and the exact answer format Parse reads.
func Prompt(req Request) (system, user string) {
	return systemPrompt(req.Dialect), userPrompt(req)
}

// dialectBrief is what differs between the dialects in a prompt.
type dialectBrief struct {
	language  string // as the compiler sees it
	fence     string // the code fence's language
	groupSize string // what THREADGROUP sets
	gridSize  string // what GRID counts
	includes  string
	notes     string
}

var briefs = map[device.Dialect]dialectBrief{
	device.OpenCL: {
		language:  "OpenCL C 1.2 (built with -cl-std=CL1.2)",
		fence:     "c",
		groupSize: "work-group size",
		gridSize:  "total number of work-items",
		includes:  "No #include at all: the source must be self-contained.",
		notes: `- Qualify buffers __global, scratch __local; synchronize a work-group with barrier(CLK_LOCAL_MEM_FENCE), reached by every work-item of the group.
- Vector types (float4, vload4/vstore4), mad, native_exp/native_rsqrt and the like are available; check their accuracy against the tolerance.
- OpenCL 1.2 has no sub-group functions unless the device offers cl_khr_subgroups: reduce through __local memory.
- On a CPU device (e.g. PoCL), a work-group runs on one core and work-items are vectorized together: few, large work-groups, no barriers in hot loops and wide vector loads pay off; local memory is ordinary cache.`,
	},
	device.CUDA: {
		language:  "CUDA C++17, compiled at run time with NVRTC",
		fence:     "cuda",
		groupSize: "block size (blockDim)",
		gridSize:  "total number of threads (gridDim times blockDim)",
		includes:  "No #include except CUDA's own device headers (<cuda_fp16.h>, <cuda_bf16.h>, <cuda_fp8.h>, <cooperative_groups.h>, <cuda/std/...>); there is no C or C++ standard library header and no INFINITY macro.",
		notes: `- Declare the entry extern "C" __global__ so it keeps its name; helpers static __device__.
- Warps are 32 threads: __shfl_xor_sync / __shfl_down_sync reductions avoid shared memory and __syncthreads; __ldg, __restrict__, float4 loads, #pragma unroll and __launch_bounds__ help the compiler.
- Fast intrinsics (__expf, rsqrtf, __fdividef) are fine within the tolerance.`,
	},
}

func systemPrompt(d device.Dialect) string {
	b := briefs[d]
	return fmt.Sprintf(`You are an expert GPU kernel engineer. You write %s kernels that are correct first and then as fast as the hardware allows.

Every kernel you write is compiled and then checked against a float64 reference at every test shape, on fresh random inputs (several seeds; normal, uniform and large-magnitude values): outputs start as NaN, so every output element must be written; guard regions after each buffer catch out-of-bounds writes; the inputs are checksummed, so they must not be written; each check runs twice and both results must agree, so there must be no data race. A kernel that fails any check scores zero, and its failure is shown to you in later requests.

A correct kernel is timed against the seed kernel, interleaved, at every shape; its reward is the geometric mean of the per-shape speedups. Small row counts (decode) weigh as much as the large one, so launch overhead and occupancy at small sizes matter as much as bandwidth at the large size.

Answer only in the requested format: no preamble, no explanation outside the REASONING lines.`, b.language)
}

func userPrompt(req Request) string {
	t, b := req.Target, briefs[req.Dialect]
	var w strings.Builder
	n := max(req.N, 1)
	fmt.Fprintf(&w, "# Task\nWrite %d new %s of the kernel `%s` for target %s (%s; model: %s), in %s, each faster than the parent below.\n",
		n, plural(n, "variant", "variants"), t.Entry, t.Name, t.Description, t.Model, b.language)

	fmt.Fprintf(&w, "\n# Device\n%s\n", deviceLine(req.Device))

	fmt.Fprintf(&w, "\n# What it computes\n%s\n", strings.TrimSpace(t.Math))

	w.WriteString("\n# Tensors\nAll row-major; each is its own buffer, aligned to at least 128 bytes.\n")
	tw := tabwriter.NewWriter(&w, 0, 0, 2, ' ', 0)
	for _, group := range []struct {
		label   string
		tensors []target.Tensor
	}{{"input", t.Inputs}, {"output", t.Outputs}} {
		for _, tn := range group.tensors {
			fmt.Fprintf(tw, "%s\t%s\t%s\t[%s]\n", group.label, tn.Name, tn.DType, strings.Join(tn.Shape, ", "))
		}
	}
	tw.Flush()
	fmt.Fprintf(&w, "%s = n_rows, passed at run time; tested at %s = %s.\n", t.RowVar, t.RowVar, joinInts(t.Shapes))
	fmt.Fprintf(&w, "Compile-time defines: %s (passed as -D flags: use them as constants; do not #define them).\n", target.JoinDims(t.Dims, ", "))
	fmt.Fprintf(&w, "Tolerance: |out - ref| <= %g * max|ref| + %g * |ref| per element; integer outputs exact; NaN or Inf never passes.\n",
		t.Tolerance.Atol, t.Tolerance.Rtol)

	seed := t.Seeds[req.Dialect]
	fmt.Fprintf(&w, "\n# Entry point and launch\nThe kernel must be exactly this function (qualifiers such as %s may be added to the pointers):\n\n%s\n\n",
		restrictWord(req.Dialect), entrySignature(t, req.Dialect))
	fmt.Fprintf(&w, `THREADGROUP is the %[1]s "x, y, z" (at most %[2]d in all). GRID is the %[3]s per dimension, "x, y, z", as integer expressions over %[4]s, the defines and LOCAL (the THREADGROUP x size), with + - * / %% and parentheses (/ rounds down). Each GRID entry is rounded up to a multiple of the THREADGROUP entry, so the items past the end must do nothing.
The seed launches THREADGROUP: %[5]s and GRID: %[6]s. A variant without GRID gets the seed's rule, not the parent's: always give both.
`, b.groupSize, groupLimit(req.Device), b.gridSize, t.RowVar, formatGroup(seed.Local), strings.Join(seed.Global, ", "))

	fmt.Fprintf(&w, "\n# Rules\n- %s\n", b.includes)
	fmt.Fprintf(&w, `- Bound-check every access against n_rows and the defines; the grid may be larger than the work.
- Write every output element, at every row count; never write an input; no buffers beyond the arguments (use %s memory for scratch).
- Deterministic: both runs of a check must agree (no data races; no float atomics whose order changes the result).
- Keep float32 accuracy (accumulate in float32 or wider) within the tolerance.
%s
`, scratchWord(req.Dialect), b.notes)

	writeExample(&w, "The parent", req.Parent, b.fence)
	if req.Best.NodeID != "" && req.Best.NodeID != req.Parent.NodeID {
		writeExample(&w, "The best so far", req.Best, b.fence)
	}
	writeHistory(&w, req.History)

	w.WriteString("\n# Strategies worth trying\n")
	if s := strategies[t.Kernel]; s != "" {
		w.WriteString(s + "\n")
	}
	w.WriteString(generalStrategies)

	fmt.Fprintf(&w, `
# Answer format
Exactly %d %s, each in this format, with nothing before the first or after the last:

---VARIANT---
REASONING: what you changed and why it should be faster, in one or two sentences
THREADGROUP: %s
GRID: %s
SOURCE:
`+"```%s\n<the complete kernel source>\n```\n", n, plural(n, "variant", "variants"), formatGroup(seed.Local), strings.Join(seed.Global, ", "), b.fence)
	if n > 1 {
		w.WriteString("\nMake the variants differ from each other and from what the history already tried.\n")
	}
	return w.String()
}

func deviceLine(info device.Info) string {
	units := "compute units"
	if info.API == device.CUDA {
		units = "SMs"
	}
	s := fmt.Sprintf("%s (%s", info.Name, info.API)
	if info.Platform != "" {
		s += ", " + info.Platform
	}
	if info.ComputeCapability != "" {
		s += ", compute capability " + info.ComputeCapability
	}
	s += fmt.Sprintf("): %d %s, at most %d work-items per group, %d KiB local memory per group",
		info.ComputeUnits, units, info.MaxWorkGroupSize, info.LocalMemBytes>>10)
	if info.CopyBandwidthGBs > 0 {
		s += fmt.Sprintf(", measured copy bandwidth %.0f GB/s (bytes read plus written)", info.CopyBandwidthGBs)
	}
	return s + "."
}

// entrySignature declares the entry point as the evaluator calls it:
// inputs, outputs, then the row count.
func entrySignature(t *target.Target, d device.Dialect) string {
	params := entryParams(t, d)
	if d == device.CUDA {
		return fmt.Sprintf("extern \"C\" __global__ void %s(%s)", t.Entry, strings.Join(params, ", "))
	}
	return fmt.Sprintf("__kernel void %s(%s)", t.Entry, strings.Join(params, ", "))
}

// entryParams are the entry point's parameters in the evaluator's order.
func entryParams(t *target.Target, d device.Dialect) []string {
	var params []string
	add := func(tn target.Tensor, qual string) {
		typ := "float"
		if tn.DType == target.Uint32 {
			typ = "uint"
			if d == device.CUDA {
				typ = "unsigned int"
			}
		}
		if d == device.OpenCL {
			qual = "__global " + qual
		}
		params = append(params, fmt.Sprintf("%s%s* %s", qual, typ, tn.Name))
	}
	for _, tn := range t.Inputs {
		add(tn, "const ")
	}
	for _, tn := range t.Outputs {
		add(tn, "")
	}
	if d == device.CUDA {
		return append(params, "unsigned int n_rows")
	}
	return append(params, "const uint n_rows")
}

func restrictWord(d device.Dialect) string {
	if d == device.CUDA {
		return "__restrict__"
	}
	return "restrict"
}

func scratchWord(d device.Dialect) string {
	if d == device.CUDA {
		return "__shared__"
	}
	return "__local"
}

func groupLimit(info device.Info) int {
	if info.MaxWorkGroupSize > 0 {
		return info.MaxWorkGroupSize
	}
	return 256
}

// writeExample shows a kernel with its launch, its per-shape timings and
// its source.
func writeExample(w *strings.Builder, title string, ex Example, fence string) {
	fmt.Fprintf(w, "\n# %s: node %s", title, ex.NodeID)
	if r := ex.Result; r != nil && r.Correct {
		fmt.Fprintf(w, ", %.3fx the seed (geometric mean over shapes)", r.Speedup)
	}
	fmt.Fprintf(w, "\nStrategy: %s\nTHREADGROUP: %s\n", oneLine(cmp.Or(strings.TrimSpace(ex.Reasoning), "(none given)"), 300), formatGroup(ex.Spec.Threadgroup))
	if len(ex.Spec.Grid) > 0 {
		fmt.Fprintf(w, "GRID: %s\n", strings.Join(ex.Spec.Grid, ", "))
	} else {
		w.WriteString("GRID: the seed's rule\n")
	}
	if r := ex.Result; r != nil {
		if !r.Correct {
			fmt.Fprintf(w, "Failed: %s: %s\n", r.Failure, trimDetail(r.Detail))
		} else if len(r.Shapes) > 0 {
			writeShapes(w, r.Shapes)
		}
	}
	fmt.Fprintf(w, "```%s\n%s\n```\n", fence, strings.TrimSpace(ex.Spec.Source))
}

func writeShapes(w *strings.Builder, shapes []eval.ShapeResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rows\tmedian us\tseed us\tspeedup\tGB/s\t% of copy BW\t")
	for _, s := range shapes {
		pct := "-"
		if s.PctCopyBW > 0 {
			pct = fmt.Sprintf("%.1f", s.PctCopyBW)
		}
		fmt.Fprintf(tw, "%d\t%.2f\t%.2f\t%.3fx\t%.1f\t%s\t\n", s.Rows, s.MedianUs, s.SeedMedianUs, s.Speedup, s.GBs, pct)
	}
	tw.Flush()
}

func writeHistory(w *strings.Builder, history []Attempt) {
	if len(history) == 0 {
		return
	}
	w.WriteString("\n# What was tried (oldest first)\n")
	for _, a := range history {
		strategy := oneLine(cmp.Or(strings.TrimSpace(a.Reasoning), "(none given)"), 200)
		if a.Failure != "" {
			fmt.Fprintf(w, "- %s: FAILED %s: %s\n  strategy: %s\n", a.NodeID, a.Failure, indent(trimDetail(a.Detail), "  "), strategy)
			continue
		}
		fmt.Fprintf(w, "- %s: %.3fx: %s\n", a.NodeID, a.Speedup, strategy)
	}
}

// trimDetail keeps the head of a failure detail: the first compiler
// errors or the first mismatch are the useful part.
func trimDetail(s string) string {
	const maxLines, maxBytes = 8, 600
	lines := strings.Split(strings.TrimSpace(s), "\n")
	cut := len(lines) > maxLines
	if cut {
		lines = lines[:maxLines]
	}
	out := strings.Join(lines, "\n")
	if len(out) > maxBytes {
		out, cut = out[:maxBytes], true
	}
	if cut {
		out += " [...]"
	}
	return out
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

func formatGroup(g [3]int) string {
	if g == [3]int{} {
		return "the seed's"
	}
	return fmt.Sprintf("%d, %d, %d", g[0], g[1], g[2])
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// strategies per target family: the directions a kernel engineer would try
// first, for the decode shapes and the large one.
var strategies = map[string]string{
	"swiglu": `- Elementwise and memory-bound: aim for the copy bandwidth at the large shape.
- Several elements per work-item with float4 loads and stores (D is a multiple of 4): GRID B*D/4, or a fixed grid with a grid-stride loop.
- A cheaper sigmoid: fast exp intrinsics, one division, no double precision.
- At the decode shapes (a few thousand elements) the launch dominates: keep index math 32-bit and the kernel short; try work-group sizes from 64 to 1024.`,
	"rmsnorm": `- Read x once: keep each work-item's slice of the row in registers between the sum of squares and the scaling pass (D/LOCAL values each).
- float4 loads and stores of x, weight and out.
- Fewer barriers than a full tree: on CUDA reduce within each warp by shuffles, then across warps through a small shared array; on OpenCL give each work-item more of the row so the __local tree is short.
- At B = 1..16 only B work-groups run: use larger work-groups (512 or 1024) so one row keeps more of the device busy; at the large shape one row per work-group of 128-256 often wins, or several rows per work-group.`,
	"moe_combine": `- Memory-bound: reads K*D+K floats and writes D per row.
- Load the row's K weights once (registers or shared memory), unroll the loop over K (K is a define), several output elements per work-item with float4.
- Coalesce along D: consecutive work-items take consecutive elements of each expert's row.`,
	"topk_gating": `- E is small: one warp (CUDA) or a small work-group per row, or a few rows per work-group, logits held in registers.
- Replace the O(E^2) ranking with K rounds of a max reduction (lowest index wins ties), or a per-item top-K merged across the group.
- The softmax over the K selected values needs only their max and sum: compute them as they are selected.`,
	"ttt_linear_decode": `- Each row is a chain of F x F matrix-vector products and layer-norm reductions: one work-group per row, one work-item per output column, W read with coalesced loads.
- Fuse the passes: compute W' column by column while it is in registers, and the second product from it, instead of writing and re-reading.
- Keep the vectors of length F in shared memory; reduce the layer-norm sums with warp shuffles on CUDA.`,
}

const generalStrategies = `- In general: fewer passes over memory, wider and coalesced accesses, fewer barriers, more independent work per work-item, work-group sizes matched to the device.
`
