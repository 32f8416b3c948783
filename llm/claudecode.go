package llm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// DefaultClaudeCodeModel is the claude CLI's alias for its current Sonnet.
const DefaultClaudeCodeModel = "sonnet"

// claudeCode sends prompts through the claude CLI (Claude Code) in print
// mode: no API key needed, the CLI's own login is used.
type claudeCode struct {
	path, model string
}

func newClaudeCode(opts Options) (Generator, error) {
	path, err := exec.LookPath("claude")
	if err != nil {
		return nil, errors.New("--llm claude-code needs the claude CLI on PATH: install it with `npm install -g @anthropic-ai/claude-code` and log in by running `claude` once")
	}
	c := &claudeCode{path: path, model: cmp.Or(opts.Model, DefaultClaudeCodeModel)}
	return &chat{name: "claude-code", model: c.model, timeout: opts.callTimeout(), send: c.send}, nil
}

// claudeResult is what `claude -p --output-format json` prints.
type claudeResult struct {
	Subtype      string   `json:"subtype"`
	IsError      bool     `json:"is_error"`
	Result       string   `json:"result"`
	TotalCostUSD *float64 `json:"total_cost_usd"`
	Usage        struct {
		InputTokens              int `json:"input_tokens"`
		CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
		CacheReadInputTokens     int `json:"cache_read_input_tokens"`
		OutputTokens             int `json:"output_tokens"`
	} `json:"usage"`
	ModelUsage map[string]struct {
		OutputTokens int `json:"outputTokens"`
	} `json:"modelUsage"`
}

func (c *claudeCode) send(ctx context.Context, system, user string) (completion, error) {
	// The prompt goes on stdin, where its size is not limited; --tools ""
	// keeps the model answering instead of exploring the working directory.
	cmd := exec.CommandContext(ctx, c.path, "-p", "--model", c.model, "--output-format", "json", "--tools", "")
	cmd.Stdin = strings.NewReader(system + "\n\n" + user)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A child of the CLI that keeps the pipes open must not hang us.
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()

	var res claudeResult
	jsonErr := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res)
	out := completion{
		text:         res.Result,
		model:        res.model(),
		inputTokens:  res.Usage.InputTokens + res.Usage.CacheCreationInputTokens + res.Usage.CacheReadInputTokens,
		outputTokens: res.Usage.OutputTokens,
		costUSD:      res.TotalCostUSD,
	}
	switch {
	case ctx.Err() != nil:
		return completion{}, ctx.Err()
	case runErr != nil:
		detail := cmp.Or(tail(stderr.String()), tail(res.Result), tail(stdout.String()), "no output")
		return out, fmt.Errorf("claude -p failed (%v): %s", runErr, detail)
	case jsonErr != nil:
		return completion{}, fmt.Errorf("claude -p printed no JSON result (%v): %q", jsonErr, tail(stdout.String()))
	case res.IsError:
		return out, fmt.Errorf("claude -p reported an error (%s): %s", res.Subtype, tail(res.Result))
	}
	return out, nil
}

// model is the model that wrote most of the answer.
func (r claudeResult) model() string {
	best, most := "", -1
	for name, u := range r.ModelUsage {
		if u.OutputTokens > most || (u.OutputTokens == most && name < best) {
			best, most = name, u.OutputTokens
		}
	}
	return best
}

// tail is the end of a tool's output, where its error usually is, on
// one line.
func tail(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = "..." + s[len(s)-500:]
	}
	return s
}
