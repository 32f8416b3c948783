package pack_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"discover/device"
	"discover/export"
	"discover/internal/sessiontest"
	"discover/pack"
	"discover/target"
)

func entry(targetName, deviceName string, rows int, speedup float64, node string) pack.Entry {
	return pack.Entry{
		Key:     pack.Key{Target: targetName, Dialect: "opencl", Device: deviceName, DType: target.Float32, Rows: rows},
		Speedup: speedup, MedianUs: 100 / speedup, SeedMedianUs: 100,
		Source: "// " + node, Manifest: &export.Manifest{Provenance: export.Provenance{NodeID: node}},
	}
}

func TestMergeKeepsTheFasterEntryPerKey(t *testing.T) {
	a, b := pack.New(), pack.New()
	for _, e := range []pack.Entry{
		entry("rmsnorm", "gpu0", 1, 1.10, "a-rms-1"),     // loses to b
		entry("rmsnorm", "gpu0", 4096, 1.50, "a-rms-4k"), // beats b
		entry("rmsnorm", "gpu1", 1, 1.01, "a-only"),      // only in a
	} {
		a.Add(e)
	}
	for _, e := range []pack.Entry{
		entry("rmsnorm", "gpu0", 1, 1.30, "b-rms-1"),
		entry("rmsnorm", "gpu0", 4096, 1.20, "b-rms-4k"),
		entry("fused_swiglu", "gpu0", 1, 1.05, "b-only"),
	} {
		b.Add(e)
	}
	dir := t.TempDir()
	for name, p := range map[string]*pack.Pack{"a.json": a, "b.json": b} {
		if err := p.Save(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	la, err := pack.Load(filepath.Join(dir, "a.json"))
	if err != nil {
		t.Fatal(err)
	}
	lb, err := pack.Load(filepath.Join(dir, "b.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range [][]*pack.Pack{{la, lb}, {lb, la}} {
		merged := pack.Merge(order...)
		var got []string
		for _, e := range merged.Entries {
			got = append(got, e.Key.String()+"="+e.Manifest.Provenance.NodeID)
		}
		want := []string{
			"fused_swiglu/opencl/gpu0/float32/rows=1=b-only",
			"rmsnorm/opencl/gpu0/float32/rows=1=b-rms-1",
			"rmsnorm/opencl/gpu0/float32/rows=4096=a-rms-4k",
			"rmsnorm/opencl/gpu1/float32/rows=1=a-only",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("merged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestAddTiesKeepTheLowerMedian(t *testing.T) {
	p := pack.New()
	first := entry("rmsnorm", "gpu0", 1, 1.2, "first")
	second := entry("rmsnorm", "gpu0", 1, 1.2, "second")
	second.MedianUs = first.MedianUs - 1
	if !p.Add(first) || !p.Add(second) || p.Add(first) {
		t.Fatal("Add kept the wrong entry")
	}
	if len(p.Entries) != 1 || p.Entries[0].Manifest.Provenance.NodeID != "second" {
		t.Fatalf("entries = %+v", p.Entries)
	}
}

// TestFromSessionPicksPerShape: a kernel that wins at the large shape but
// loses at B=1 is the pack's kernel for the large shape only.
func TestFromSessionPicksPerShape(t *testing.T) {
	tg, _ := target.Lookup("rmsnorm")
	s, nodes := sessiontest.New(tg, device.OpenCL,
		sessiontest.Node{Parent: -1, Local: 128, Speedups: []float64{0.9, 1.0, 1.1, 1.6}},
		sessiontest.Node{Parent: 0, Local: 64, Speedups: []float64{1.2, 0.9, 1.0, 1.1}},
		sessiontest.Node{Parent: 0, Failure: "wrong_result"})
	entries, err := pack.FromSession(s, tg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{1: nodes[1].NodeID, 4: "root", 16: nodes[0].NodeID, 4096: nodes[0].NodeID}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(entries), len(want))
	}
	for _, e := range entries {
		if got := e.Manifest.Provenance.NodeID; got != want[e.Rows] {
			t.Errorf("rows %d: node %s, want %s", e.Rows, got, want[e.Rows])
		}
		if e.Device != "test device" || e.DType != target.Float32 || e.Dialect != "opencl" || e.Source == "" {
			t.Errorf("entry key or source: %+v", e.Key)
		}
		if e.SpeedupP10 != 0.97*e.Speedup { // sessiontest's p10
			t.Errorf("rows %d: speedup p10 %v of speedup %v", e.Rows, e.SpeedupP10, e.Speedup)
		}
	}
}

func TestLoadRejectsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"session.json": `{"schema_version": "1.0"}`,
		"broken.json":  `{"format": "discover-pack/1", "entries": [{"target": "x"}]}`,
		"garbage.json": `not json`,
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(body), 0o644)
		if _, err := pack.Load(path); err == nil {
			t.Errorf("%s loaded", name)
		}
	}
}
