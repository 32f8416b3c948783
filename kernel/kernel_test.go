package kernel

import (
	"strings"
	"testing"
)

func TestEvalExpr(t *testing.T) {
	vars := map[string]int{"B": 16, "D": 4096, "LOCAL": 256}
	for _, tc := range []struct {
		expr string
		want int
		bad  bool
	}{
		{expr: "B*D", want: 65536},
		{expr: "B*D/4", want: 16384},
		{expr: "(B+3)/4*LOCAL", want: 1024},
		{expr: " 7 ", want: 7},
		{expr: "B*LOCAL - 1 + 1", want: 4096},
		{expr: "D%100", want: 96},
		{expr: "B/0", bad: true},
		{expr: "B*X", bad: true},
		{expr: "(B", bad: true},
		{expr: "B B", bad: true},
		{expr: "", bad: true},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := EvalExpr(tc.expr, vars)
			if tc.bad {
				if err == nil {
					t.Fatalf("EvalExpr(%q) = %d, want an error", tc.expr, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("EvalExpr(%q) = %d, %v; want %d", tc.expr, got, err, tc.want)
			}
		})
	}
}

func TestSourceHashIgnoresCommentsAndSpacing(t *testing.T) {
	a := "__kernel void f(__global float* x) {\n  x[0] = 1.0f; // set\n}"
	b := "/* header */ __kernel void f(__global float* x) { x[0] = 1.0f; }"
	c := "__kernel void f(__global float* x) { x[0] = 2.0f; }"
	if SourceHash(a) != SourceHash(b) {
		t.Error("comment and whitespace changes must not change the hash")
	}
	if SourceHash(a) == SourceHash(c) {
		t.Error("a code change must change the hash")
	}
	cand := Candidate{Spec: Spec{Source: a}, Generation: 3}
	if id := cand.ID(); len(id) != len("gen3_")+12 || id[:5] != "gen3_" {
		t.Errorf("ID() = %q", id)
	}
}

func TestTrimLogStripsPathsAndBoundsLength(t *testing.T) {
	log := "/root/.cache/pocl/kcache/tempfile-ab.cl:3:5: error: use of undeclared identifier 'y'\n/home/alice/x.h:1: note"
	got := TrimLog(log)
	if strings.Contains(got, "/root") || strings.Contains(got, "/home/alice") {
		t.Errorf("paths left in %q", got)
	}
	if !strings.Contains(got, "tempfile-ab.cl:3:5: error") {
		t.Errorf("the error location was lost: %q", got)
	}
	long := strings.Repeat("error line\n", 500)
	if got := TrimLog(long); strings.Count(got, "\n") > 41 || !strings.HasSuffix(got, "[log trimmed]") {
		t.Errorf("long log not trimmed: %d lines", strings.Count(got, "\n"))
	}
}

func TestGlobalSize(t *testing.T) {
	vars := map[string]int{"B": 5, "D": 10, "LOCAL": 4}
	got, err := GlobalSize([]string{"(B+1)/2*LOCAL", "D"}, vars, [3]int{4, 3, 1})
	if want := [3]int{12, 12, 1}; err != nil || got != want {
		t.Errorf("GlobalSize = %v, %v; want %v", got, err, want)
	}
	for _, grid := range [][]string{{"B-5"}, {"B", "1", "1", "1"}, {"B+"}} {
		if _, err := GlobalSize(grid, vars, [3]int{1, 1, 1}); err == nil {
			t.Errorf("GlobalSize(%q) succeeded", grid)
		}
	}
}
