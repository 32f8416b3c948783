package llm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"discover/device"
	"discover/eval"
	"discover/llm/llmtest"
	"discover/target"
)

// testKey looks like a real key, so that redaction by value and by shape
// are both exercised.
const testKey = "sk-test-0123456789abcdefSECRET"

// testRequest asks for n variants of rmsnorm on OpenCL, with the seed as
// parent.
func testRequest(t *testing.T, n int) Request {
	t.Helper()
	tg, _ := target.Lookup("rmsnorm")
	spec, err := eval.SeedSpec(tg, device.OpenCL)
	if err != nil {
		t.Fatal(err)
	}
	seed := Example{NodeID: "root", Spec: spec, Reasoning: "seed", Result: &eval.Result{
		Compiled: true, Correct: true, Speedup: 1, Reward: 1,
		Shapes: []eval.ShapeResult{
			{Rows: 1, MedianUs: 9.8, SeedMedianUs: 9.8, Speedup: 1, GBs: 5, PctCopyBW: 24.2},
			{Rows: 4096, MedianUs: 71337, SeedMedianUs: 71337, Speedup: 1, GBs: 1.9, PctCopyBW: 9.1},
		},
	}}
	return Request{
		Target: tg, Dialect: device.OpenCL, N: n, Step: 1, Parent: seed, Best: seed,
		Device: device.Info{API: device.OpenCL, Name: "pthread-fake", ComputeUnits: 16, MaxWorkGroupSize: 4096,
			LocalMemBytes: 256 << 10, CopyBandwidthGBs: 20.5},
		History: []Attempt{
			{NodeID: "gen1_aaa", Reasoning: "float4 loads", Speedup: 1.2},
			{NodeID: "gen1_bbb", Reasoning: "subgroups", Failure: eval.CompileError, Detail: "error: use of undeclared identifier 'sub_group_reduce_add'"},
		},
	}
}

// variantSources are distinct, harmless edits of the seed.
func variantSources(t *testing.T, n int) []string {
	t.Helper()
	tg, _ := target.Lookup("rmsnorm")
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("#define VARIANT_%d 1\n%s", i, strings.TrimSpace(tg.Seeds[device.OpenCL].Source)))
	}
	return out
}

// apiBackend is an HTTP API backend with its fake server.
type apiBackend struct {
	name, keyVar, model string
	maxTokensField      string
	start               func(testing.TB, ...llmtest.Reply) *llmtest.Server
	baseURL             func(*llmtest.Server) (string, string)
	keyHeader           func(llmtest.Call) string
}

var apiBackends = []apiBackend{
	{
		name: "claude", keyVar: "ANTHROPIC_API_KEY", model: DefaultClaudeModel, maxTokensField: "max_tokens", start: llmtest.NewAnthropic,
		baseURL:   func(s *llmtest.Server) (string, string) { return "ANTHROPIC_BASE_URL", s.URL },
		keyHeader: func(c llmtest.Call) string { return c.Header.Get("X-Api-Key") },
	},
	{
		name: "openai", keyVar: "OPENAI_API_KEY", model: DefaultOpenAIModel, maxTokensField: "max_completion_tokens", start: llmtest.NewOpenAI,
		baseURL:   func(s *llmtest.Server) (string, string) { return "OPENAI_BASE_URL", s.URL + "/v1" },
		keyHeader: func(c llmtest.Call) string { return strings.TrimPrefix(c.Header.Get("Authorization"), "Bearer ") },
	},
}

// generator starts b's fake with replies and returns the backend pointed
// at it, with a fast backoff.
func (b apiBackend) generator(t *testing.T, opts Options, replies ...llmtest.Reply) (Generator, *llmtest.Server) {
	t.Helper()
	srv := b.start(t, replies...)
	for _, v := range []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"} {
		t.Setenv(v, "")
	}
	t.Setenv(b.keyVar, testKey)
	t.Setenv(b.baseURL(srv))
	if opts.backoff == 0 {
		opts.backoff = time.Millisecond
	}
	g, err := New(b.name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return g, srv
}

