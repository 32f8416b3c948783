package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"discover/engine"
	"discover/eval"
	"discover/kernel"
	"discover/llm"
	"discover/session"
)

// The hostile suite: replay files of kernels that hang, crash, cheat and
// lie, mixed with good ones, each tagged with the reason it must get.
// docs/reliability.md records the runs.
var hostileDir = filepath.Join("..", "..", "eval", "testdata", "hostile")

// hostileVariant is one variant of a hostile replay file and what it must get.
type hostileVariant struct {
	step      int // the search step that evaluates it (its response's number)
	nodeID    string
	tag       string   // the REASONING up to its first period, for messages
	expect    []string // "correct" or failure reasons
	reasoning string
}

var expectTag = regexp.MustCompile(`^\[expect:([a-z_|]+)\]`)

// readHostile parses a hostile replay file as the replay generator does,
// one response per step, and reads each variant's [expect:...] tag.
func readHostile(t *testing.T, path string) (variants []hostileVariant, steps int) {
	t.Helper()
	gen, err := llm.NewReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	for step := 1; ; step++ {
		resp, err := gen.Generate(context.Background(), llm.Request{})
		if errors.Is(err, llm.ErrExhausted) {
			return variants, step - 1
		}
		if err != nil {
			t.Fatal(err)
		}
		// (The file's header, before the first variant, is a block without
		// a SOURCE, which the parser drops.)
		if n := strings.Count(resp.Raw, "\nSOURCE:"); n != len(resp.Variants) {
			t.Fatalf("%s: response %d has %d SOURCE: lines but %d variants parse", path, step, n, len(resp.Variants))
		}
		for _, v := range resp.Variants {
			m := expectTag.FindStringSubmatch(v.Reasoning)
			if m == nil {
				t.Fatalf("%s: response %d: a variant without an [expect:...] tag: %.60q", path, step, v.Reasoning)
			}
			c := kernel.Candidate{Spec: kernel.Spec{Source: v.Source}, Generation: step}
			tag, _, _ := strings.Cut(v.Reasoning, ".")
			variants = append(variants, hostileVariant{step: step, nodeID: c.ID(), tag: tag,
				expect: strings.Split(m[1], "|"), reasoning: v.Reasoning})
		}
	}
}

