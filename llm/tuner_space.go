package llm

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"discover/device"
	"discover/target"
)

// knob is one tunable parameter of a template. Numeric domains are
// ascending, so that a neighbour moves one step; a categorical knob
// (ordered false) may jump to any other value.
type knob struct {
	name    string
	values  []string
	ordered bool
}

func numeric(name string, vs ...int) knob {
	k := knob{name: name, ordered: true}
	for _, v := range vs {
		k.values = append(k.values, strconv.Itoa(v))
	}
	return k
}

func choice(name string, vs ...string) knob { return knob{name: name, values: vs} }

// Knobs shared by several families.
var (
	knobTPB    = numeric("tpb", 32, 64, 128, 256, 512, 1024)                 // work-items per group
	knobTPR    = numeric("tpr", 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) // work-items per row
	knobRPB    = numeric("rpb", 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) // rows per group
	knobVec    = numeric("vec", 1, 2, 4)                                     // floats per load and store
	knobIPT    = numeric("ipt", 1, 2, 4, 8)                                  // vectors per work-item
	knobUnroll = numeric("unroll", 1, 2, 4, 8)                               // unroll of the streaming loop
	knobFast   = numeric("fast", 0, 1)                                       // native_exp / __expf
	knobReduce = choice("reduce", "tree", "shfl")                            // local-memory tree or warp shuffles
	knobSlices = numeric("slices", 1, 2, 4, 8, 16, 32, 64)                   // ttt: slices of W's rows per group
	knobCache  = choice("cache", "reload", "regs")                           // re-read the row, or keep it in registers
	knobTTTC   = choice("cache", "reload", "regs", "prefetch")               // ttt: prefetch also loads W_grad early
	knobAlgo   = choice("algo", "thread", "rank", "argmax")                  // topk: see topkFamily
	// Cache hints on data used once: "stream" loads and stores it
	// evict-first (CUDA's __ldcs/__stcs), leaving L2 to what is reused.
	knobHint = choice("hint", "none", "stream")
	// Where a row is read twice, "loads" makes only its last read
	// evict-first and leaves the stores alone (as Inductor's rmsnorm does).
	knobRowHint = choice("hint", "none", "loads", "stream")
)

// checkHint says why a hint cannot be built in the space's dialect.
func (s *space) checkHint(p point) error {
	if p["hint"] != "none" && s.dialect != device.CUDA {
		return fmt.Errorf("cache hint %q is CUDA's", p["hint"])
	}
	return nil
}

// Limits on a point.
const (
	minTPB     = 32       // a warp: the shuffles assume whole warps
	maxGroup   = 1024     // work-items per group, even where PoCL allows 4096
	maxFloats  = 64       // floats a work-item holds in registers by design
	cudaShared = 48 << 10 // static __shared__ bytes per block
	defaultMem = 32 << 10 // local memory bytes where the device does not say
)

// knobLine finds the knobs that space.format wrote, after "tuner <family>: ".
var knobLine = regexp.MustCompile(`tuner ([a-z_]+): ((?:[a-z]+=[0-9a-z]+ ?)+)`)

// point is a value for every knob of a family.
type point map[string]string

func (p point) int(name string) int {
	v, err := strconv.Atoi(p[name])
	if err != nil {
		panic(fmt.Sprintf("tuner: knob %s=%q is not a number", name, p[name]))
	}
	return v
}

func (p point) clone() point {
	q := make(point, len(p))
	for k, v := range p {
		q[k] = v
	}
	return q
}

func (p point) with(name, value string) point {
	q := p.clone()
	q[name] = value
	return q
}

// family is the template space of one target family.
type family struct {
	knobs []knob
	// defaults is the starting point on a target.
	defaults func(s *space) point
	// canon fixes knobs that do not change the kernel at p, so that each
	// kernel has one point.
	canon func(s *space, p point)
	// plan derives the kernel's geometry from p, or says why p cannot be
	// built on this target.
	plan func(s *space, p point) (*plan, error)
}

// plan is what a point becomes: launch geometry, resources, and the
// numbers the template uses.
type plan struct {
	tpb     int
	grid    string         // total work-items of dimension 0, over the row variable
	shared  int            // bytes of local memory
	defines []define       // knob-derived constants, written as #define
	n       map[string]int // the same numbers, for the template's branches
	summary string
}

type define struct {
	Name  string
	Value int
}

func (pl *plan) def(name string, v int) {
	pl.defines = append(pl.defines, define{name, v})
	if pl.n == nil {
		pl.n = map[string]int{}
	}
	pl.n[name] = v
}

