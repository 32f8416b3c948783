package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"discover/device"
	"discover/llm/llmtest"
	"discover/session"
	"discover/target"
)

// integrationKey must never show up in what the binary writes.
const integrationKey = "sk-integration-0123456789-SECRET"

// llmAnswer is a model's answer at a step: one correct rmsnorm kernel,
// the seed with a define that makes it a new candidate.
func llmAnswer(t *testing.T, step int) string {
	t.Helper()
	tg, _ := target.Lookup("rmsnorm")
	src := fmt.Sprintf("#define LLM_STEP_%d 1\n%s", step, strings.TrimSpace(tg.Seeds[device.OpenCL].Source))
	return llmtest.Answer("128, 1, 1", src)
}

// checkNoKey fails if the key is in any of the texts.
func checkNoKey(t *testing.T, texts map[string]string) {
	t.Helper()
	for name, text := range texts {
		if strings.Contains(text, integrationKey) || strings.Contains(text, "0123456789-SECRET") {
			t.Errorf("the API key leaks into %s", name)
		}
	}
}

// TestSearchWithEachLLMBackend runs `discover search rmsnorm --steps 2`
// with each LLM backend against its fake: every step's variant is
// parsed, evaluated on OpenCL and accounted for in the session.
func TestSearchWithEachLLMBackend(t *testing.T) {
	requireOpenCL(t)
	var openai *llmtest.Server
	for _, tc := range []struct {
		backend string
		// fake starts the backend's fake in dir and returns the
		// environment that points the binary at it.
		fake  func(t *testing.T, dir string) []string
		args  []string
		check func(t *testing.T)
	}{
		{"claude", func(t *testing.T, dir string) []string {
			srv := llmtest.NewAnthropic(t,
				llmtest.Reply{Text: llmAnswer(t, 1), InputTokens: 1200, OutputTokens: 800},
				llmtest.Reply{Text: llmAnswer(t, 2), InputTokens: 1200, OutputTokens: 800})
			return []string{"ANTHROPIC_API_KEY=" + integrationKey, "ANTHROPIC_BASE_URL=" + srv.URL}
		}, nil, nil},
		{"openai", func(t *testing.T, dir string) []string {
			openai = llmtest.NewOpenAI(t,
				llmtest.Reply{Text: llmAnswer(t, 1), InputTokens: 1200, OutputTokens: 800},
				llmtest.Reply{Text: llmAnswer(t, 2), InputTokens: 1200, OutputTokens: 800})
			return []string{"OPENAI_API_KEY=" + integrationKey, "OPENAI_BASE_URL=" + openai.URL + "/v1"}
		}, []string{"--model", "gpt-4.1", "--max-tokens", "9000", "--temperature", "0.5"}, func(t *testing.T) {
			body := openai.Calls()[0].Body
			if body["model"] != "gpt-4.1" || body["max_completion_tokens"] != 9000.0 || body["temperature"] != 0.5 {
				t.Errorf("the flags did not reach the request: %v", body)
			}
		}},
		{"claude-code", func(t *testing.T, dir string) []string {
			bin := filepath.Join(dir, "bin")
			if err := os.Mkdir(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			llmtest.ClaudeScript(t, bin,
				llmtest.CLIRun{Stdout: llmtest.ClaudeJSON(llmAnswer(t, 1), "claude-sonnet-5-5", 1200, 800, 0.01)},
				llmtest.CLIRun{Stdout: llmtest.ClaudeJSON(llmAnswer(t, 2), "claude-sonnet-5-5", 1200, 800, 0.01)})
			return []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
		}, nil, nil},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := tc.fake(t, dir)
			args := append([]string{"search", "rmsnorm", "--llm", tc.backend, "--steps", "2",
				"--candidates-per-step", "1", "--device", "opencl", "--session-dir", dir}, tc.args...)
			res := runCLI(t, dir, env, args...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if tc.check != nil {
				tc.check(t)
			}
			path := session.Path(dir, "rmsnorm")
			s, err := session.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Steps) != 2 {
				t.Fatalf("%d steps, want 2", len(s.Steps))
			}
			for _, st := range s.Steps {
				if st.Error != "" || st.Variants != 1 || len(st.Added) != 1 {
					t.Errorf("step %d: %+v, want one variant added", st.Step, st)
				}
				if u := st.Usage; u.Backend != tc.backend || u.Model == "" || u.InputTokens != 1200 || u.OutputTokens != 800 || u.CostUSD == nil {
					t.Errorf("step %d usage %+v", st.Step, u)
				}
			}
			for _, n := range s.TreeData.Nodes() {
				if !n.Evaluated() || !n.EvalResult.Correct {
					t.Errorf("node %s: %+v, want an evaluated, correct kernel", n.NodeID, n.EvalResult)
				}
			}
			m := s.Metadata
			if m.TotalEvaluated != 3 || m.InputTokens != 2400 || m.OutputTokens != 1600 || m.CostUSD <= 0 {
				t.Errorf("metadata: %d evaluated, tokens %d in %d out, cost %g", m.TotalEvaluated, m.InputTokens, m.OutputTokens, m.CostUSD)
			}
			report := runCLI(t, dir, nil, "report", path)
			if !strings.Contains(report.stdout, "Tokens: 2400 in, 1600 out; cost $") {
				t.Errorf("report lacks tokens and cost:\n%s", report.stdout)
			}
			data, _ := os.ReadFile(path)
			checkNoKey(t, map[string]string{"the session": string(data), "stdout": res.stdout, "stderr": res.stderr})
		})
	}
}

func TestLLMFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{{"--temperature", "hot"}, {"--temperature", "3"}, {"--max-tokens", "-5"}} {
		res := runCLI(t, t.TempDir(), nil, append([]string{"search", "rmsnorm", "--llm", "mock"}, args...)...)
		if res.code != 2 || !strings.Contains(res.stderr, args[0]) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, res.code, res.stderr)
		}
	}
}

// TestSearchStopsOnARejectedKey: a 401 on every call stops the search
// after five steps, saved, with a non-zero exit that says which variable
// to set, and the key quoted by the server shows up nowhere.
func TestSearchStopsOnARejectedKey(t *testing.T) {
	requireOpenCL(t)
	dir := t.TempDir()
	srv := llmtest.NewAnthropic(t, llmtest.Reply{Status: 401, Text: "invalid x-api-key: " + integrationKey})
	env := []string{"ANTHROPIC_API_KEY=" + integrationKey, "ANTHROPIC_BASE_URL=" + srv.URL}
	res := runCLI(t, dir, env, "search", "rmsnorm", "--llm", "claude", "--steps", "10", "--device", "opencl", "--session-dir", dir)
	if res.code != 1 || !strings.Contains(res.stderr, "5 generation calls failed in a row") || !strings.Contains(res.stderr, "ANTHROPIC_API_KEY") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	path := session.Path(dir, "rmsnorm")
	s, err := session.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Steps) != 5 || len(srv.Calls()) != 5 || !strings.Contains(s.Metadata.StopReason, "HTTP 401") {
		t.Errorf("%d steps, %d calls, stop reason %q", len(s.Steps), len(srv.Calls()), s.Metadata.StopReason)
	}
	report := runCLI(t, dir, nil, "report", path)
	data, _ := os.ReadFile(path)
	checkNoKey(t, map[string]string{"the session": string(data), "stdout": res.stdout, "stderr": res.stderr,
		"the report": report.stdout + report.stderr})
}
