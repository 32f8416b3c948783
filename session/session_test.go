package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"discover/device"
	"discover/eval"
	"discover/kernel"
	"discover/search"
)

func TestLoadsZMLXSessionFiles(t *testing.T) {
	s, err := Load(filepath.Join("testdata", "zmlx_session.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Metadata.TargetName != "glm_rmsnorm" || s.Metadata.BestSpeedup != 1.31 || s.Metadata.Dialect != "" {
		t.Fatalf("metadata = %+v", s.Metadata)
	}
	best := s.TreeData.Best()
	if best.NodeID != "gen1_0a1b2c3d4e5f" || best.EvalResult.MedianUs != 32.4 {
		t.Fatalf("best = %s %+v", best.NodeID, best.EvalResult)
	}
	broken := s.TreeData.Lookup("gen1_ffeeddccbbaa")
	if broken == nil || broken.EvalResult.Correct || broken.EvalResult.MedianUs != 0 || *broken.EvalResult.CompileError == "" {
		t.Fatalf("the failed node (median_us: Infinity) did not load as failed: %+v", broken)
	}
}

func TestPythonNonFiniteOnlyOutsideStrings(t *testing.T) {
	in := `{"a": Infinity, "b": -Infinity, "c": NaN, "d": "NaN and Infinity \" Infinity"}`
	want := `{"a": null, "b": null, "c": null, "d": "NaN and Infinity \" Infinity"}`
	if got := string(pythonNonFinite([]byte(in))); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestSaveIsAtomicAndRoundTrips(t *testing.T) {
	dir := t.TempDir()
	path := Path(dir, "rmsnorm")
	tree := search.New(kernel.Candidate{Spec: kernel.Spec{Source: "seed"}, LLMReasoning: "seed"}, 1)
	tree.Root.EvalResult = &eval.Result{Compiled: true, Correct: true, Reward: 1, Speedup: 1, MedianUs: 10}
	s := New("rmsnorm", "mock", device.Info{API: device.OpenCL, Name: "pocl", MemoryBytes: 4 << 30}, tree)
	s.Refresh()
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Metadata.SessionID != s.Metadata.SessionID || back.Metadata.Dialect != device.OpenCL || back.Metadata.TotalEvaluated != 1 {
		t.Fatalf("round trip lost metadata: %+v", back.Metadata)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("save left %d files behind, want only the session", len(entries))
	}
}

func TestLoadRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"garbage":    "not json",
		"other json": `{"name": "x"}`,
		"schema 2":   `{"schema_version": "2.0", "metadata": {"target_name": "x"}, "tree_data": {"root": {"node_id": "root"}}}`,
		"no tree":    `{"schema_version": "1.0", "metadata": {"target_name": "x"}}`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(path, []byte(body), 0o644)
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "not a discover session file") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
