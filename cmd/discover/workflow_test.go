package main

import (
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"discover/export"
	"discover/pack"
	"discover/report"
	"discover/session"
)

// decode parses a command's JSON output.
func decode[T any](t *testing.T, res cliResult) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(res.stdout), &v); err != nil {
		t.Fatalf("stdout is not JSON (%v): %s\nstderr: %s", err, res.stdout, res.stderr)
	}
	return v
}

func mustRun(t *testing.T, dir string, args ...string) cliResult {
	t.Helper()
	res := runCLI(t, dir, nil, args...)
	if res.code != 0 {
		t.Fatalf("discover %s: exit %d\n%s", strings.Join(args, " "), res.code, res.stderr)
	}
	return res
}

// TestWorkflow runs what a user does after a first search: autorun over two
// targets, compare, an HTML report, export, and a pack.
func TestWorkflow(t *testing.T) {
	requireOpenCL(t)
	dir := t.TempDir()
	autorun := []string{"autorun", "--targets", "rmsnorm", "fused_swiglu", "--backends", "mock",
		"--steps", "2", "--candidates-per-step", "2", "--device", "opencl"}
	sum := decode[report.Autorun](t, mustRun(t, dir, append(autorun, "--json")...))
	autorunDir := filepath.Join("discover_sessions", "autorun")
	if len(sum.Pairs) != 2 || sum.Pairs[0].Target != "rmsnorm" || sum.Pairs[1].Target != "fused_swiglu" {
		t.Fatalf("pairs = %+v", sum.Pairs)
	}
	for _, p := range sum.Pairs {
		if p.Status != report.StatusRan || p.Steps != 2 || p.Backend != "mock" || p.BestNodeID == "" {
			t.Errorf("pair %+v", p)
		}
	}
	if _, err := report.LoadAutorun(filepath.Join(dir, autorunDir)); err != nil {
		t.Fatalf("summary file: %v", err)
	}

	t.Run("done pairs are skipped", func(t *testing.T) {
		again := decode[report.Autorun](t, mustRun(t, dir, append(autorun, "--json")...))
		for _, p := range again.Pairs {
			if p.Status != report.StatusSkipped || p.Steps != 2 {
				t.Errorf("second run: %+v", p)
			}
		}
	})

	t.Run("compare", func(t *testing.T) {
		c := decode[report.Comparison](t, mustRun(t, dir, "compare", autorunDir, "--json"))
		if c.From != report.AutorunFile || len(c.Targets) != 2 {
			t.Fatalf("comparison = %+v", c)
		}
		for _, tc := range c.Targets {
			b := tc.Backends[0]
			if len(tc.Backends) != 1 || b.Backend != "mock" || b.BestNodeID == "" || b.Speedup <= 0 || tc.Recommendation != b.Verdict {
				t.Errorf("%s: %+v", tc.Target, tc)
			}
		}
		text := mustRun(t, dir, "compare", autorunDir).stdout
		if !strings.Contains(text, "Recommendations:") || !strings.Contains(text, "fused_swiglu") {
			t.Errorf("compare output:\n%s", text)
		}
	})

	rmsPath := filepath.Join(dir, autorunDir, "rmsnorm_mock", "rmsnorm_session.json")
	s, err := session.Load(rmsPath)
	if err != nil {
		t.Fatal(err)
	}
	best := s.TreeData.Best()

	t.Run("report html", func(t *testing.T) {
		mustRun(t, dir, "report", rmsPath, "--html", "rmsnorm.html")
		data, err := os.ReadFile(filepath.Join(dir, "rmsnorm.html"))
		if err != nil {
			t.Fatal(err)
		}
		page := string(data)
		for _, n := range s.TreeData.Nodes() {
			if !strings.Contains(page, `data-node="`+n.NodeID+`"`) {
				t.Errorf("the tree lacks node %s", n.NodeID)
			}
		}
		if !strings.Contains(html.UnescapeString(page), best.Candidate.Spec.Source) {
			t.Error("the page lacks the winner's source")
		}
	})

	t.Run("report json", func(t *testing.T) {
		sum := decode[report.Summary](t, mustRun(t, dir, "report", rmsPath, "--json", "--top", "2"))
		if sum.BestNodeID != best.NodeID || len(sum.Top) != 2 || len(sum.Top[0].Shapes) != 4 {
			t.Errorf("report --json: %+v", sum)
		}
	})

	t.Run("export", func(t *testing.T) {
		mustRun(t, dir, "export", rmsPath, "-o", "kernels/rmsnorm.cl")
		var m export.Manifest
		data, err := os.ReadFile(filepath.Join(dir, "kernels", "rmsnorm.cl.json"))
		if err == nil {
			err = json.Unmarshal(data, &m)
		}
		if err != nil || m.Entry != "rmsnorm" || m.Provenance.NodeID != best.NodeID || len(m.Args) != 4 {
			t.Fatalf("manifest: %v %+v", err, m)
		}
		res := runCLI(t, dir, nil, "export", rmsPath, "-o", "kernels/rmsnorm.cu")
		if res.code != 2 || !strings.Contains(res.stderr, "must end in .cl") {
			t.Errorf("mismatched extension: exit %d, %s", res.code, res.stderr)
		}
	})

	t.Run("pack", func(t *testing.T) {
		swPath := filepath.Join(dir, autorunDir, "fused_swiglu_mock", "fused_swiglu_session.json")
		mustRun(t, dir, "pack", "add", rmsPath, "-o", "a.json")
		mustRun(t, dir, "pack", "add", swPath, "-o", "a.json") // adds to the existing pack
		mustRun(t, dir, "pack", "add", rmsPath, "-o", "b.json")
		mustRun(t, dir, "pack", "merge", "a.json", "b.json", "-o", "merged.json")
		p := decode[pack.Pack](t, mustRun(t, dir, "pack", "show", "merged.json", "--json"))
		if len(p.Entries) != 8 { // 4 shapes x 2 targets
			t.Errorf("%d entries, want 8", len(p.Entries))
		}
		if text := mustRun(t, dir, "pack", "show", "merged.json").stdout; !strings.Contains(text, "fused_swiglu") {
			t.Errorf("pack show:\n%s", text)
		}
	})
}