func TestAPIBackendAnswers(t *testing.T) {
	for _, b := range apiBackends {
		t.Run(b.name, func(t *testing.T) {
			sources := variantSources(t, 2)
			g, srv := b.generator(t, Options{}, llmtest.Reply{Text: llmtest.Answer("128, 1, 1", sources...), InputTokens: 5000, OutputTokens: 3000})
			resp, err := g.Generate(context.Background(), testRequest(t, 2))
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Variants) != 2 || resp.Variants[1].Source != sources[1] || resp.Variants[0].Threadgroup != [3]int{128, 1, 1} {
				t.Fatalf("variants %+v", resp.Variants)
			}
			u := resp.Usage
			if u.Backend != b.name || u.Model != b.model || u.InputTokens != 5000 || u.OutputTokens != 3000 || u.LatencySeconds <= 0 {
				t.Fatalf("usage %+v", u)
			}
			// A listed model is costed; an unlisted one gets no guessed cost.
			if want := costUSD(b.model, 5000, 3000); (want == nil) != (u.CostUSD == nil) || want != nil && *want != *u.CostUSD {
				t.Fatalf("cost for %s: %+v, want %v", b.model, u, want)
			}
			calls := srv.Calls()
			if len(calls) != 1 {
				t.Fatalf("%d calls, want 1", len(calls))
			}
			c := calls[0]
			if b.keyHeader(c) != testKey {
				t.Errorf("key not sent: %v", c.Header)
			}
			if c.Body["model"] != b.model {
				t.Errorf("model %v, want %s", c.Body["model"], b.model)
			}
			if _, ok := c.Body["temperature"]; ok {
				t.Errorf("temperature sent though not set: %v", c.Body["temperature"])
			}
			if c.Body[b.maxTokensField] != 16000.0 {
				t.Errorf("%s %v, want 16000", b.maxTokensField, c.Body[b.maxTokensField])
			}
			body := fmt.Sprint(c.Body)
			for _, want := range []string{"expert GPU kernel engineer", "__kernel void rmsnorm(", "---VARIANT---"} {
				if !strings.Contains(body, want) {
					t.Errorf("request lacks %q", want)
				}
			}
		})
	}
}

func TestAPIBackendOptions(t *testing.T) {
	temp := 0.25
	for _, b := range apiBackends {
		t.Run(b.name, func(t *testing.T) {
			g, srv := b.generator(t, Options{Model: "my-model", MaxTokens: 1234, Temperature: &temp},
				llmtest.Reply{Text: llmtest.Answer("64", variantSources(t, 1)...)})
			resp, err := g.Generate(context.Background(), testRequest(t, 1))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage.Model != "my-model" || resp.Usage.CostUSD != nil {
				t.Errorf("usage %+v: want the model asked for and no price", resp.Usage)
			}
			body := srv.Calls()[0].Body
			if body["model"] != "my-model" || body["temperature"] != 0.25 || body[b.maxTokensField] != 1234.0 {
				t.Errorf("request %v", body)
			}
		})
	}
}

