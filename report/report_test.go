package report_test

import (
	"bytes"
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"discover/device"
	"discover/eval"
	"discover/internal/sessiontest"
	"discover/report"
	"discover/session"
	"discover/target"
)

func TestJudge(t *testing.T) {
	shape := func(speedup, p10 float64) eval.ShapeResult {
		return eval.ShapeResult{Rows: 1, Speedup: speedup, SpeedupP10: p10}
	}
	for _, tc := range []struct {
		name   string
		shapes []eval.ShapeResult
		want   report.Verdict
	}{
		{"clear win", []eval.ShapeResult{shape(1.2, 1.1), shape(1.1, 1.05)}, report.Use},
		{"win within noise", []eval.ShapeResult{shape(1.2, 1.0), shape(1.1, 0.95)}, report.Marginal},
		{"small win", []eval.ShapeResult{shape(1.03, 1.02)}, report.Marginal},
		{"no p10 (ZMLX)", []eval.ShapeResult{shape(1.3, 0)}, report.Marginal},
		{"slower", []eval.ShapeResult{shape(0.9, 0.8)}, report.Keep},
		{"the seed", []eval.ShapeResult{shape(1, 1)}, report.Keep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &eval.Result{Correct: true, Shapes: tc.shapes}
			r.Score()
			if j := report.Judge(r); j.Verdict != tc.want {
				t.Errorf("Judge = %+v, want %s", j, tc.want)
			}
		})
	}
	if j := report.Judge(&eval.Result{Correct: false, Speedup: 2}); j.Verdict != report.Keep {
		t.Errorf("a failed result: %s", j.Verdict)
	}
}

func save(t *testing.T, s *session.Session, path string) {
	t.Helper()
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
}

