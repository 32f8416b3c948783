package llm

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"discover/device"
	"discover/eval"
	"discover/target"
)

var update = flag.Bool("update", false, "rewrite the golden prompts in testdata")

// TestPromptGolden keeps the whole prompt of one request per dialect in
// testdata, so that a change to it is reviewed as text.
func TestPromptGolden(t *testing.T) {
	for _, d := range []device.Dialect{device.OpenCL, device.CUDA} {
		t.Run(string(d), func(t *testing.T) {
			req := testRequest(t, 3)
			req.Dialect, req.Device.API = d, d
			spec, err := eval.SeedSpec(req.Target, d)
			if err != nil {
				t.Fatal(err)
			}
			req.Parent.Spec, req.Best.Spec = spec, spec
			system, user := Prompt(req)
			got := "=== system ===\n" + system + "\n=== user ===\n" + user
			path := filepath.Join("testdata", "prompt_rmsnorm_"+string(d)+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./llm -run Golden -update)", err)
			}
			if got != string(want) {
				t.Errorf("prompt differs from %s (run with -update and review the diff):\n%s", path, got)
			}
		})
	}
}

// TestPromptBriefs checks what every prompt must tell the model, for
// every target and dialect.
func TestPromptBriefs(t *testing.T) {
	for _, tg := range target.All() {
		for _, d := range tg.Dialects() {
			t.Run(tg.Name+"/"+string(d), func(t *testing.T) {
				spec, err := eval.SeedSpec(tg, d)
				if err != nil {
					t.Fatal(err)
				}
				parent := Example{NodeID: "root", Spec: spec, Reasoning: "seed", Result: &eval.Result{Correct: true, Speedup: 1,
					Shapes: []eval.ShapeResult{{Rows: 1, MedianUs: 3, SeedMedianUs: 3, Speedup: 1, GBs: 10, PctCopyBW: 0.5}}}}
				best := parent
				best.NodeID, best.Reasoning = "gen3_best", "vectorized"
				best.Spec.Source = "// the best kernel\n" + spec.Source
				req := Request{Target: tg, Dialect: d, N: 2, Parent: parent, Best: best,
					Device: device.Info{API: d, Name: "Fake GPU", ComputeUnits: 132, MaxWorkGroupSize: 1024, LocalMemBytes: 48 << 10, CopyBandwidthGBs: 3900},
					History: []Attempt{{NodeID: "gen2_bad", Reasoning: "shuffles", Failure: eval.CompileError,
						Detail: strings.Repeat("error: something\n", 30)}}}
				_, user := Prompt(req)
				seed := tg.Seeds[d]
				for _, want := range []string{
					"Write 2 new variants", "Fake GPU", "132", "3900 GB/s", strings.TrimSpace(tg.Math)[:20],
					tg.Inputs[0].Name, tg.Outputs[0].Name, "n_rows", entrySignature(tg, d),
					"THREADGROUP: " + formatGroup(seed.Local), "GRID: " + strings.Join(seed.Global, ", "),
					"# The parent: node root", "% of copy BW", "# The best so far: node gen3_best", "// the best kernel",
					"gen2_bad: FAILED compile_error", "[...]", "# Strategies worth trying", "---VARIANT---", "REASONING:", "SOURCE:",
				} {
					if !strings.Contains(user, want) {
						t.Errorf("prompt lacks %q", want)
					}
				}
				if strings.Count(user, "error: something") > 8 {
					t.Errorf("a failure's detail is not trimmed")
				}
			})
		}
	}
}