func TestAPIBackendFaults(t *testing.T) {
	ok := llmtest.Reply{Text: llmtest.Answer("256", variantSources(t, 1)...), InputTokens: 10, OutputTokens: 20}
	for _, tc := range []struct {
		name    string
		replies []llmtest.Reply
		calls   int      // requests the fake must see
		want    []string // in the error; none means success
		timeout time.Duration
	}{
		{name: "401 names the variable", replies: []llmtest.Reply{{Status: 401, Text: "Incorrect API key provided: " + testKey}},
			calls: 1, want: []string{"HTTP 401", "KEY_VAR"}},
		{name: "403", replies: []llmtest.Reply{{Status: 403, Text: "your key lacks access"}}, calls: 1, want: []string{"HTTP 403", "KEY_VAR"}},
		{name: "429 then success", replies: []llmtest.Reply{{Status: 429, Text: "slow down"}, ok}, calls: 2},
		{name: "529 overloaded then success", replies: []llmtest.Reply{{Status: 529, Text: "Overloaded"}, ok}, calls: 2},
		{name: "500 three times", replies: []llmtest.Reply{{Status: 500, Text: "internal"}}, calls: 3,
			want: []string{"HTTP 500", "up to 3 attempts"}},
		{name: "429 with retry-after", replies: []llmtest.Reply{{Status: 429, Header: map[string]string{"Retry-After-Ms": "5"}}, ok}, calls: 2},
		{name: "timeout", replies: []llmtest.Reply{{Text: ok.Text, Delay: 5 * time.Second}}, timeout: 300 * time.Millisecond,
			calls: 1, want: []string{"no answer within 300ms"}},
		{name: "malformed JSON", replies: []llmtest.Reply{{Body: `{"id": "x", "content": [{"type": "te`}}, calls: 1, want: []string{""}},
		{name: "empty completion", replies: []llmtest.Reply{{Text: "", InputTokens: 10, OutputTokens: 0}}, calls: 1,
			want: []string{"the answer is empty"}},
		{name: "zero variants", replies: []llmtest.Reply{{Text: "I would rather not write kernels today.", InputTokens: 10, OutputTokens: 9}},
			calls: 1, want: []string{ErrNoVariants.Error(), "I would rather not"}},
	} {
		for _, b := range apiBackends {
			t.Run(tc.name+"/"+b.name, func(t *testing.T) {
				g, srv := b.generator(t, Options{timeout: tc.timeout}, tc.replies...)
				start := time.Now()
				resp, err := g.Generate(context.Background(), testRequest(t, 1))
				if time.Since(start) > 3*time.Second {
					t.Errorf("took %s: retries or the timeout are too slow for a test", time.Since(start))
				}
				if n := len(srv.Calls()); n != tc.calls {
					t.Errorf("%d requests, want %d", n, tc.calls)
				}
				if tc.want == nil {
					if err != nil || len(resp.Variants) != 1 || resp.Usage.OutputTokens != 20 {
						t.Fatalf("err %v, response %+v", err, resp)
					}
					return
				}
				if err == nil {
					t.Fatalf("no error; response %+v", resp)
				}
				t.Log(err)
				for _, w := range tc.want {
					if w = strings.ReplaceAll(w, "KEY_VAR", b.keyVar); !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if !strings.HasPrefix(err.Error(), b.name+": ") {
					t.Errorf("error %q does not name the backend", err)
				}
				if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "0123456789abcdef") {
					t.Errorf("error leaks the key: %q", err)
				}
				if resp.Usage.Backend != b.name || resp.Usage.Model == "" {
					t.Errorf("a failed call still has usage: %+v", resp.Usage)
				}
			})
		}
	}
}

func TestAPIBackendNeedsItsKey(t *testing.T) {
	for _, b := range apiBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Setenv(b.keyVar, "")
			if _, err := New(b.name, Options{}); err == nil || !strings.Contains(err.Error(), b.keyVar) {
				t.Fatalf("err %v, want one naming %s", err, b.keyVar)
			}
		})
	}
}

func TestZeroVariantsIsErrNoVariants(t *testing.T) {
	g, _ := apiBackends[0].generator(t, Options{}, llmtest.Reply{Text: "no kernels here"})
	_, err := g.Generate(context.Background(), testRequest(t, 1))
	if !errors.Is(err, ErrNoVariants) {
		t.Fatalf("err %v, want ErrNoVariants", err)
	}
}

func TestFiftyVariantsAreAllReturned(t *testing.T) {
	// The engine caps what it evaluates; the backend hands over everything.
	g, _ := apiBackends[1].generator(t, Options{}, llmtest.Reply{Text: llmtest.Answer("256", variantSources(t, 50)...)})
	resp, err := g.Generate(context.Background(), testRequest(t, 4))
	if err != nil || len(resp.Variants) != 50 {
		t.Fatalf("err %v, %d variants, want 50", err, len(resp.Variants))
	}
}
