package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"discover/export"
	"discover/session"
)

func TestBadInputGetsAClearErrorAndExitCode(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.json")
	os.WriteFile(corrupt, []byte(`{"schema_version": "1.0", "metadata": {`), 0o644)
	foreign := filepath.Join(dir, "foreign.json")
	os.WriteFile(foreign, []byte(`{"hello": "world"}`), 0o644)

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown target", []string{"search", "nosuch"}, 2, "valid targets: fused_swiglu"},
		{"negative steps", []string{"search", "rmsnorm", "--steps", "-1"}, 2, "--steps"},
		{"zero candidates", []string{"search", "rmsnorm", "--candidates-per-step", "0"}, 2, "--candidates-per-step"},
		{"bad device", []string{"search", "rmsnorm", "--device", "tpu"}, 2, "--device must be one of"},
		{"bad llm", []string{"search", "rmsnorm", "--llm", "gpt"}, 2, "--llm must be one of"},
		{"not a number", []string{"search", "rmsnorm", "--steps", "many"}, 2, "invalid argument"},
		{"unknown flag", []string{"search", "rmsnorm", "--fast"}, 2, "unknown flag"},
		{"unknown command", []string{"serach"}, 2, "unknown command"},
		{"missing target", []string{"search"}, 2, "accepts 1 arg"},
		{"resume corrupt", []string{"search", "rmsnorm", "--resume=" + corrupt}, 1, "not a discover session file"},
		{"resume foreign", []string{"search", "rmsnorm", "--resume=" + foreign}, 1, "not a discover session file"},
		{"resume missing", []string{"search", "rmsnorm", "--resume", "--session-dir", dir}, 1, "no such file"},
		{"report corrupt", []string{"report", corrupt}, 1, "not a discover session file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, dir, nil, tc.args...)
			if res.code != tc.code || !strings.Contains(res.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", res.code, res.stderr, tc.code, tc.want)
			}
			if strings.Contains(res.stderr, "goroutine") || strings.Contains(res.stderr, "panic") {
				t.Fatalf("stack trace on bad input: %s", res.stderr)
			}
			if lines := strings.Count(strings.TrimSpace(res.stderr), "\n"); lines > 1 {
				t.Errorf("want a short error, got %d lines: %s", lines+1, res.stderr)
			}
		})
	}
	for _, f := range []string{corrupt, foreign} {
		data, _ := os.ReadFile(f)
		if !strings.HasPrefix(string(data), `{"`) || len(data) > 60 {
			t.Errorf("%s was modified: %q", f, data)
		}
	}
}

