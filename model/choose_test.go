package model

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"discover/device"
	"discover/export"
	"discover/pack"
	"discover/target"
)

// serialRMSNorm is a correct RMSNorm that is not the seed: every
// work-item sums the whole row itself, in order.
const serialRMSNorm = `__kernel void rmsnorm(__global const float* x, __global const float* weight,
                      __global float* out, const uint n_rows)
{
    const uint row = get_group_id(0);
    if (row >= n_rows) return;
    __global const float* xr = x + (size_t)row * D;
    float ss = 0.0f;
    for (uint j = 0; j < D; ++j) ss += xr[j] * xr[j];
    const float inv = 1.0f / sqrt(ss / (float)D + 1e-6f);
    for (uint j = get_local_id(0); j < D; j += get_local_size(0)) out[(size_t)row * D + j] = xr[j] * inv * weight[j];
}`

// entry is a pack entry for a kernel of family at the tiny preset's dims.
func entry(t *testing.T, info device.Info, family, source string, rows int, local int, speedup float64) pack.Entry {
	t.Helper()
	cfg := Presets["tiny"]
	ts, _, err := cfg.targets()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ts, func(x *target.Target) bool { return x.Kernel == family })
	tg := ts[i]
	l, err := export.SeedLaunch(tg, device.OpenCL)
	if err != nil {
		t.Fatal(err)
	}
	l.Local = [3]int{local, 1, 1}
	l.Vars["LOCAL"] = local
	return pack.Entry{
		Key:     pack.Key{Target: tg.Name, Dialect: "opencl", Device: info.Name, DType: target.Float32, Rows: rows},
		Speedup: speedup, SpeedupP10: speedup - 0.05, Source: source,
		Manifest: &export.Manifest{Target: tg.Name, Entry: tg.Entry, Dialect: device.OpenCL, DType: target.Float32,
			RowVar: tg.RowVar, Dims: tg.Dims, Defines: tg.Defines(), Launch: l, Provenance: export.Provenance{NodeID: "hand"}},
	}
}

// TestChoose: a class takes the pack's fastest entry at its family, dims,
// device and rows; otherwise the seed, with the check that failed.
func TestChoose(t *testing.T) {
	info := device.Info{API: device.OpenCL, Name: "cpu"}
	cfg := Presets["tiny"]
	p := pack.New()
	p.Add(entry(t, info, "rmsnorm", serialRMSNorm, 1, 64, 1.2))
	faster := entry(t, info, "rmsnorm", serialRMSNorm, 1, 32, 1.5)
	faster.Target = "other_rmsnorm" // same family and dims, another target name
	p.Add(faster)
	p.Add(entry(t, info, "swiglu", "s", 4, 256, 2)) // tiny launches swiglu at rows = K = 2
	gating := entry(t, info, "topk_gating", "g", 1, 64, 2)
	gating.Device = "another cpu"
	p.Add(gating)

	choices, err := Choose(cfg, info, p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"rmsnorm":     "pack: other_rmsnorm node hand, 1.500x at rows=1",
		"topk_gating": "seed: no pack entry for topk_gating at E=8 K=2 on cpu",
		"swiglu":      "seed: no pack entry at rows=2 (has rows 4)",
		"moe_combine": "seed: no pack entry for moe_combine at D=64 K=2",
	}
	for _, ch := range choices {
		if got := ch.From + ": " + ch.Why; got != want[ch.Family] {
			t.Errorf("%s: %q, want %q", ch.Family, got, want[ch.Family])
		}
	}
	if _, err := Choose(cfg, device.Info{API: device.CUDA, Name: "NVIDIA H200"}, p); err == nil ||
		!strings.Contains(err.Error(), "no kernels for NVIDIA H200 (cuda); it has kernels for cpu (opencl), another cpu (opencl)") {
		t.Errorf("Choose on another device = %v", err)
	}
}