func TestCompare(t *testing.T) {
	rms, _ := target.Lookup("rmsnorm")
	swiglu, _ := target.Lookup("fused_swiglu")
	win, _ := sessiontest.New(rms, device.OpenCL, sessiontest.Node{Parent: -1, Speedups: []float64{1.1, 1.2, 1.2, 1.3}})
	meh, _ := sessiontest.New(rms, device.OpenCL, sessiontest.Node{Parent: -1, Speedups: []float64{1.0, 1.0, 1.01, 1.02}})
	lose, _ := sessiontest.New(swiglu, device.OpenCL, sessiontest.Node{Parent: -1, Speedups: []float64{0.9, 0.9, 0.9, 0.9}})
	win.Metadata.LLMBackend, meh.Metadata.LLMBackend, lose.Metadata.LLMBackend = "claude", "mock", "mock"

	dir := t.TempDir()
	pairs := []struct {
		s       *session.Session
		backend string
	}{{meh, "mock"}, {win, "claude"}, {lose, "mock"}}
	a := &report.Autorun{Dir: dir}
	for _, p := range pairs {
		path := session.Path(report.PairDir(dir, p.s.Metadata.TargetName, p.backend), p.s.Metadata.TargetName)
		save(t, p.s, path)
		rel, _ := filepath.Rel(dir, path)
		a.Pairs = append(a.Pairs, report.AutorunPair{Target: p.s.Metadata.TargetName, Backend: p.backend, Session: rel, Status: report.StatusRan})
	}
	a.Pairs = append(a.Pairs, report.AutorunPair{Target: "fused_swiglu", Backend: "openai", Session: "fused_swiglu_openai/fused_swiglu_session.json",
		Status: report.StatusFailed, Error: "no OPENAI_API_KEY"})

	check := func(t *testing.T, c *report.Comparison, withFailed bool) {
		t.Helper()
		if len(c.Targets) != 2 || c.Targets[0].Target != "fused_swiglu" || c.Targets[1].Target != "rmsnorm" {
			t.Fatalf("targets = %+v", c.Targets)
		}
		sw, rm := c.Targets[0], c.Targets[1]
		if rm.Recommendation != report.Use || rm.Backends[0].Backend != "claude" || rm.Backends[1].Backend != "mock" || rm.Backends[1].Verdict != report.Marginal {
			t.Errorf("rmsnorm = %+v", rm)
		}
		if sw.Recommendation != report.Keep || sw.Backends[0].Backend != "mock" {
			t.Errorf("fused_swiglu = %+v", sw)
		}
		if withFailed && (len(sw.Backends) != 2 || sw.Backends[1].Error != "no OPENAI_API_KEY") {
			t.Errorf("the failed pair is missing or lost its error: %+v", sw.Backends)
		}
		var out bytes.Buffer
		if err := report.PrintComparison(&out, c); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`rmsnorm +USE +claude's`, `rmsnorm +2 +mock .* MARGINAL`, `fused_swiglu +KEEP`,
			regexp.QuoteMeta("discover export " + filepath.Join(dir, "rmsnorm_claude", "rmsnorm_session.json") + " -o rmsnorm.cl")} {
			if !regexp.MustCompile(want).MatchString(out.String()) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	}
	t.Run("scan", func(t *testing.T) {
		c, err := report.Compare(dir)
		if err != nil {
			t.Fatal(err)
		}
		if c.From != "scan" {
			t.Errorf("From = %q", c.From)
		}
		check(t, c, false)
	})
	t.Run("summary", func(t *testing.T) {
		if err := a.Save(); err != nil {
			t.Fatal(err)
		}
		c, err := report.Compare(dir)
		if err != nil {
			t.Fatal(err)
		}
		if c.From != report.AutorunFile {
			t.Errorf("From = %q", c.From)
		}
		check(t, c, true)
	})
	t.Run("empty", func(t *testing.T) {
		if _, err := report.Compare(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no autorun_summary.json") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestHTML(t *testing.T) {
	rms, _ := target.Lookup("rmsnorm")
	s, nodes := sessiontest.New(rms, device.OpenCL,
		sessiontest.Node{Parent: -1, Local: 128, Reasoning: "half the work-group", Speedups: []float64{1.0, 1.1, 1.2, 1.4}},
		sessiontest.Node{Parent: 0, Failure: eval.CompileError},
		sessiontest.Node{Parent: 0, Failure: eval.WrongResult},
		sessiontest.Node{Parent: -1, Reasoning: "a <b>bold</b> idea", Speedups: []float64{0.9, 0.9, 0.9, 0.9}})
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, s, "x.json", 5, time.Now()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, n := range append(nodes, s.TreeData.Root) {
		if !strings.Contains(page, `data-node="`+n.NodeID+`"`) {
			t.Errorf("tree lacks node %s", n.NodeID)
		}
	}
	for _, want := range []string{`id="tree"`, `id="progress"`, "compile_error", "wrong_result", "#e6862a", "#d62728", "Winner " + nodes[0].NodeID, "1.400x", "&lt;b&gt;bold"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !strings.Contains(html.UnescapeString(page), nodes[0].Candidate.Spec.Source) {
		t.Error("page lacks the winner's source")
	}
	// Self-contained: nothing to fetch, no template escaping gone wrong.
	for _, bad := range []string{"http://", "https://", "src=", "<script", "<link", "ZgotmplZ"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q", bad)
		}
	}
}

func TestPrintShowsShapesAndStrategies(t *testing.T) {
	rms, _ := target.Lookup("rmsnorm")
	s, nodes := sessiontest.New(rms, device.OpenCL,
		sessiontest.Node{Parent: -1, Reasoning: "vectorize the loads", Speedups: []float64{1.0, 1.1, 1.2, 1.4}},
		sessiontest.Node{Parent: 0, Failure: eval.Timeout})
	var out bytes.Buffer
	report.Print(&out, s, 5)
	for _, want := range []string{nodes[0].NodeID, "vectorize the loads", "1.00 1.10 1.20 1.40", "timeout 1", "4096"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
