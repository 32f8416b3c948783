package llm

import (
	"testing"

	"discover/llm/llmtest"
)

func TestRedact(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "plain-value-without-shape-42")
	t.Setenv("OPENAI_API_KEY", "ollama") // a dummy: too short to redact
	for _, tc := range []struct{ in, want string }{
		{"Authorization: Bearer abc.def-123", "Authorization: Bearer [REDACTED]"},
		{`{"x-api-key": "k-123456"}`, `{"x-api-key": "[REDACTED]"}`},
		{"X-Api-Key: k-123456 next", "X-Api-Key: [REDACTED] next"},
		{"Incorrect API key provided: sk-proj-abc***************wxyz.", "Incorrect API key provided: [REDACTED]"},
		{"key sk-ant-api03-AbCdEf_0123-xyz in a log", "key [REDACTED] in a log"},
		{"the key plain-value-without-shape-42 leaked", "the key [REDACTED] leaked"},
		{"model llama3 on ollama answered", "model llama3 on ollama answered"},
		{"HTTP 500: internal server error", "HTTP 500: internal server error"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCost(t *testing.T) {
	for _, tc := range []struct {
		model   string
		in, out int
		want    float64 // negative: unknown
	}{
		{"claude-sonnet-5-5", 1_000_000, 1_000_000, 12},
		{"claude-sonnet-4-5-20250929", 2000, 1000, 0.021},
		{"gpt-5", 1_000_000, 100_000, 2.25},
		{"gpt-4.1-2025-04-14", 1_000_000, 0, 2},
		{"llama3.1:8b", 1000, 1000, -1},
		{"sonnet", 1000, 1000, -1},
	} {
		got := costUSD(tc.model, tc.in, tc.out)
		switch {
		case tc.want < 0 && got != nil:
			t.Errorf("%s: cost %v, want unknown", tc.model, *got)
		case tc.want >= 0 && (got == nil || *got < tc.want-1e-9 || *got > tc.want+1e-9):
			t.Errorf("%s: cost %v, want %v", tc.model, got, tc.want)
		}
	}
}

func TestAuto(t *testing.T) {
	noClaude := t.TempDir()
	withClaude := t.TempDir()
	llmtest.ClaudeScript(t, withClaude, llmtest.CLIRun{})
	for _, tc := range []struct {
		name, path, anthropic, openai, want string
	}{
		{"claude CLI first", withClaude, "k", "k", "claude-code"},
		{"then an Anthropic key", noClaude, "k", "k", "claude"},
		{"then an OpenAI key", noClaude, "", "k", "openai"},
		{"else the tuner", noClaude, "", "", "tuner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			t.Setenv("ANTHROPIC_API_KEY", tc.anthropic)
			t.Setenv("OPENAI_API_KEY", tc.openai)
			name, why := Auto()
			if name != tc.want || why == "" {
				t.Fatalf("Auto() = %q, %q; want %q", name, why, tc.want)
			}
		})
	}
}