// checkHostileSession checks a search over a hostile replay file: every
// step ran and kept all its variants, each variant got its expected
// reason, every good one is correct (none lost around the failures), the
// evaluation after each timeout or crash succeeded (the worker was
// restarted), the best kernel is a good one, and no host file or host
// directory reached the session. It returns the session for reporting.
func checkHostileSession(t *testing.T, replay, path string) *session.Session {
	t.Helper()
	variants, steps := readHostile(t, replay)
	s := checkSession(t, path)
	if s.Metadata.TotalSteps != steps || len(s.Steps) != steps {
		t.Errorf("the search ran %d steps (%d records), want all %d; stop reason %q",
			s.Metadata.TotalSteps, len(s.Steps), steps, s.Metadata.StopReason)
	}
	for _, st := range s.Steps {
		if st.Error != "" || st.Skipped > 0 || st.Duplicate > 0 || len(st.Added) != st.Variants {
			t.Errorf("step %d: %d variants, %d added, %d skipped, %d duplicates, error %q",
				st.Step, st.Variants, len(st.Added), st.Skipped, st.Duplicate, st.Error)
		}
	}

	good := map[string]bool{}
	for _, v := range variants {
		n := s.TreeData.Lookup(v.nodeID)
		if n == nil || !n.Evaluated() {
			t.Errorf("%s (%s): not in the session: lost", v.nodeID, v.tag)
			continue
		}
		r := n.EvalResult
		got := string(r.Failure)
		if r.Correct {
			got = "correct"
			good[v.nodeID] = true
		}
		if !slices.Contains(v.expect, got) {
			t.Errorf("%s: got %s, want %s: %s\n\tdetail: %.300s", v.nodeID, got, strings.Join(v.expect, " or "), v.tag, r.Detail)
		}
		if r.Correct && (r.Failure != "" || r.Reward <= 0 || r.Reward >= eval.MaxReward) {
			t.Errorf("%s (%s): correct with failure %q, reward %.3f: a copy of the seed cannot earn that", v.nodeID, v.tag, r.Failure, r.Reward)
		}
		if r.Failure == eval.CompileError && (len(r.Detail) > 4100 || strings.Count(r.Detail, "\n") > 41) {
			t.Errorf("%s: compile log of %d bytes, %d lines reached the session untrimmed", v.nodeID, len(r.Detail), strings.Count(r.Detail, "\n")+1)
		}
	}

	// A timeout or a crash kills the worker; the evaluation after it runs on
	// a fresh one and must succeed (the files put a good variant there).
	h := s.EvalHistory
	for i, rec := range h {
		if rec.Failure != eval.Timeout && rec.Failure != eval.Crash {
			continue
		}
		if i+1 >= len(h) || !h[i+1].Correct {
			t.Errorf("%s (%s): the evaluation after it did not succeed", rec.NodeID, rec.Failure)
		}
	}
	if best := s.Metadata.BestNodeID; best != "root" && !good[best] {
		t.Errorf("best kernel %s is not a good variant", best)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if passwd, err := os.ReadFile("/etc/passwd"); err == nil {
		for _, line := range strings.Split(string(passwd), "\n") {
			if len(line) > 8 && strings.Contains(string(data), line) {
				t.Errorf("a line of the host's /etc/passwd reached the session: %q", line)
			}
		}
	}
	home, _ := os.UserHomeDir()
	for _, n := range s.TreeData.Nodes() {
		d := n.EvalResult.Detail
		for _, leak := range []string{home + "/", "/tmp/", "/.cache/", "kcache"} {
			if leak != "/" && strings.Contains(d, leak) {
				t.Errorf("%s: a host path (%s) in the failure detail: %.300s", n.NodeID, leak, d)
			}
		}
	}
	return s
}

// logHostileTable logs the outcome of every variant as the table of
// docs/reliability.md.
func logHostileTable(t *testing.T, replay string, s *session.Session) {
	t.Helper()
	variants, _ := readHostile(t, replay)
	var b strings.Builder
	b.WriteString("\n| step | node | expected | got | seconds | case |\n|---|---|---|---|---|---|\n")
	for _, v := range variants {
		n := s.TreeData.Lookup(v.nodeID)
		if n == nil || !n.Evaluated() {
			continue
		}
		got := string(n.EvalResult.Failure)
		if n.EvalResult.Correct {
			got = fmt.Sprintf("correct (%.2fx)", n.EvalResult.Speedup)
		}
		tag := strings.TrimSpace(expectTag.ReplaceAllString(v.tag, ""))
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %.1f | %s |\n", v.step, v.nodeID, strings.Join(v.expect, " or "), got, n.EvalResult.EvalSeconds, tag)
	}
	t.Log(b.String())
}

// TestHostileKernelsOpenCL runs a search over the OpenCL hostile file on
// PoCL: hangs, crashes, cheats and compile bombs, each classified, with
// the good variants between them all evaluated. About two minutes: the
// two timeouts cost --timeout each.
func TestHostileKernelsOpenCL(t *testing.T) {
	if testing.Short() {
		t.Skip("the hostile suite takes minutes")
	}
	requireOpenCL(t)
	replay, err := filepath.Abs(filepath.Join(hostileDir, "opencl.txt"))
	if err != nil {
		t.Fatal(err)
	}
	_, steps := readHostile(t, replay)
	// A good candidate takes ~10 s on PoCL, up to ~15 s with other tests
	// running; the limit must stay well above that, and it is paid twice.
	timeout := "30s"
	if v := os.Getenv("DISCOVER_HOSTILE_TIMEOUT"); v != "" {
		timeout = v
	}
	dir := t.TempDir()
	res := runCLI(t, dir, nil, "search", "rmsnorm", "--llm", "replay", "--replay", replay, "--device", "opencl",
		"--timeout", timeout, "--candidates-per-step", "4", "--steps", fmt.Sprint(steps), "--session-dir", dir, "-v")
	if res.code != 0 {
		t.Fatalf("search exit %d: %s", res.code, res.stderr)
	}
	t.Logf("search output:\n%s", res.stderr)
	s := checkHostileSession(t, replay, session.Path(dir, "rmsnorm"))
	logHostileTable(t, replay, s)
	if strings.Contains(res.stdout+res.stderr, "\"reward\":10") {
		t.Errorf("a kernel's printf reached the CLI's output")
	}
}

// TestHostileSessionFile checks a session recorded elsewhere, e.g. the CUDA
// half on a GPU machine (docs/reliability.md has the command):
//
//	DISCOVER_HOSTILE_SESSION=path/rmsnorm_session.json go test -run HostileSessionFile -v ./cmd/discover
//
// DISCOVER_HOSTILE_REPLAY names the replay file (default: the CUDA one).
func TestHostileSessionFile(t *testing.T) {
	path := os.Getenv("DISCOVER_HOSTILE_SESSION")
	if path == "" {
		t.Skip("set DISCOVER_HOSTILE_SESSION to a session recorded from a hostile replay file")
	}
	replay := os.Getenv("DISCOVER_HOSTILE_REPLAY")
	if replay == "" {
		replay = filepath.Join(hostileDir, "cuda.txt")
	}
	s := checkHostileSession(t, replay, path)
	logHostileTable(t, replay, s)
}

// TestHostileFilesAreWellFormed checks both replay files without a device:
// every variant tagged with known reasons, distinct sources, and no
// response over the per-step cap of the command the tests and docs use.
func TestHostileFilesAreWellFormed(t *testing.T) {
	reasons := []string{"correct", string(eval.CompileError), string(eval.LaunchError), string(eval.WrongResult),
		string(eval.Race), string(eval.OutOfBounds), string(eval.InputModified), string(eval.Timeout), string(eval.Crash)}
	for _, name := range []string{"opencl.txt", "cuda.txt"} {
		t.Run(name, func(t *testing.T) {
			variants, steps := readHostile(t, filepath.Join(hostileDir, name))
			perStep := map[int]int{}
			seen := map[string]bool{}
			counts := map[string]int{}
			for _, v := range variants {
				perStep[v.step]++
				hash := v.nodeID[strings.IndexByte(v.nodeID, '_')+1:]
				if seen[hash] {
					t.Errorf("%s: the same source twice (it would be deduplicated)", v.tag)
				}
				seen[hash] = true
				for _, e := range v.expect {
					if !slices.Contains(reasons, e) {
						t.Errorf("%s: unknown reason %q", v.tag, e)
					}
				}
				counts[strings.Join(v.expect, "|")]++
			}
			for step, n := range perStep {
				if n > engine.MaxVariants(4) {
					t.Errorf("response %d has %d variants; --candidates-per-step 4 evaluates %d", step, n, engine.MaxVariants(4))
				}
			}
			if counts["correct"] < steps {
				t.Errorf("%d good variants for %d responses: put good ones between the hostile ones", counts["correct"], steps)
			}
			t.Logf("%d responses, %d variants: %v", steps, len(variants), counts)
		})
	}
}
