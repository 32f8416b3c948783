package llm

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Options configure a generator from the command line.
type Options struct {
	Model       string   // model override; empty means the backend's default
	MaxTokens   int      // output token limit of the API backends; 0 means 16000
	Temperature *float64 // nil means the model's default
	ReplayFile  string   // for replay

	// Tests shorten these; 0 means the default.
	timeout time.Duration // one generation call, retries included
	backoff time.Duration // the first retry's wait
}

func (o Options) callTimeout() time.Duration { return cmp.Or(o.timeout, defaultTimeout) }

// Names are the values --llm accepts.
var Names = []string{"auto", "claude-code", "claude", "openai", "mock", "replay", "tuner"}

// New builds the named generator. "auto" must be resolved with Auto first.
func New(name string, opts Options) (Generator, error) {
	switch name {
	case "mock":
		return Mock{}, nil
	case "replay":
		if opts.ReplayFile == "" {
			return nil, fmt.Errorf("--llm replay needs --replay FILE")
		}
		return NewReplay(opts.ReplayFile)
	case "tuner":
		return NewTuner(), nil
	case "claude-code":
		return newClaudeCode(opts)
	case "claude":
		return newClaude(opts)
	case "openai":
		return newOpenAI(opts)
	}
	return nil, fmt.Errorf("unknown generator %q (want one of %s)", name, strings.Join(Names, ", "))
}

// Auto picks the best generator available and says why: an LLM backend
// when one is configured (the claude CLI, then an Anthropic key, then an
// OpenAI key), else the tuner.
func Auto() (name, why string) {
	switch {
	case claudeOnPath():
		return "claude-code", "the claude CLI is on PATH"
	case os.Getenv("ANTHROPIC_API_KEY") != "":
		return "claude", "ANTHROPIC_API_KEY is set"
	case os.Getenv("OPENAI_API_KEY") != "":
		return "openai", "OPENAI_API_KEY is set"
	}
	return "tuner", "no LLM backend is configured: no claude CLI on PATH, no ANTHROPIC_API_KEY or OPENAI_API_KEY"
}

func claudeOnPath() bool {
	_, err := exec.LookPath("claude")
	return err == nil
}
