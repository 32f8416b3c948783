package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"discover/device"
	"discover/eval"
	"discover/kernel"
	"discover/llm"
	"discover/llm/llmtest"
	"discover/search"
	"discover/session"
	"discover/target"
)

// fakeEvaluator passes every candidate with a canned result and counts
// the evaluations.
type fakeEvaluator struct{ evaluated int }

func (*fakeEvaluator) Info() device.Info {
	return device.Info{API: device.OpenCL, Name: "fake device", ComputeUnits: 4, MaxWorkGroupSize: 1024}
}

func (f *fakeEvaluator) Evaluate(ctx context.Context, spec kernel.Spec, nonce uint64) (eval.Result, error) {
	f.evaluated++
	return eval.Result{Compiled: true, Correct: true, MedianUs: 10, Speedup: 1.1, Reward: 1.1,
		Shapes: []eval.ShapeResult{{Rows: 1, MedianUs: 10, SeedMedianUs: 11, Speedup: 1.1}}}, nil
}

// scripted is a generator that answers by a function.
type scripted func(req llm.Request) (llm.Response, error)

func (scripted) Name() string { return "scripted" }

func (s scripted) Generate(ctx context.Context, req llm.Request) (llm.Response, error) {
	return s(req)
}

// variants are n distinct, harmless edits of the parent.
func variants(req llm.Request, n int) []llm.Variant {
	var out []llm.Variant
	for i := range n {
		out = append(out, llm.Variant{Reasoning: fmt.Sprintf("variant %d", i),
			Source: fmt.Sprintf("#define STEP_%d_VARIANT_%d 1\n%s", req.Step, i, req.Parent.Spec.Source)})
	}
	return out
}

func config(t *testing.T, steps, candidates int) Config {
	t.Helper()
	tg, _ := target.Lookup("rmsnorm")
	return Config{Target: tg, Steps: steps, CandidatesPerStep: candidates, CPuct: 1,
		SessionPath: filepath.Join(t.TempDir(), "rmsnorm_session.json"), Backend: "test", Log: Discard{}}
}

// loadSaved reads the session back from disk: what a crash would leave.
func loadSaved(t *testing.T, cfg Config) *session.Session {
	t.Helper()
	s, err := session.Load(cfg.SessionPath)
	if err != nil {
		t.Fatalf("session not saved: %v", err)
	}
	return s
}

func TestTooManyVariantsAreCappedAndCounted(t *testing.T) {
	cfg := config(t, 1, 4)
	ev := &fakeEvaluator{}
	gen := scripted(func(req llm.Request) (llm.Response, error) {
		return llm.Response{Variants: variants(req, 50), Usage: llm.Usage{Backend: "scripted", InputTokens: 100, OutputTokens: 900}}, nil
	})
	s, err := Run(context.Background(), cfg, gen, ev)
	if err != nil {
		t.Fatal(err)
	}
	limit := MaxVariants(4)
	rec := s.Steps[0]
	if rec.Variants != 50 || rec.Skipped != 50-limit || len(rec.Added) != limit {
		t.Fatalf("step %+v: want 50 variants, %d evaluated, %d skipped", rec, limit, 50-limit)
	}
	if ev.evaluated != 1+limit {
		t.Errorf("%d evaluations, want the seed and %d", ev.evaluated, limit)
	}
	saved := loadSaved(t, cfg)
	if saved.Metadata.TotalEvaluated != 1+limit || saved.Metadata.OutputTokens != 900 {
		t.Errorf("saved metadata %+v", saved.Metadata)
	}
}

