package llm

import (
	"context"
	"fmt"
)

// Mock makes trivial variants of the parent that compute the same function:
// a marker define (so the normalized source differs) and, for every other
// variant, half the work-group size. It exists to exercise the pipeline.
type Mock struct{}

func (Mock) Name() string { return "mock" }

func (Mock) Generate(ctx context.Context, req Request) (Response, error) {
	var out []Variant
	parent := req.Parent.Spec
	for i := range max(req.N, 1) {
		tg := parent.Threadgroup
		reasoning := "mock: the parent with a marker define"
		if i%2 == 1 && tg[0] >= 64 && tg[0]%2 == 0 {
			tg[0] /= 2
			reasoning = fmt.Sprintf("mock: the parent with work-group %d", tg[0])
		}
		out = append(out, Variant{
			Reasoning:   reasoning,
			Threadgroup: tg,
			Grid:        parent.Grid,
			Source:      fmt.Sprintf("#define MOCK_VARIANT_%d_%d 1\n%s", req.Step, i, parent.Source),
		})
	}
	return Response{Variants: out, Usage: Usage{Backend: "mock"}}, nil
}
