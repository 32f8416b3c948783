package llm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"discover/llm/llmtest"
)

// fakeClaude puts a fake claude CLI with runs first on PATH and returns
// its directory.
func fakeClaude(t *testing.T, runs ...llmtest.CLIRun) string {
	t.Helper()
	dir := t.TempDir()
	llmtest.ClaudeScript(t, dir, runs...)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestClaudeCodeAnswers(t *testing.T) {
	sources := variantSources(t, 2)
	dir := fakeClaude(t, llmtest.CLIRun{Stdout: llmtest.ClaudeJSON(llmtest.Answer("256, 1, 1", sources...), "claude-sonnet-5-5", 7000, 4000, 0.0123)})
	g, err := New("claude-code", Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := g.Generate(context.Background(), testRequest(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Variants) != 2 || resp.Variants[0].Source != sources[0] {
		t.Fatalf("variants %+v", resp.Variants)
	}
	u := resp.Usage
	if u.Backend != "claude-code" || u.Model != "claude-sonnet-5-5" || u.InputTokens != 7000 || u.OutputTokens != 4000 ||
		u.CostUSD == nil || *u.CostUSD != 0.0123 {
		t.Fatalf("usage %+v", u)
	}
	if args := readFile(t, filepath.Join(dir, "args.txt")); args != "-p\n--model\nsonnet\n--output-format\njson\n--tools\n\n" {
		t.Errorf("args %q", args)
	}
	stdin := readFile(t, filepath.Join(dir, "stdin.txt"))
	for _, want := range []string{"expert GPU kernel engineer", "__kernel void rmsnorm(", "---VARIANT---"} {
		if !strings.Contains(stdin, want) {
			t.Errorf("prompt on stdin lacks %q", want)
		}
	}
}

func TestClaudeCodeModelOverride(t *testing.T) {
	dir := fakeClaude(t, llmtest.CLIRun{Stdout: llmtest.ClaudeJSON(llmtest.Answer("256", variantSources(t, 1)...), "claude-opus-5-5", 1, 1, 0.5)})
	g, err := New("claude-code", Options{Model: "opus"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Generate(context.Background(), testRequest(t, 1)); err != nil {
		t.Fatal(err)
	}
	if args := readFile(t, filepath.Join(dir, "args.txt")); !strings.Contains(args, "--model\nopus\n") {
		t.Errorf("args %q", args)
	}
}

func TestClaudeCodeMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := New("claude-code", Options{})
	if err == nil || !strings.Contains(err.Error(), "npm install -g @anthropic-ai/claude-code") {
		t.Fatalf("err %v, want how to install", err)
	}
}

func TestClaudeCodeFaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		run     llmtest.CLIRun
		timeout time.Duration
		want    []string
		is      error
	}{
		{name: "exits non-zero", run: llmtest.CLIRun{Stderr: "Error: Invalid API key · Please run /login\n", Code: 1},
			want: []string{"claude -p failed (exit status 1)", "Invalid API key"}},
		{name: "error result", run: llmtest.CLIRun{Code: 1,
			Stdout: `{"type":"result","subtype":"error_during_execution","is_error":true,"result":"Credit balance is too low"}`},
			want: []string{"Credit balance is too low"}},
		{name: "prints nothing", want: []string{"claude -p printed no JSON result"}},
		{name: "prints text", run: llmtest.CLIRun{Stdout: "Sure! Here is a kernel."}, want: []string{"no JSON result", "Sure! Here is"}},
		{name: "empty result", run: llmtest.CLIRun{Stdout: llmtest.ClaudeJSON("", "claude-sonnet-5-5", 10, 0, 0.001)},
			want: []string{"the answer is empty"}},
		{name: "zero variants", run: llmtest.CLIRun{Stdout: llmtest.ClaudeJSON("I need more context.", "claude-sonnet-5-5", 10, 5, 0.001)},
			is: ErrNoVariants},
		{name: "timeout", run: llmtest.CLIRun{Sleep: 10}, timeout: 300 * time.Millisecond, want: []string{"no answer within 300ms"}},
		{name: "stderr with a key", run: llmtest.CLIRun{Stderr: "request failed: x-api-key: " + testKey, Code: 2},
			want: []string{"x-api-key: [REDACTED]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeClaude(t, tc.run)
			g, err := New("claude-code", Options{timeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			resp, err := g.Generate(context.Background(), testRequest(t, 1))
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			if err == nil {
				t.Fatalf("no error; response %+v", resp)
			}
			t.Log(err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err %v, want %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error leaks the key: %q", err)
			}
		})
	}
}