var families = map[string]*family{
	"swiglu":            elementwiseFamily(true),
	"moe_combine":       elementwiseFamily(false),
	"rmsnorm":           rmsnormFamily,
	"topk_gating":       topkFamily,
	"ttt_linear_decode": tttFamily,
}

// space is a family's templates on one target, dialect and device.
type space struct {
	t        *target.Target
	dialect  device.Dialect
	fam      *family
	maxTPB   int
	localMem int
}

func newSpace(t *target.Target, d device.Dialect, info device.Info) (*space, error) {
	fam, ok := families[t.Kernel]
	if !ok {
		return nil, fmt.Errorf("tuner: no templates for family %q of target %s", t.Kernel, t.Name)
	}
	if d != device.OpenCL && d != device.CUDA {
		return nil, fmt.Errorf("tuner: no templates for dialect %q", d)
	}
	s := &space{t: t, dialect: d, fam: fam, maxTPB: maxGroup, localMem: defaultMem}
	if info.MaxWorkGroupSize > 0 {
		s.maxTPB = min(s.maxTPB, info.MaxWorkGroupSize)
	}
	if info.LocalMemBytes > 0 {
		s.localMem = int(info.LocalMemBytes)
	}
	if d == device.CUDA {
		s.localMem = min(s.localMem, cudaShared)
	}
	return s, nil
}

func (s *space) dim(name string) int {
	for _, d := range s.t.Dims {
		if d.Name == name {
			return d.Value
		}
	}
	panic(fmt.Sprintf("tuner: target %s has no dim %s", s.t.Name, name))
}

// start is the family's default point on this target, or where that is
// invalid (other dims, a smaller device), the valid point fewest knob
// moves away from it.
func (s *space) start() (point, bool) {
	first := s.canon(s.fam.defaults(s))
	seen := map[string]bool{s.format(first): true}
	for queue := []point{first}; len(queue) > 0; queue = queue[1:] {
		p := queue[0]
		if s.valid(p) {
			return p, true
		}
		for _, k := range s.fam.knobs {
			for _, v := range k.values {
				if q := s.canon(p.with(k.name, v)); !seen[s.format(q)] {
					seen[s.format(q)] = true
					queue = append(queue, q)
				}
			}
		}
	}
	return nil, false
}

// defaultReduce is the dialect's best reduction: shuffles where they exist.
func (s *space) defaultReduce() string {
	if s.dialect == device.CUDA {
		return "shfl"
	}
	return "tree"
}

// check plans p and applies the limits every family shares.
func (s *space) check(p point) (*plan, error) {
	for _, k := range s.fam.knobs {
		if !slices.Contains(k.values, p[k.name]) {
			return nil, fmt.Errorf("knob %s=%q is not one of %v", k.name, p[k.name], k.values)
		}
	}
	if p["reduce"] == "shfl" && s.dialect != device.CUDA {
		return nil, fmt.Errorf("warp shuffles are CUDA only")
	}
	pl, err := s.fam.plan(s, p)
	if err != nil {
		return nil, err
	}
	switch {
	case pl.tpb < minTPB || pl.tpb > s.maxTPB:
		return nil, fmt.Errorf("%d work-items per group; want %d to %d", pl.tpb, minTPB, s.maxTPB)
	case pl.shared > s.localMem:
		return nil, fmt.Errorf("%d bytes of local memory; the device has %d", pl.shared, s.localMem)
	}
	return pl, nil
}

func (s *space) valid(p point) bool {
	_, err := s.check(p)
	return err == nil
}

func (s *space) canon(p point) point {
	q := p.clone()
	if s.fam.canon != nil {
		s.fam.canon(s, q)
	}
	return q
}

// format writes p as "k=v k=v ..." in knob order.
func (s *space) format(p point) string {
	var b strings.Builder
	for i, k := range s.fam.knobs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", k.name, p[k.name])
	}
	return b.String()
}

// parse reads back the knobs that format wrote into a reasoning or a
// source's header line; ok is false when text has none for this family.
func (s *space) parse(text string) (point, bool) {
	m := knobLine.FindStringSubmatch(text)
	if m == nil || m[1] != s.t.Kernel {
		return nil, false
	}
	p := point{}
	for _, kv := range strings.Fields(m[2]) {
		k, v, _ := strings.Cut(kv, "=")
		p[k] = v
	}
	if len(p) != len(s.fam.knobs) || !s.valid(p) {
		return nil, false
	}
	return s.canon(p), true
}