// TestAutorunFailedPairsAreRecorded: without an OpenCL platform every pair
// fails; each is tried and recorded with its error, and autorun exits 1.
func TestAutorunFailedPairsAreRecorded(t *testing.T) {
	dir := t.TempDir()
	res := runCLI(t, dir, []string{"OCL_ICD_VENDORS=/nonexistent", "OPENCL_VENDOR_PATH=/nonexistent"},
		"autorun", "--targets", "rmsnorm,topk_gating", "--backends", "mock", "--steps", "1", "--device", "opencl", "--json")
	if res.code != 1 || !strings.Contains(res.stderr, "2 of 2 pairs failed") {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	sum, err := report.LoadAutorun(filepath.Join(dir, "discover_sessions", "autorun"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Pairs) != 2 {
		t.Fatalf("pairs = %+v", sum.Pairs)
	}
	for _, p := range sum.Pairs {
		if p.Status != report.StatusFailed || !strings.Contains(p.Error, "pocl") {
			t.Errorf("pair %+v", p)
		}
	}
	c := decode[report.Comparison](t, runCLI(t, dir, nil, "compare", filepath.Join("discover_sessions", "autorun"), "--json"))
	if len(c.Targets) != 2 || c.Targets[0].Backends[0].Error == "" {
		t.Errorf("compare of failed pairs: %+v", c)
	}
}

func TestAutorunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown target", []string{"--targets", "rmsnorm,nosuch"}, `unknown target "nosuch"`},
		{"unknown backend", []string{"--backends", "mock,gpt"}, "--backends must be one of"},
		{"replay without file", []string{"--backends", "replay"}, "--replay"},
		{"zero candidates", []string{"--candidates-per-step", "0"}, "--candidates-per-step"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, t.TempDir(), nil, append([]string{"autorun"}, tc.args...)...)
			if res.code != 2 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", res.code, res.stderr, tc.want)
			}
		})
	}
}

// TestAutorunCtrlC: an interrupted autorun saves the pair's session and the
// summary, and exits 130.
func TestAutorunCtrlC(t *testing.T) {
	requireOpenCL(t)
	dir := t.TempDir()
	cmd := exec.Command(discoverBin, "autorun", "--targets", "topk_gating", "--backends", "mock", "--steps", "50",
		"--candidates-per-step", "1", "--device", "opencl")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "discover_sessions", "autorun", "topk_gating_mock", "topk_gating_session.json")
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no session after 2 minutes")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want %d", err, exitInterrupted)
	}
	checkSession(t, path)
	sum, err := report.LoadAutorun(filepath.Join(dir, "discover_sessions", "autorun"))
	if err != nil || len(sum.Pairs) != 1 || sum.Pairs[0].Status != report.StatusInterrupted {
		t.Fatalf("summary: %v %+v", err, sum)
	}
}
