package llm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"discover/device"
	"discover/devices"
	"discover/eval"
	"discover/internal/devtest"
	"discover/kernel"
	"discover/target"
)

var dialects = []device.Dialect{device.OpenCL, device.CUDA}

// h200 is the CUDA device the templates are written for.
var h200 = device.Info{API: device.CUDA, MaxWorkGroupSize: 1024, LocalMemBytes: 48 << 10}

func newTestSpace(t *testing.T, tg *target.Target, d device.Dialect) *space {
	t.Helper()
	info := device.Info{API: d, MaxWorkGroupSize: 4096, LocalMemBytes: 512 << 10} // PoCL's
	if d == device.CUDA {
		info = h200
	}
	s, err := newSpace(tg, d, info)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTunerSpaces renders every point of every family in both dialects:
// each is valid, self-contained, unique, launches whole work-groups, and
// reads back as itself from its reasoning and from its source.
func TestTunerSpaces(t *testing.T) {
	for _, tg := range target.All() {
		for _, d := range dialects {
			t.Run(tg.Name+"/"+string(d), func(t *testing.T) {
				s := newTestSpace(t, tg, d)
				def := s.canon(s.fam.defaults(s))
				if _, err := s.check(def); err != nil {
					t.Fatalf("default point %s: %v", s.format(def), err)
				}
				if start, _ := s.start(); s.format(start) != s.format(def) {
					t.Fatalf("start %s is not the default %s", s.format(start), s.format(def))
				}
				nb := s.neighbours(def)
				if len(nb) < 3 {
					t.Errorf("default point has %d neighbours", len(nb))
				}
				for _, q := range nb {
					if n := len(strings.Split(s.moved(def, q), ",")); n > 2 {
						t.Errorf("neighbour %s moves %d knobs", s.format(q), n)
					}
				}
				all := s.all()
				hashes := map[string]string{}
				for _, p := range all {
					v, err := s.render(p)
					if err != nil {
						t.Fatal(err)
					}
					if err := kernel.CheckIncludes(string(d), v.Source); err != nil {
						t.Fatalf("%s: %v", s.format(p), err)
					}
					if d == device.CUDA && !strings.Contains(v.Source, `extern "C" __global__`) {
						t.Fatalf("%s: no extern \"C\" __global__ entry", s.format(p))
					}
					if other, dup := hashes[kernel.SourceHash(v.Source)]; dup {
						t.Fatalf("%s and %s render the same kernel", other, s.format(p))
					}
					hashes[kernel.SourceHash(v.Source)] = s.format(p)
					for _, text := range []string{v.Reasoning, v.Source} {
						if q, ok := s.parse(text); !ok || s.format(q) != s.format(p) {
							t.Fatalf("%s does not read back from %.60q", s.format(p), text)
						}
					}
					if v.Threadgroup[0] < minTPB || v.Threadgroup[0] > s.maxTPB {
						t.Fatalf("%s: work-group %v", s.format(p), v.Threadgroup)
					}
					vars := tg.Vars(tg.Shapes[0])
					vars["LOCAL"] = v.Threadgroup[0]
					if _, err := kernel.EvalExpr(v.Grid[0], vars); err != nil {
						t.Fatalf("%s: %v", s.format(p), err)
					}
				}
				t.Logf("%d points; default %s with %d neighbours", len(all), s.format(def), len(nb))
			})
		}
	}
}

// TestTunerOtherDims starts every family on the dims of other models
// (targets will come from config.json files): there is always a valid
// start with neighbours.
func TestTunerOtherDims(t *testing.T) {
	cases := []struct {
		target string
		dims   []target.Dim
	}{
		{"rmsnorm", []target.Dim{{Name: "D", Value: 2880}}},
		{"rmsnorm", []target.Dim{{Name: "D", Value: 7168}}},
		{"rmsnorm", []target.Dim{{Name: "D", Value: 896}}},
		{"fused_swiglu", []target.Dim{{Name: "D", Value: 1407}}},
		{"moe_combine", []target.Dim{{Name: "D", Value: 7168}, {Name: "K", Value: 8}}},
		{"moe_combine", []target.Dim{{Name: "D", Value: 2880}, {Name: "K", Value: 32}}},
		{"topk_gating", []target.Dim{{Name: "E", Value: 160}, {Name: "K", Value: 6}}},
		{"topk_gating", []target.Dim{{Name: "E", Value: 256}, {Name: "K", Value: 8}}},
		{"topk_gating", []target.Dim{{Name: "E", Value: 7}, {Name: "K", Value: 2}}},
		{"ttt_linear_decode", []target.Dim{{Name: "F", Value: 128}}},
		{"ttt_linear_decode", []target.Dim{{Name: "F", Value: 24}}},
	}
	for _, tc := range cases {
		base, _ := target.Lookup(tc.target)
		tg := *base
		tg.Dims = tc.dims
		for _, d := range dialects {
			s := newTestSpace(t, &tg, d)
			p, ok := s.start()
			if !ok {
				t.Errorf("%s %v %s: no valid point", tc.target, tc.dims, d)
				continue
			}
			if _, err := s.render(p); err != nil {
				t.Error(err)
			}
			if len(s.neighbours(p)) == 0 {
				t.Errorf("%s %v %s: start %s has no neighbours", tc.target, tc.dims, d, s.format(p))
			}
		}
	}
}

// TestTunerRMSNormStart checks where rmsnorm searches start: on CUDA a
// block per row with two vectors per thread (the H200's best, run 6d and
// the sweep of run 7e), on OpenCL 128 work-items per row.
func TestTunerRMSNormStart(t *testing.T) {
	for _, tc := range []struct {
		target string
		d      device.Dialect
		want   string
	}{
		{"rmsnorm", device.CUDA, "tpr=512 rpb=1 vec=4 cache=regs"},
		{"glm_rmsnorm", device.CUDA, "tpr=256 rpb=1 vec=4 cache=regs"},
		{"rmsnorm", device.OpenCL, "tpr=128 rpb=1 vec=4 cache=regs"},
	} {
		tg, _ := target.Lookup(tc.target)
		s := newTestSpace(t, tg, tc.d)
		if p, _ := s.start(); !strings.HasPrefix(s.format(p), tc.want) {
			t.Errorf("%s on %s starts at %s, want %s ...", tc.target, tc.d, s.format(p), tc.want)
		}
	}
}

// TestTunerInvalidPoints checks the limits that keep points off devices
// that cannot run them.
func TestTunerInvalidPoints(t *testing.T) {
	rms, _ := target.Lookup("rmsnorm")
	topk, _ := target.Lookup("topk_gating")
	cases := []struct {
		name string
		tg   *target.Target
		d    device.Dialect
		info device.Info
		p    point
	}{
		{"shuffles on OpenCL", rms, device.OpenCL, device.Info{},
			point{"tpr": "128", "rpb": "1", "vec": "4", "cache": "regs", "unroll": "1", "reduce": "shfl"}},
		{"group above the device's", rms, device.CUDA, device.Info{MaxWorkGroupSize: 256},
			point{"tpr": "512", "rpb": "1", "vec": "4", "cache": "regs", "unroll": "1", "reduce": "shfl"}},
		{"group above 1024 on PoCL", rms, device.OpenCL, device.Info{MaxWorkGroupSize: 4096},
			point{"tpr": "1024", "rpb": "2", "vec": "4", "cache": "regs", "unroll": "1", "reduce": "tree"}},
		{"group below a warp", rms, device.CUDA, h200,
			point{"tpr": "8", "rpb": "2", "vec": "4", "cache": "reload", "unroll": "1", "reduce": "shfl"}},
		{"row slice too big for registers", rms, device.CUDA, h200,
			point{"tpr": "32", "rpb": "1", "vec": "4", "cache": "regs", "unroll": "1", "reduce": "shfl"}},
		{"vector wider than the row", topk, device.CUDA, h200,
			point{"algo": "argmax", "tpr": "4", "rpb": "8", "vec": "4", "reduce": "shfl", "fast": "0"}},
		{"local memory", topk, device.OpenCL, device.Info{LocalMemBytes: 1024},
			point{"algo": "rank", "tpr": "1", "rpb": "64", "vec": "4", "reduce": "tree", "fast": "0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newSpace(tc.tg, tc.d, tc.info)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.check(tc.p); err == nil {
				t.Fatalf("%s is valid", s.format(tc.p))
			}
			for _, p := range s.all() {
				if s.format(p) == s.format(s.canon(tc.p)) {
					t.Fatalf("all() includes %s", s.format(p))
				}
			}
		})
	}
}