// neighbours are the valid points one knob away from p.
func (s *space) neighbours(p point) []point {
	seen := map[string]bool{s.format(p): true}
	var out []point
	for _, k := range s.fam.knobs {
		i := slices.Index(k.values, p[k.name])
		for j := range k.values {
			if j == i || (k.ordered && j != i-1 && j != i+1) {
				continue
			}
			q := s.canon(p.with(k.name, k.values[j]))
			if key := s.format(q); !seen[key] && s.valid(q) {
				seen[key] = true
				out = append(out, q)
			}
		}
	}
	return out
}

// random draws every knob uniformly until the point is valid.
func (s *space) random(r *rand.Rand) (point, bool) {
	for range 1000 {
		p := point{}
		for _, k := range s.fam.knobs {
			p[k.name] = k.values[r.IntN(len(k.values))]
		}
		if p = s.canon(p); s.valid(p) {
			return p, true
		}
	}
	return nil, false
}

// all enumerates every valid point once, in knob order.
func (s *space) all() []point {
	seen := map[string]bool{}
	var out []point
	var walk func(i int, p point)
	walk = func(i int, p point) {
		if i == len(s.fam.knobs) {
			q := s.canon(p)
			if key := s.format(q); !seen[key] && s.valid(q) {
				seen[key] = true
				out = append(out, q)
			}
			return
		}
		k := s.fam.knobs[i]
		for _, v := range k.values {
			walk(i+1, p.with(k.name, v))
		}
	}
	walk(0, point{})
	return out
}

// ceilDiv writes ceil(a/b) as a launch expression; b is a constant.
func ceilDiv(a string, b int) string {
	if b == 1 {
		return a
	}
	return fmt.Sprintf("(%s+%d)/%d", a, b-1, b)
}

// rowsGrid is the grid of rpb rows per group of LOCAL work-items.
func (s *space) rowsGrid(rpb int) string {
	return ceilDiv(s.t.RowVar, rpb) + "*LOCAL"
}

// reduceSlots is the scratch of seg_sum or seg_argmax over segments of tpr
// work-items: a slot per work-item for the tree, a slot per warp for
// shuffles across warps, and one placeholder slot where nothing is needed,
// so that every kernel declares the same arrays.
func reduceSlots(p point, tpb, tpr int) int {
	switch {
	case tpr == 1:
		return 1
	case p["reduce"] == "shfl" && tpr <= 32:
		return 1
	case p["reduce"] == "shfl":
		return tpb / 32
	}
	return tpb
}

func vecName(vec int) string {
	if vec == 1 {
		return "float"
	}
	return fmt.Sprintf("float%d", vec)
}

// elementwiseFamily: swiglu (silu(gate)*up, with the fast knob for its exp)
// and moe_combine. Work-item lid of group g owns vectors g*TPB*IPT + lid +
// k*TPB, k < IPT, so each of a group's IPT accesses is one coalesced span.
func elementwiseFamily(withExp bool) *family {
	f := &family{knobs: []knob{knobTPB, knobVec, knobIPT, knobHint}}
	if withExp {
		f.knobs = append(f.knobs, knobFast)
	}
	f.defaults = func(s *space) point {
		p := point{"tpb": "256", "vec": strconv.Itoa(widest(s.dim("D"), 4)), "ipt": "1", "hint": "none"}
		if withExp {
			p["fast"] = "0"
		}
		return p
	}
	f.plan = func(s *space, p point) (*plan, error) {
		d, tpb, vec, ipt := s.dim("D"), p.int("tpb"), p.int("vec"), p.int("ipt")
		if d%vec != 0 {
			return nil, fmt.Errorf("vec %d does not divide D=%d", vec, d)
		}
		floats := 2 * ipt * vec // swiglu: gate and up
		if !withExp {
			k := s.dim("K")
			floats = ipt * k * (vec + 1) // moe_combine: K vectors and K weights
		}
		if floats > maxFloats {
			return nil, fmt.Errorf("%d floats in flight per work-item, more than %d", floats, maxFloats)
		}
		if err := s.checkHint(p); err != nil {
			return nil, err
		}
		pl := &plan{tpb: tpb, grid: ceilDiv(fmt.Sprintf("%s*D/%d", s.t.RowVar, vec), ipt)}
		pl.def("TPB", tpb)
		pl.def("VEC", vec)
		pl.def("IPT", ipt)
		pl.summary = fmt.Sprintf("%d work-items per group, each %d x %s%s", tpb, ipt, vecName(vec), hintSummary(p))
		return pl, nil
	}
	return f
}

