// Package llm holds the generators that write kernel variants (LLM
// backends, mock, replay, tuner), the prompt they are given and the parser
// of their answers.
package llm

import (
	"context"
	"errors"

	"discover/device"
	"discover/eval"
	"discover/kernel"
	"discover/target"
)

// Example is a kernel shown to the generator with its measured result.
type Example struct {
	NodeID    string       `json:"node_id"`
	Spec      kernel.Spec  `json:"spec"`
	Reasoning string       `json:"reasoning,omitempty"`
	Result    *eval.Result `json:"result,omitempty"`
}

// Attempt is one earlier candidate, for the history in the prompt.
type Attempt struct {
	NodeID    string      `json:"node_id"`
	Reasoning string      `json:"reasoning"`
	Speedup   float64     `json:"speedup"`
	Failure   eval.Reason `json:"failure,omitempty"`
	Detail    string      `json:"detail,omitempty"` // trimmed log or mismatch
}

// Request is everything a generator needs for one step.
type Request struct {
	Target  *target.Target
	Dialect device.Dialect
	Device  device.Info
	Parent  Example
	Best    Example
	History []Attempt
	// N is how many variants to ask for (--candidates-per-step).
	N    int
	Step int
}

// Variant is one kernel parsed from a generator's answer. A zero
// Threadgroup or empty Grid means "as the target's seed".
type Variant struct {
	Reasoning   string   `json:"reasoning"`
	Threadgroup [3]int   `json:"threadgroup"`
	Grid        []string `json:"grid,omitempty"`
	Source      string   `json:"source"`
}

// Usage is the accounting of one generation call.
type Usage struct {
	Backend        string  `json:"backend"`
	Model          string  `json:"model,omitempty"`
	InputTokens    int     `json:"input_tokens"`
	OutputTokens   int     `json:"output_tokens"`
	LatencySeconds float64 `json:"latency_seconds"`
	// CostUSD is nil where the model's price is unknown.
	CostUSD *float64 `json:"cost_usd,omitempty"`
}

// Response is a generator's answer to one request.
type Response struct {
	Variants []Variant
	Raw      string
	Usage    Usage
	// Malformed counts answer blocks that held no usable SOURCE.
	Malformed int
}

// Generator writes kernel variants.
type Generator interface {
	Name() string
	Generate(ctx context.Context, req Request) (Response, error)
}

// ErrExhausted means the generator has nothing more to give (a replay file
// ran out); the search stops cleanly.
var ErrExhausted = errors.New("generator exhausted")