func request(tg *target.Target, d device.Dialect, parent Variant, step, n int) Request {
	info := device.Info{API: d, MaxWorkGroupSize: 4096, LocalMemBytes: 512 << 10}
	ex := Example{NodeID: "p", Reasoning: parent.Reasoning, Spec: kernel.Spec{Source: parent.Source}}
	return Request{Target: tg, Dialect: d, Device: info, Parent: ex, Best: ex, N: n, Step: step}
}

func seedVariant(tg *target.Target, d device.Dialect) Variant {
	return Variant{Reasoning: "seed", Source: tg.Seeds[d].Source}
}

func TestTunerGenerate(t *testing.T) {
	tg, _ := target.Lookup("glm_rmsnorm")
	d := device.OpenCL
	s := newTestSpace(t, tg, d)
	def, _ := s.start()
	ctx := context.Background()

	t.Run("from the seed: the default point and random draws", func(t *testing.T) {
		resp, err := NewTuner().Generate(ctx, request(tg, d, seedVariant(tg, d), 1, 4))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Variants) != 4 {
			t.Fatalf("%d variants, want 4", len(resp.Variants))
		}
		if p, _ := s.parse(resp.Variants[0].Reasoning); s.format(p) != s.format(def) {
			t.Errorf("first variant %q, want the default point", resp.Variants[0].Reasoning)
		}
		for _, v := range resp.Variants[1:] {
			if !strings.HasSuffix(v.Reasoning, "random draw") {
				t.Errorf("variant %q, want a random draw", v.Reasoning)
			}
		}
	})

	t.Run("from a tuner parent: neighbours and a random draw, reproducibly", func(t *testing.T) {
		parent, _ := s.render(def)
		req := request(tg, d, parent, 2, 4)
		a, err := NewTuner().Generate(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewTuner().Generate(ctx, req)
		neighbours := map[string]bool{}
		for _, q := range s.neighbours(def) {
			neighbours[s.format(q)] = true
		}
		var near int
		for i, v := range a.Variants {
			if v.Source != b.Variants[i].Source {
				t.Errorf("variant %d differs between two runs of the same step", i)
			}
			p, ok := s.parse(v.Reasoning)
			if !ok {
				t.Fatalf("variant %q has no knobs", v.Reasoning)
			}
			if neighbours[s.format(p)] {
				near++
			}
			if v.Source == parent.Source {
				t.Errorf("variant %d is the parent", i)
			}
		}
		if len(a.Variants) != 4 || near != 3 {
			t.Errorf("%d variants, %d neighbours; want 4 and 3", len(a.Variants), near)
		}
	})

	t.Run("known points are skipped", func(t *testing.T) {
		parent, _ := s.render(def)
		req := request(tg, d, parent, 3, 4)
		for _, q := range s.neighbours(def)[:3] {
			v, _ := s.render(q)
			req.History = append(req.History, Attempt{Reasoning: v.Reasoning})
		}
		g := NewTuner()
		first, _ := g.Generate(ctx, req)
		second, _ := g.Generate(ctx, req)
		seen := map[string]bool{}
		for _, h := range req.History {
			p, _ := s.parse(h.Reasoning)
			seen[s.format(p)] = true
		}
		for _, v := range append(first.Variants, second.Variants...) {
			p, _ := s.parse(v.Reasoning)
			if seen[s.format(p)] {
				t.Errorf("%s proposed twice (or from the history)", s.format(p))
			}
			seen[s.format(p)] = true
		}
		if len(first.Variants)+len(second.Variants) != 8 {
			t.Errorf("%d + %d variants, want 4 + 4", len(first.Variants), len(second.Variants))
		}
	})

	t.Run("the whole space, then exhausted", func(t *testing.T) {
		tg, _ := target.Lookup("moe_combine")
		s := newTestSpace(t, tg, d)
		g := NewTuner()
		parent := seedVariant(tg, d)
		got := map[string]bool{}
		for step := 1; ; step++ {
			resp, err := g.Generate(ctx, request(tg, d, parent, step, 8))
			if errors.Is(err, ErrExhausted) {
				break
			}
			if err != nil || step > 100 {
				t.Fatalf("step %d: %v", step, err)
			}
			for _, v := range resp.Variants {
				p, _ := s.parse(v.Reasoning)
				if got[s.format(p)] {
					t.Fatalf("%s proposed twice", s.format(p))
				}
				got[s.format(p)] = true
			}
			parent = resp.Variants[len(resp.Variants)-1]
		}
		if len(got) != len(s.all()) {
			t.Errorf("proposed %d points of %d", len(got), len(s.all()))
		}
	})
}