// TestPatchedLoopAgrees: the loop with a pack's RMSNorm (a different,
// correct kernel) decodes the same tokens as the seed loop.
func TestPatchedLoopAgrees(t *testing.T) {
	m, dev := openTiny(t, 3)
	p := pack.New()
	p.Add(entry(t, dev.Info(), "rmsnorm", serialRMSNorm, 1, 16, 1.3))
	choices, err := Choose(m.Config(), dev.Info(), p)
	if err != nil {
		t.Fatal(err)
	}
	if choices[0].Family != "rmsnorm" || choices[0].From != "pack" {
		t.Fatalf("choices %+v", choices)
	}
	rec, err := Validate(context.Background(), m, choices, Options{MaxTokens: 10, Runs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.TokenIdentical || rec.Fidelity.FirstDivergence != -1 || rec.DiscoveredTPS == nil {
		t.Errorf("patched loop: identical %v, fidelity %+v", rec.TokenIdentical, rec.Fidelity)
	}
	if kt := rec.PerKernelUs["rmsnorm"]; kt.Launches != 2*m.Config().Layers+1 || kt.DiscoveredUs <= 0 {
		t.Errorf("rmsnorm time %+v", kt)
	}

	// A wrong kernel is caught: the tokens diverge.
	wrong := entry(t, dev.Info(), "rmsnorm", strings.Replace(serialRMSNorm, "xr[j] * inv", "xr[j] * inv * 0.5f + 0.1f", 1), 1, 16, 1.3)
	p = pack.New()
	p.Add(wrong)
	choices, _ = Choose(m.Config(), dev.Info(), p)
	rec, err = Validate(context.Background(), m, choices, Options{MaxTokens: 10, Runs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rec.TokenIdentical || rec.Fidelity.FirstDivergence < 0 || rec.Fidelity.Matched != rec.Fidelity.FirstDivergence ||
		len(rec.DiscoveredTokens) != 10 || len(rec.BaselineTokens) != 10 {
		t.Errorf("wrong kernel: identical %v, fidelity %+v", rec.TokenIdentical, rec.Fidelity)
	}
	verdicts, promoted := Promote(rec)
	if len(verdicts) != 1 || verdicts[0].Pass || !strings.Contains(verdicts[0].Reason, "tokens differ") || len(promoted.Entries) != 0 {
		t.Errorf("gate on a wrong kernel: %+v", verdicts)
	}
}

// TestPromote: the gate passes an entry only with p10 above 1.01 and a
// token-identical, not slower model run, and says why not.
func TestPromote(t *testing.T) {
	info := device.Info{API: device.OpenCL, Name: "cpu"}
	run := func(p10 float64, identical bool, base, disc float64) Verdict {
		e := entry(t, info, "rmsnorm", "s", 1, 64, 1.2)
		e.SpeedupP10 = p10
		delta := 100 * (disc - base) / base
		rec := &Record{BaselineTPS: base, DiscoveredTPS: &disc, DiscoveredDeltaPct: &delta, TokenIdentical: identical,
			Fidelity: Fidelity{FirstDivergence: -1}, Kernels: []Choice{{Family: "rmsnorm", From: "pack", Entry: &e}, {Family: "swiglu", From: "seed"}}}
		if !identical {
			rec.Fidelity.FirstDivergence = 3
		}
		v, p := Promote(rec)
		if len(v) != 1 || (len(p.Entries) == 1) != v[0].Pass {
			t.Fatalf("verdicts %+v, promoted %d", v, len(p.Entries))
		}
		return v[0]
	}
	for _, tc := range []struct {
		p10       float64
		identical bool
		base      float64
		disc      float64
		pass      bool
		reason    string
	}{
		{1.05, true, 100, 101, true, "p10 1.050x, token-identical, model level +1.0%"},
		{1.05, true, 100, 100, true, "model level +0.0%"},
		{1.01, true, 100, 101, false, "kernel-level p10 1.010x is not above 1.01x"},
		{0, true, 100, 101, false, "no kernel-level p10 in the pack"},
		{1.05, false, 100, 101, false, "tokens differ from the baseline's (first at 3)"},
		{1.05, true, 100, 99, false, "model level 1.0% slower"},
	} {
		v := run(tc.p10, tc.identical, tc.base, tc.disc)
		if v.Pass != tc.pass || !strings.Contains(v.Reason, tc.reason) {
			t.Errorf("p10 %v identical %v %v->%v: %+v, want pass %v with %q", tc.p10, tc.identical, tc.base, tc.disc, v, tc.pass, tc.reason)
		}
	}
}

// TestAppendRecord: records accumulate in a JSON array; a file that is not
// one is left alone.
func TestAppendRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "benchmark_results.json")
	for i := range 3 {
		if err := AppendRecord(path, &Record{Model: "m", BaselineTPS: float64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []Record
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &got); err != nil || len(got) != 3 || got[2].BaselineTPS != 2 {
		t.Fatalf("records %v %+v", err, got)
	}
	os.WriteFile(path, []byte(`{"model": "x"}`), 0o644)
	if err := AppendRecord(path, &Record{Model: "m"}); err == nil {
		t.Error("appended to an object")
	}
	if data, _ := os.ReadFile(path); string(data) != `{"model": "x"}` {
		t.Errorf("file overwritten: %s", data)
	}
}