func hintSummary(p point) string {
	return map[string]string{
		"stream": ", evict-first loads and stores of data used once",
		"loads":  ", evict-first last reads of data used once",
	}[p["hint"]]
}

// widest is the largest vector width up to w that divides n.
func widest(n, w int) int {
	for n%w != 0 {
		w /= 2
	}
	return w
}

// rmsnormFamily: tpr work-items per row, rpb rows per group; each
// work-item sums the squares of its vectors j = t, t+TPR, ... and the row's
// work-items reduce together; cache=regs keeps those vectors in registers
// for the scaling pass instead of reading them again.
var rmsnormFamily = &family{
	knobs: []knob{knobTPR, knobRPB, knobVec, knobCache, knobUnroll, knobReduce, knobRowHint},
	defaults: func(s *space) point {
		d := s.dim("D")
		vec := widest(d, 4)
		tpr := 128
		if s.dialect == device.CUDA {
			// A block per row, each thread holding two vectors: few
			// registers (full occupancy) and all of a row's loads in
			// flight at once. On the H200 this was the best point of every
			// rmsnorm search that reached it (run 6d: 512 at D=4096, 256 at
			// D=2048); start there rather than hope ten steps reach it.
			tpr = min(max(d/(2*vec), minTPB), s.maxTPB)
		}
		return point{"tpr": strconv.Itoa(tpr), "rpb": "1", "vec": strconv.Itoa(vec), "cache": "regs",
			"unroll": "1", "reduce": s.defaultReduce(), "hint": "none"}
	},
	canon: func(s *space, p point) {
		if p["cache"] == "regs" {
			p["unroll"] = "1" // the register loops unroll fully
		}
		if p["tpr"] == "1" {
			p["reduce"] = s.defaultReduce() // nothing to reduce
		}
	},
	plan: func(s *space, p point) (*plan, error) {
		d, tpr, rpb, vec := s.dim("D"), p.int("tpr"), p.int("rpb"), p.int("vec")
		switch {
		case d%vec != 0:
			return nil, fmt.Errorf("vec %d does not divide D=%d", vec, d)
		case tpr*vec > d:
			return nil, fmt.Errorf("tpr %d x vec %d is wider than D=%d", tpr, vec, d)
		case p["cache"] == "regs" && d%(tpr*vec) != 0:
			return nil, fmt.Errorf("cache=regs needs tpr %d x vec %d to divide D=%d", tpr, vec, d)
		case p["cache"] == "regs" && d/tpr > maxFloats:
			return nil, fmt.Errorf("a row slice of %d floats per work-item is too many registers", d/tpr)
		}
		if err := s.checkHint(p); err != nil {
			return nil, err
		}
		tpb := tpr * rpb
		pl := &plan{tpb: tpb, grid: s.rowsGrid(rpb)}
		red := reduceSlots(p, tpb, tpr)
		pl.shared = 4 * red
		pl.def("TPB", tpb)
		pl.def("TPR", tpr)
		pl.def("RPB", rpb)
		pl.def("VEC", vec)
		pl.def("RED", red)
		pl.n["UNROLL"] = p.int("unroll")
		keep := "re-read for the scaling pass"
		if p["cache"] == "regs" {
			pl.def("NVEC", d/(tpr*vec))
			keep = "kept in registers"
		}
		pl.summary = fmt.Sprintf("%d work-items per row x %d rows per group, %s loads, row %s, %s reduction%s",
			tpr, rpb, vecName(vec), keep, p["reduce"], hintSummary(p))
		return pl, nil
	},
}

