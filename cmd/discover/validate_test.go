package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"discover/model"
	"discover/pack"
)

// TestValidate runs the model-level check end to end on PoCL: the tiny
// preset, baseline against a pack made from a real session of the
// topk_gating target (whose E=8, K=2 are tiny's), with the record printed
// and appended, and the promote gate.
func TestValidate(t *testing.T) {
	requireOpenCL(t)
	dir := t.TempDir()
	mustRun(t, dir, "search", "topk_gating", "--llm", "mock", "--steps", "1", "--candidates-per-step", "2", "--device", "opencl")
	mustRun(t, dir, "pack", "add", filepath.Join("discover_sessions", "topk_gating_session.json"), "-o", "pack.json")
	validate := []string{"validate", "--model", "tiny", "--device", "opencl", "--max-tokens", "8", "--runs", "2", "--kernels", "pack.json"}

	res := mustRun(t, dir, append(validate, "--json", "--promote", "winners.json")...)
	rec := decode[model.Record](t, res)
	if rec.Model != "tiny" || rec.Device == "" || rec.Date == "" || rec.BaselineTPS <= 0 || rec.DiscoveredTPS == nil ||
		*rec.DiscoveredTPS <= 0 || rec.DiscoveredDeltaPct == nil || len(rec.BaselineRunsTPS) != 2 {
		t.Errorf("record: %+v", rec)
	}
	// The topk_gating kernels are correct, so the tokens must not change.
	if !rec.TokenIdentical || rec.Fidelity != (model.Fidelity{FirstDivergence: -1, Matched: 8, Total: 8}) ||
		len(rec.BaselineTokens) != 8 || rec.DiscoveredTokens != nil {
		t.Errorf("fidelity: identical %v, %+v", rec.TokenIdentical, rec.Fidelity)
	}
	for _, c := range model.Classes {
		if kt := rec.PerKernelUs[c]; kt.Launches == 0 || kt.BaselineUs <= 0 || kt.DiscoveredUs <= 0 {
			t.Errorf("per_kernel_us[%s] = %+v", c, kt)
		}
	}
	from := map[string]string{}
	for _, ch := range rec.Kernels {
		from[ch.Family] = ch.From
	}
	if from["topk_gating"] != "pack" || from["rmsnorm"] != "seed" || !strings.Contains(res.stderr, "no pack entry for rmsnorm at D=64") {
		t.Errorf("kernels %v; stderr:\n%s", from, res.stderr)
	}
	if len(rec.Bandwidth) != 2 || rec.Bandwidth[0].GBs <= 0 {
		t.Errorf("bandwidth %+v", rec.Bandwidth)
	}

	// The gate judged the one pack entry the loop ran, and the new pack
	// holds exactly those it passed.
	promoted, err := pack.Load(filepath.Join(dir, "winners.json"))
	if err != nil {
		t.Fatal(err)
	}
	verdicts := strings.Count(res.stderr, "PROMOTE ") + strings.Count(res.stderr, "KEEP SEED ")
	if verdicts != 1 || strings.Count(res.stderr, "PROMOTE ") != len(promoted.Entries) {
		t.Errorf("%d verdicts, %d promoted entries; stderr:\n%s", verdicts, len(promoted.Entries), res.stderr)
	}

	// A second run, human output, appends a second record.
	res = mustRun(t, dir, validate...)
	for _, want := range []string{"baseline", "discovered", "tok/s", "matvec_lm_head", "first divergence: none"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	results := filepath.Join(dir, "discover_sessions", "benchmark_results.json")
	var records []model.Record
	data, err := os.ReadFile(results)
	if err == nil {
		err = json.Unmarshal(data, &records)
	}
	if err != nil || len(records) != 2 || records[0].Model != "tiny" {
		t.Fatalf("benchmark_results.json: %v, %d records", err, len(records))
	}

	t.Run("errors", func(t *testing.T) {
		p, _ := pack.Load(filepath.Join(dir, "pack.json"))
		for i := range p.Entries {
			p.Entries[i].Device = "NVIDIA H200"
			p.Entries[i].Dialect = "cuda"
		}
		p.Save(filepath.Join(dir, "h200.json"))
		os.WriteFile(filepath.Join(dir, "corrupt.json"), []byte("{not json"), 0o644)
		corruptDir := filepath.Join(dir, "corrupt")
		os.MkdirAll(corruptDir, 0o755)
		os.WriteFile(filepath.Join(corruptDir, "benchmark_results.json"), []byte(`{"a": 1}`), 0o644)
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"validate", "--model", "nope"}, 2, "glm-4.7-flash, lfm2-8b-a1b, qwen3-30b-a3b, tiny"},
			{[]string{"validate"}, 2, "--model is required"},
			{[]string{"validate", "--model", "tiny", "--layers", "3"}, 2, "tiny has 2 layers"},
			{[]string{"validate", "--model", "corrupt.json"}, 1, "not a JSON config"},
			{[]string{"validate", "--model", "tiny", "--promote", "x.json"}, 2, "--promote needs --kernels"},
			{[]string{"validate", "--model", "tiny", "--device", "opencl", "--kernels", "h200.json"}, 1, "has no kernels for"},
			{[]string{"validate", "--model", "tiny", "--device", "opencl", "--max-tokens", "2", "--runs", "1", "--no-patch",
				"--session-dir", "corrupt"}, 1, "not a JSON array"},
		} {
			res := runCLI(t, dir, nil, tc.args...)
			if res.code != tc.code || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("%v: exit %d, want %d with %q:\n%s", tc.args, res.code, tc.code, tc.want, res.stderr)
			}
		}
		if data, _ := os.ReadFile(filepath.Join(corruptDir, "benchmark_results.json")); string(data) != `{"a": 1}` {
			t.Errorf("a corrupt results file was overwritten: %s", data)
		}
	})
}