func TestNoOpenCLPlatformSaysHowToInstallPoCL(t *testing.T) {
	res := runCLI(t, t.TempDir(), []string{"OCL_ICD_VENDORS=/nonexistent", "OPENCL_VENDOR_PATH=/nonexistent"},
		"search", "rmsnorm", "--device", "opencl", "--llm", "mock", "--steps", "1")
	if res.code != 1 || !strings.Contains(res.stderr, "apt-get install pocl-opencl-icd") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestListJSON(t *testing.T) {
	res := runCLI(t, t.TempDir(), nil, "list", "--json")
	var targets []listedTarget
	if err := json.Unmarshal([]byte(res.stdout), &targets); err != nil || res.code != 0 {
		t.Fatalf("list --json: exit %d, %v: %s", res.code, err, res.stdout)
	}
	if len(targets) != 9 {
		t.Fatalf("%d targets, want 9", len(targets))
	}
	for _, lt := range targets {
		if len(lt.Dialects) != 2 || len(lt.Dims) == 0 || lt.Model == "" {
			t.Errorf("incomplete entry %+v", lt)
		}
	}
}

// checkSession loads a session and checks that no node was evaluated twice
// and that the history and the tree agree.
func checkSession(t *testing.T, path string) *session.Session {
	t.Helper()
	s, err := session.Load(path)
	if err != nil {
		t.Fatalf("session does not load: %v", err)
	}
	seen := map[string]bool{}
	for _, h := range s.EvalHistory {
		if seen[h.NodeID] {
			t.Fatalf("node %s evaluated twice", h.NodeID)
		}
		seen[h.NodeID] = true
		if n := s.TreeData.Lookup(h.NodeID); n == nil || !n.Evaluated() {
			t.Fatalf("history names %s, which the tree lacks", h.NodeID)
		}
	}
	evaluated := 0
	for _, n := range s.TreeData.Nodes() {
		if !n.Evaluated() {
			t.Fatalf("saved tree holds an unevaluated node %s", n.NodeID)
		}
		evaluated++
	}
	if evaluated != len(seen) || evaluated != s.Metadata.TotalEvaluated {
		t.Fatalf("%d evaluated nodes, %d in history, metadata says %d", evaluated, len(seen), s.Metadata.TotalEvaluated)
	}
	return s
}

// TestSIGKILLLeavesAResumableSession kills searches at random moments: the
// session file is always a complete version, nothing a killed run reported
// done is lost (at most the step in flight), what was saved is never
// evaluated again or changed, and --resume carries on from it.
func TestSIGKILLLeavesAResumableSession(t *testing.T) {
	requireOpenCL(t)
	dir := t.TempDir()
	path := session.Path(dir, "topk_gating")
	args := []string{"search", "topk_gating", "--llm", "mock", "--device", "opencl", "--candidates-per-step", "2", "--session-dir", dir}
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 3
	if os.Getenv("DISCOVER_CRASH_KILLS") != "" {
		kills = 20 // the full reliability run
	}
	stepDone := regexp.MustCompile(`(?m)^step (\d+) done`)
	var prev *session.Session
	phases := map[string]int{}
	for i := range kills {
		// More steps than a run can finish before it is killed.
		runArgs := append(args, "--steps", "1000")
		if _, err := os.Stat(path); err == nil {
			runArgs = append(runArgs, "--resume")
		}
		cmd := exec.Command(discoverBin, runArgs...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(200+rng.IntN(6800)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() != -1 { // -1: killed by the signal
			t.Fatalf("kill %d: the run had already failed on its own: %v\n%s", i, err, stderr.String())
		}
		out := stderr.String()
		lastDone := 0
		for _, m := range stepDone.FindAllStringSubmatch(out, -1) {
			lastDone, _ = strconv.Atoi(m[1])
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		switch last := lines[len(lines)-1]; {
		case err == nil:
			phases["finished"]++
		case !strings.Contains(out, "seed:") && prev == nil:
			phases["before the seed was saved"]++
		case strings.HasPrefix(last, "step ") && !stepDone.MatchString(last) || strings.HasPrefix(last, "  "):
			phases["in a step"]++
		default:
			phases["starting or between steps"]++
		}
		if _, err := os.Stat(path); err != nil {
			if strings.Contains(out, "seed:") {
				t.Fatalf("kill %d: the seed was reported done but no session was saved:\n%s", i, out)
			}
			continue
		}
		s := checkSession(t, path)
		// Steps are saved before "step N done" is printed: the file holds
		// every step reported done, and at most the one in flight more.
		if s.Metadata.TotalSteps < lastDone || s.Metadata.TotalSteps > max(lastDone, prevSteps(prev))+1 {
			t.Fatalf("kill %d: the session holds %d steps; the run reported step %d done (before it: %d)\n%s",
				i, s.Metadata.TotalSteps, lastDone, prevSteps(prev), out)
		}
		if prev != nil {
			keptAsIs(t, i, prev, s)
		}
		prev = s
	}
	t.Logf("%d kills: %v; %d steps saved", kills, phases, prevSteps(prev))
	res := runCLI(t, dir, nil, append(args, "--steps", "1", "--resume")...)
	if res.code != 0 {
		t.Fatalf("final resume: exit %d: %s", res.code, res.stderr)
	}
	s := checkSession(t, path)
	if s.Metadata.TotalSteps != prevSteps(prev)+1 {
		t.Fatalf("resume ran to step %d, want %d", s.Metadata.TotalSteps, prevSteps(prev)+1)
	}
	if prev != nil {
		keptAsIs(t, kills, prev, s)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(matches) > 0 {
		t.Logf("temp files left by killed writers (harmless, never read): %v", matches)
	}
}

func prevSteps(s *session.Session) int {
	if s == nil {
		return 0
	}
	return s.Metadata.TotalSteps
}

// keptAsIs checks that a later version of a session keeps the earlier one's
// evaluations as they were: its history starts with the earlier history
// and no saved node was evaluated again.
func keptAsIs(t *testing.T, kill int, before, after *session.Session) {
	t.Helper()
	if len(after.EvalHistory) < len(before.EvalHistory) {
		t.Fatalf("kill %d: the history shrank from %d to %d evaluations", kill, len(before.EvalHistory), len(after.EvalHistory))
	}
	for j, h := range before.EvalHistory {
		if after.EvalHistory[j] != h {
			t.Fatalf("kill %d: evaluation %d changed: %+v, then %+v", kill, j, h, after.EvalHistory[j])
		}
	}
}

func TestBenchTimesSessionsAndExportedKernels(t *testing.T) {
	requireOpenCL(t)
	dir := t.TempDir()
	if res := runCLI(t, dir, nil, "search", "topk_gating", "--llm", "mock", "--device", "opencl", "--steps", "1",
		"--candidates-per-step", "2", "--session-dir", dir); res.code != 0 {
		t.Fatalf("search: %s", res.stderr)
	}
	sessionPath := session.Path(dir, "topk_gating")
	exported := filepath.Join(dir, "topk.cl")
	if res := runCLI(t, dir, nil, "export", sessionPath, "-o", exported); res.code != 0 {
		t.Fatalf("export: %s", res.stderr)
	}
	res := runCLI(t, dir, nil, "bench", sessionPath, exported, "--device", "opencl", "--json")
	if res.code != 0 {
		t.Fatalf("bench: exit %d: %s", res.code, res.stderr)
	}
	var rows []benchRow
	if err := json.Unmarshal([]byte(res.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 8 {
		t.Fatalf("%d rows, want 4 shapes x 2 kernels", len(rows))
	}
	for _, r := range rows {
		if !r.Correct || r.Target != "topk_gating" || r.MedianUs <= 0 || r.SeedMedianUs <= 0 {
			t.Errorf("row %+v", r)
		}
	}
	if rows[4].Kernel != "topk.cl" || rows[4].Source != exported {
		t.Errorf("exported kernel row = %+v", rows[4])
	}

	// --per-shape: one row per shape, each timing the session's fastest
	// kernel at that shape.
	res = runCLI(t, dir, nil, "bench", sessionPath, "--per-shape", "--device", "opencl", "--json")
	if res.code != 0 {
		t.Fatalf("bench --per-shape: exit %d: %s", res.code, res.stderr)
	}
	rows = nil
	if err := json.Unmarshal([]byte(res.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	s, err := session.Load(sessionPath)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, r := range rows {
		if want := s.TreeData.BestAt(r.Rows).NodeID; r.Kernel != want || !r.Correct || seen[r.Rows] {
			t.Errorf("per-shape row %+v: want one correct row by %s", r, want)
		}
		seen[r.Rows] = true
	}
	if len(seen) != 4 {
		t.Errorf("per-shape rows cover shapes %v, want all 4", seen)
	}

	// export --node writes that node, and refuses one the session lacks.
	node := filepath.Join(dir, "node.cl")
	if res := runCLI(t, dir, nil, "export", sessionPath, "--node", rows[0].Kernel, "-o", node); res.code != 0 {
		t.Fatalf("export --node: %s", res.stderr)
	}
	if m, _, err := export.Read(node); err != nil || m.Provenance.NodeID != rows[0].Kernel {
		t.Errorf("export --node %s wrote %+v, %v", rows[0].Kernel, m, err)
	}
	if res := runCLI(t, dir, nil, "export", sessionPath, "--node", "gen9_nosuch", "-o", node); res.code != 2 || !strings.Contains(res.stderr, "gen9_nosuch") {
		t.Errorf("export --node gen9_nosuch: exit %d, %q; want a usage error naming it", res.code, res.stderr)
	}
}
