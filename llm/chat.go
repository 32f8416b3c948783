package llm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

// ErrNoVariants means a model answered but nothing in the answer could be
// parsed as a variant; the step counts as a failed generation call.
var ErrNoVariants = errors.New("no variant in the expected format")

// defaultTimeout bounds one generation call, retries included: a long
// answer from a large model takes minutes.
const defaultTimeout = 10 * time.Minute

// completion is one model answer before parsing.
type completion struct {
	text         string
	model        string // as the server names it; empty means the one asked for
	inputTokens  int
	outputTokens int
	costUSD      *float64 // as the server reports it; nil means priced from the table
	truncated    bool     // cut at the output token limit
}

// sendFunc sends one prompt to a model. Its completion carries the usage
// even when it fails after the model answered.
type sendFunc func(ctx context.Context, system, user string) (completion, error)

// chat is a Generator that asks a model: the LLM backends differ only in
// how they send.
type chat struct {
	name    string
	model   string
	timeout time.Duration
	send    sendFunc
}

func (c *chat) Name() string { return c.name }

// Generate builds the prompt, sends it under the timeout, accounts for
// the call and parses the answer. Errors never carry a secret.
func (c *chat) Generate(ctx context.Context, req Request) (Response, error) {
	system, user := Prompt(req)
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	out, err := c.send(callCtx, system, user)
	usage := Usage{
		Backend: c.name, Model: cmp.Or(out.model, c.model),
		InputTokens: out.inputTokens, OutputTokens: out.outputTokens,
		LatencySeconds: time.Since(start).Seconds(),
		CostUSD:        out.costUSD,
	}
	if usage.CostUSD == nil {
		usage.CostUSD = costUSD(usage.Model, out.inputTokens, out.outputTokens)
	}
	resp := Response{Raw: out.text, Usage: usage}
	switch {
	case err != nil && ctx.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded):
		return resp, fmt.Errorf("%s: no answer within %s: %w", c.name, c.timeout, context.DeadlineExceeded)
	case err != nil:
		return resp, fmt.Errorf("%s: %s", c.name, redact(err.Error()))
	}
	if strings.TrimSpace(out.text) == "" {
		return resp, fmt.Errorf("%s: the answer is empty", c.name)
	}
	variants, malformed := Parse(out.text)
	if len(variants) == 0 {
		why := ""
		if out.truncated {
			why = " (the answer was cut at the output token limit)"
		}
		return resp, fmt.Errorf("%s: %w%s; %d malformed %s; the answer begins %q",
			c.name, ErrNoVariants, why, malformed, plural(malformed, "block", "blocks"), redact(oneLine(out.text, 200)))
	}
	resp.Variants, resp.Malformed = variants, malformed
	return resp, nil
}

// secretVars hold credentials whose values must never be shown.
var secretVars = []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY"}

// secretShapes are credentials as they appear in headers, dumps and
// server messages (OpenAI's 401 quotes part of the key).
var secretShapes = regexp.MustCompile(`(?i)(bearer\s+|x-api-key["']?\s*[:=]\s*["']?)[^\s"',;}]+|\bsk-[\w*.\-]{6,}`)

// redact removes credentials from text bound for an error, a log line or
// a session file: the values of the key variables, and anything shaped
// like a key or an auth header.
func redact(s string) string {
	for _, name := range secretVars {
		// A short value is a local server's dummy key; replacing it would
		// mangle ordinary words.
		if v := os.Getenv(name); len(v) >= 8 {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
		}
	}
	return secretShapes.ReplaceAllString(s, "${1}[REDACTED]")
}
