package llm

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// ResponseSeparator is a line on its own between responses in a replay file.
const ResponseSeparator = "===RESPONSE==="

var responseSplit = regexp.MustCompile(`(?m)^[ \t]*` + ResponseSeparator + `[ \t]*\r?$`)

// Replay hands out recorded raw LLM responses, one per call, for tests and
// demos; when the file runs out it returns ErrExhausted.
type Replay struct {
	responses []string
	next      int
}

// NewReplay reads a replay file.
func NewReplay(path string) (*Replay, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read replay file: %w", err)
	}
	var rs []string
	for _, r := range responseSplit.Split(string(data), -1) {
		if strings.TrimSpace(r) != "" {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("replay file %s holds no responses", path)
	}
	return &Replay{responses: rs}, nil
}

func (*Replay) Name() string { return "replay" }

func (r *Replay) Generate(ctx context.Context, req Request) (Response, error) {
	if r.next >= len(r.responses) {
		return Response{}, ErrExhausted
	}
	raw := r.responses[r.next]
	r.next++
	variants, malformed := Parse(raw)
	return Response{Variants: variants, Raw: raw, Usage: Usage{Backend: "replay"}, Malformed: malformed}, nil
}