// checkOnly checks correctness at every shape and skips the timing.
var checkOnly = eval.Options{ChecksPerShape: 2, Warmup: 0, Samples: 1, SampleTime: 0, MaxLaunches: 1}

// boundsRows leave a partial last work-group at every point, and are cheap
// to check.
var boundsRows = []int{1, 3, 37, 133}

// sample is what the OpenCL test checks beyond the default point: its
// neighbours, and for each value of a categorical knob (the structure: the
// algorithm, the reduction, the cache) two random points that have it.
func sample(s *space, r *rand.Rand) []point {
	def, _ := s.start()
	out := s.neighbours(def)
	for _, k := range s.fam.knobs {
		if k.ordered {
			continue
		}
		for _, v := range slices.Concat(k.values, k.values) {
			for range 1000 {
				if p, ok := s.random(r); ok && p[k.name] == v {
					out = append(out, p)
					break
				}
			}
		}
	}
	return out
}

// TestTunerKernelsCorrectOnOpenCL runs the default point of every target
// at its own shapes, and a sample of other points at boundsRows, through
// the real evaluator on the OpenCL device (PoCL in CI): fresh inputs of
// every distribution, guards, poisoned outputs, two runs.
func TestTunerKernelsCorrectOnOpenCL(t *testing.T) {
	dev := devtest.OpenCL(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	for _, tg := range target.All() {
		t.Run(tg.Name, func(t *testing.T) {
			s, err := newSpace(tg, device.OpenCL, dev.Info())
			if err != nil {
				t.Fatal(err)
			}
			bounds := *tg
			bounds.Shapes = boundsRows
			check := func(tg *target.Target, points []point) {
				ev, err := eval.New(ctx, dev, tg, checkOnly)
				if err != nil {
					t.Fatal(err)
				}
				defer ev.Close()
				for _, p := range points {
					v, err := s.render(p)
					if err != nil {
						t.Fatal(err)
					}
					spec, _ := eval.SeedSpec(tg, device.OpenCL)
					spec.Source, spec.Threadgroup, spec.Grid = v.Source, v.Threadgroup, v.Grid
					res, err := ev.Evaluate(ctx, spec, 11)
					if err != nil || !res.Correct {
						t.Errorf("%s at %v: %s: %s (%v)\n%s", s.format(p), tg.Shapes, res.Failure, res.Detail, err, v.Source)
						continue
					}
					t.Logf("%s at %v: correct (%.1fs)", s.format(p), tg.Shapes, res.EvalSeconds)
				}
			}
			def, _ := s.start()
			check(tg, []point{def})
			check(&bounds, sample(s, r))
		})
	}
}

// TestTunerSweep is the exhaustive baseline that a search's best is
// compared with: it evaluates every point of the template space of each
// target in DISCOVER_TUNER_SWEEP (comma-separated names) on
// DISCOVER_TUNER_DEVICE (auto, cuda or opencl; default auto), with the
// evaluator's default options, and logs the points ranked by reward. With
// DISCOVER_TUNER_SWEEP_OUT=FILE it also writes every result as TSV, a line
// per point as soon as it is evaluated, so a run stopped early keeps what
// it measured; DISCOVER_TUNER_SWEEP_SHARD=i/n evaluates only every n-th
// point from the i-th, to split a large space (about a second a point on a
// GPU) over several runs whose TSVs are then merged, and
// DISCOVER_TUNER_SWEEP_MATCH=REGEXP only the points whose knobs (as
// "tpr=512 rpb=1 ...") match. Points are evaluated in a random order
// (seeded by the shard), so a stopped run leaves a uniform sample. On a
// machine without Go, build the test binary here and carry it:
//
//	CGO_ENABLED=0 go test -c -o tuner.test ./llm
//	DISCOVER_TUNER_SWEEP=rmsnorm ./tuner.test -test.run TestTunerSweep -test.v -test.timeout 0
func TestTunerSweep(t *testing.T) {
	names := os.Getenv("DISCOVER_TUNER_SWEEP")
	if names == "" {
		t.Skip("set DISCOVER_TUNER_SWEEP=target[,target...] to sweep the template space")
	}
	devName := cmp.Or(os.Getenv("DISCOVER_TUNER_DEVICE"), "auto")
	shard, shards := 0, 1
	if v := os.Getenv("DISCOVER_TUNER_SWEEP_SHARD"); v != "" {
		if _, err := fmt.Sscanf(v, "%d/%d", &shard, &shards); err != nil || shard < 0 || shard >= shards {
			t.Fatalf("DISCOVER_TUNER_SWEEP_SHARD=%q: want i/n with 0 <= i < n", v)
		}
	}
	match, err := regexp.Compile(os.Getenv("DISCOVER_TUNER_SWEEP_MATCH"))
	if err != nil {
		t.Fatalf("DISCOVER_TUNER_SWEEP_MATCH: %v", err)
	}
	tsv := io.Discard
	if out := os.Getenv("DISCOVER_TUNER_SWEEP_OUT"); out != "" {
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		tsv = f
		fmt.Fprintf(tsv, "target\tknobs\tcorrect\tfailure\treward\tspeedup\tshape_median_us\n")
	}
	for _, name := range strings.Split(names, ",") {
		tg, ok := target.Lookup(name)
		if !ok {
			t.Fatalf("unknown target %q", name)
		}
		rows, def := sweep(t, devName, tg, shard, shards, match, func(r sweepRow) {
			fmt.Fprintf(tsv, "%s\t%s\t%v\t%s\t%.4f\t%.4f\t%s\n", tg.Name, r.knobs, r.res.Correct,
				r.res.Failure, r.res.Reward, r.res.Speedup, strings.Join(r.medians(), ","))
		})
		slices.SortStableFunc(rows, func(a, b sweepRow) int { return cmp.Compare(b.res.Reward, a.res.Reward) })
		t.Logf("%s: %d points; ranked by reward (geometric mean of the speedups over %v):", tg.Name, len(rows), tg.Shapes)
		for i, r := range rows {
			status := "ok"
			if !r.res.Correct {
				status = fmt.Sprintf("%s (%s)", r.res.Failure, r.res.Detail)
			}
			if i < 20 || r.knobs == def || !r.res.Correct {
				t.Logf("%4d  %-60s reward %.3f  us %v  %s", i+1, r.knobs, r.res.Reward, r.medians(), status)
			}
		}
	}
}

type sweepRow struct {
	knobs string
	res   eval.Result
}

// medians are the row's median times per shape, in microseconds.
func (r sweepRow) medians() []string {
	var us []string
	for _, sh := range r.res.Shapes {
		us = append(us, fmt.Sprintf("%.2f", sh.MedianUs))
	}
	return us
}

// sweep evaluates every shards-th point of tg's space from the shard-th
// whose knobs match, handing each result to done as it comes, and returns
// them with the default point's knobs. A sticky device fault fails that
// point and reopens the device.
func sweep(t *testing.T, devName string, tg *target.Target, shard, shards int, match *regexp.Regexp, done func(sweepRow)) ([]sweepRow, string) {
	ctx := context.Background()
	var dev device.Device
	var ev *eval.Evaluator
	open := func() {
		var err error
		if dev, err = devices.Open(devName, 0); err != nil {
			t.Fatal(err)
		}
		if ev, err = eval.New(ctx, dev, tg, eval.DefaultOptions(dev.Dialect())); err != nil {
			t.Fatal(err)
		}
	}
	closeDev := func() {
		ev.Close()
		dev.Close()
	}
	open()
	defer func() { closeDev() }()
	s, err := newSpace(tg, dev.Dialect(), dev.Info())
	if err != nil {
		t.Fatal(err)
	}
	def, _ := s.start()
	var points []point
	for i, p := range s.all() {
		if i%shards == shard && match.MatchString(s.format(p)) {
			points = append(points, p)
		}
	}
	// In random order, so that a run stopped early has sampled the whole
	// space rather than its first knob values.
	rand.New(rand.NewPCG(uint64(shard), uint64(shards))).Shuffle(len(points), func(i, j int) {
		points[i], points[j] = points[j], points[i]
	})
	t.Logf("%s on %s: sweeping %d points (shard %d/%d, knobs matching %q)", tg.Name, dev.Info().Name, len(points), shard, shards, match)
	var rows []sweepRow
	for i, p := range points {
		v, err := s.render(p)
		if err != nil {
			t.Fatal(err)
		}
		spec, _ := eval.SeedSpec(tg, dev.Dialect())
		spec.Source, spec.Threadgroup, spec.Grid = v.Source, v.Threadgroup, v.Grid
		res, err := ev.Evaluate(ctx, spec, uint64(i))
		if err != nil {
			t.Logf("%s: %v; reopening the device", s.format(p), err)
			closeDev()
			open()
		}
		rows = append(rows, sweepRow{s.format(p), res})
		done(rows[len(rows)-1])
		if (i+1)%50 == 0 {
			t.Logf("%s: %d of %d evaluated", tg.Name, i+1, len(points))
		}
	}
	return rows, s.format(def)
}

// TestTunerCUDATemplatesCompileWithNVRTC compiles each family's default
// CUDA point and all its neighbours with NVRTC (no GPU needed); with
// DISCOVER_TUNER_NVRTC_ALL=1, every point of the space.
func TestTunerCUDATemplatesCompileWithNVRTC(t *testing.T) {
	c := devtest.NVRTC(t)
	for _, tg := range target.All() {
		t.Run(tg.Name, func(t *testing.T) {
			s := newTestSpace(t, tg, device.CUDA)
			def := s.canon(s.fam.defaults(s))
			points := append([]point{def}, s.neighbours(def)...)
			if os.Getenv("DISCOVER_TUNER_NVRTC_ALL") == "1" {
				points = s.all()
			}
			for _, p := range points {
				v, err := s.render(p)
				if err != nil {
					t.Fatalf("%s: %v", s.format(p), err)
				}
				if err := c.Check(v.Source, tg.Entry, tg.Defines()); err != nil {
					t.Fatalf("%s does not compile: %v", s.format(p), err)
				}
			}
		})
	}
}