// topkFamily: algo=thread has one work-item per row keep a sorted top-K
// list; rank has tpr work-items per row rank each logit against the row
// in local memory (as the seed); argmax has tpr work-items per row hold the
// row in registers and pick the K winners by K segment-wide argmaxes.
var topkFamily = &family{
	knobs: []knob{knobAlgo, knobTPR, knobRPB, knobVec, knobReduce, knobFast},
	defaults: func(s *space) point {
		// Up to a warp per row, each lane holding one vector of up to
		// float2, 128 work-items per group.
		e := s.dim("E")
		vec := widest(e, max(1, min(e/32, 2)))
		tpr := widest(e/vec, 32)
		return point{"algo": "argmax", "tpr": strconv.Itoa(tpr), "rpb": strconv.Itoa(max(1, 128/tpr)),
			"vec": strconv.Itoa(vec), "reduce": s.defaultReduce(), "fast": "0"}
	},
	canon: func(s *space, p point) {
		if p["algo"] == "thread" {
			p["tpr"] = "1"
		}
		if p["algo"] != "argmax" || p["tpr"] == "1" {
			p["reduce"] = s.defaultReduce()
		}
	},
	plan: func(s *space, p point) (*plan, error) {
		e, k, tpr, rpb, vec := s.dim("E"), s.dim("K"), p.int("tpr"), p.int("rpb"), p.int("vec")
		if e%vec != 0 {
			return nil, fmt.Errorf("vec %d does not divide E=%d", vec, e)
		}
		tpb := tpr * rpb
		pl := &plan{tpb: tpb, grid: s.rowsGrid(rpb)}
		pl.def("TPB", tpb)
		pl.def("TPR", tpr)
		pl.def("RPB", rpb)
		pl.def("VEC", vec)
		switch p["algo"] {
		case "thread":
			pl.summary = fmt.Sprintf("one work-item per row keeps a sorted top-%d list, %d rows per group of %d", k, rpb, tpb)
		case "rank":
			if tpr > e {
				return nil, fmt.Errorf("tpr %d is more than E=%d logits", tpr, e)
			}
			pl.shared = 4 * rpb * (e + 2*k)
			pl.summary = fmt.Sprintf("%d work-items per row x %d rows per group rank the logits in local memory", tpr, rpb)
		case "argmax":
			if e%(tpr*vec) != 0 {
				return nil, fmt.Errorf("tpr %d x vec %d does not divide E=%d", tpr, vec, e)
			}
			if e/tpr > maxFloats {
				return nil, fmt.Errorf("%d logits per work-item is too many registers", e/tpr)
			}
			red := reduceSlots(p, tpb, tpr)
			pl.shared = 8 * red
			pl.def("NV", e/(tpr*vec))
			pl.def("RED", red)
			pl.summary = fmt.Sprintf("%d work-items per row x %d rows per group hold the row in registers and take %d %s argmaxes",
				tpr, rpb, k, p["reduce"])
		}
		return pl, nil
	},
}

// tttFamily: one group per row; work-item (c, sl) owns columns c*VEC.. of W
// (CG = F/VEC column groups, coalesced) and W's rows sl*SLICE_ROWS..
// (slices of the input dimension). Both matrix-vector products sum per
// slice, then across slices in a fixed order. cache=regs keeps the W tile
// in registers between step 1 and step 9; prefetch also loads the W_grad
// tile up front, so that every global load is issued before the first
// reduction.
var tttFamily = &family{
	knobs: []knob{knobVec, knobSlices, knobTTTC, knobUnroll, knobReduce},
	defaults: func(s *space) point {
		return point{"vec": strconv.Itoa(widest(s.dim("F"), 4)), "slices": "16", "cache": "regs", "unroll": "1",
			"reduce": s.defaultReduce()}
	},
	canon: func(s *space, p point) {
		if p["cache"] != "reload" {
			p["unroll"] = "1"
		}
	},
	plan: func(s *space, p point) (*plan, error) {
		f, vec, slices := s.dim("F"), p.int("vec"), p.int("slices")
		if f%vec != 0 || f%slices != 0 {
			return nil, fmt.Errorf("vec %d and slices %d must divide F=%d", vec, slices, f)
		}
		cg, rows := f/vec, f/slices
		tiles := map[string]int{"reload": 0, "regs": 1, "prefetch": 2}[p["cache"]]
		if tiles*rows*vec > maxFloats {
			return nil, fmt.Errorf("%d tiles of %d floats per work-item is too many registers", tiles, rows*vec)
		}
		tpb := cg * slices
		pl := &plan{tpb: tpb, grid: s.t.RowVar + "*LOCAL"}
		red := reduceSlots(p, tpb, tpb)
		pl.shared = 4 * (7*f + slices*f + red)
		pl.def("TPB", tpb)
		pl.def("TPR", tpb) // the reductions span the whole group
		pl.def("VEC", vec)
		pl.def("CG", cg)
		pl.def("SLICES", slices)
		pl.def("SLICE_ROWS", rows)
		pl.def("RED", red)
		pl.n["UNROLL"] = p.int("unroll")
		pl.summary = fmt.Sprintf("one group of %d per row: %d column groups of %s x %d slices of %d rows of W, W tile %s, %s reductions",
			tpb, cg, vecName(vec), slices, rows, p["cache"], p["reduce"])
		return pl, nil
	},
}