func TestFailedGenerationCallsStopTheSearchAfterFive(t *testing.T) {
	cfg := config(t, 10, 2)
	calls := 0
	gen := scripted(func(llm.Request) (llm.Response, error) {
		calls++
		return llm.Response{Usage: llm.Usage{Backend: "scripted"}}, errors.New("scripted: HTTP 503: unavailable")
	})
	s, err := Run(context.Background(), cfg, gen, &fakeEvaluator{})
	if !errors.Is(err, ErrGeneratorFailing) {
		t.Fatalf("err %v, want ErrGeneratorFailing", err)
	}
	if calls != MaxFailedCalls || len(s.Steps) != MaxFailedCalls {
		t.Errorf("%d calls, %d steps; want %d", calls, len(s.Steps), MaxFailedCalls)
	}
	saved := loadSaved(t, cfg)
	if saved.Metadata.TotalSteps != MaxFailedCalls || !strings.Contains(saved.Metadata.StopReason, "HTTP 503") ||
		!strings.Contains(err.Error(), "5 generation calls failed in a row") {
		t.Errorf("stop reason %q, error %q", saved.Metadata.StopReason, err)
	}
}

func TestSuccessResetsTheFailureCount(t *testing.T) {
	// Four failures, a success, four failures: never five in a row.
	cfg := config(t, 9, 1)
	gen := scripted(func(req llm.Request) (llm.Response, error) {
		if req.Step == 5 {
			return llm.Response{Variants: variants(req, 1)}, nil
		}
		return llm.Response{}, errors.New("scripted: the answer is empty")
	})
	if _, err := Run(context.Background(), cfg, gen, &fakeEvaluator{}); err != nil {
		t.Fatalf("err %v, want the search to run its 9 steps", err)
	}
	if s := loadSaved(t, cfg); s.Metadata.TotalSteps != 9 || s.Metadata.StopReason != "" {
		t.Errorf("metadata %+v", s.Metadata)
	}
}

// The real Claude backend against a fake server that fails three times
// (one call, with its retries) and then answers: the first step fails,
// the search goes on, and the session is saved with both steps.
func TestServerErrorsFailOneStep(t *testing.T) {
	tg, _ := target.Lookup("rmsnorm")
	seed := tg.Seeds[device.OpenCL].Source
	fail := llmtest.Reply{Status: 500, Text: "internal", Header: map[string]string{"Retry-After-Ms": "1"}}
	srv := llmtest.NewAnthropic(t, fail, fail, fail,
		llmtest.Reply{Text: llmtest.Answer("128", "#define A 1\n"+seed, "#define B 1\n"+seed), InputTokens: 3000, OutputTokens: 2000})
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-0000")
	t.Setenv("ANTHROPIC_BASE_URL", srv.URL)
	gen, err := llm.New("claude", llm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(t, 2, 2)
	if _, err := Run(context.Background(), cfg, gen, &fakeEvaluator{}); err != nil {
		t.Fatal(err)
	}
	s := loadSaved(t, cfg)
	if len(s.Steps) != 2 {
		t.Fatalf("%d steps saved, want 2", len(s.Steps))
	}
	first, second := s.Steps[0], s.Steps[1]
	if !strings.Contains(first.Error, "HTTP 500") || len(first.Added) != 0 {
		t.Errorf("first step %+v, want the server error", first)
	}
	if second.Error != "" || len(second.Added) != 2 || second.Usage.InputTokens != 3000 || second.Usage.Model != llm.DefaultClaudeModel {
		t.Errorf("second step %+v", second)
	}
	if s.Metadata.InputTokens != 3000 || s.Metadata.OutputTokens != 2000 || s.Metadata.CostUSD <= 0 || s.Metadata.TotalEvaluated != 3 {
		t.Errorf("metadata %+v", s.Metadata)
	}
	if n := len(srv.Calls()); n != 4 {
		t.Errorf("%d requests, want 3 failed attempts and 1 answer", n)
	}
}

// Discard is an Observer that shows nothing.
type Discard struct{}

func (Discard) Seed(eval.Result)                         {}
func (Discard) StepStart(int, int, *search.Node)         {}
func (Discard) Candidate(*search.Node)                   {}
func (Discard) StepEnd(session.StepRecord, *search.Node) {}
