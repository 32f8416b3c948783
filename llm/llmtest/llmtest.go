// Package llmtest holds fakes of the LLM services for tests: an Anthropic
// Messages server, an OpenAI Chat Completions server and a claude CLI,
// each speaking the real wire format with scripted answers.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Reply is one scripted answer.
type Reply struct {
	Status                    int               // 0 means 200
	Text                      string            // the completion text of a 200
	Body                      string            // sent as is instead of a generated body (malformed JSON)
	Header                    map[string]string // extra response headers
	Delay                     time.Duration     // before answering
	InputTokens, OutputTokens int
}

// Call is one request a fake received.
type Call struct {
	Path   string
	Header http.Header
	Body   map[string]any
}

// Server is a fake LLM API. It plays its replies in order and repeats the
// last one when they run out.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	replies []Reply
	calls   []Call
}

// Calls returns the requests received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// next records a request and returns its reply and the model it asked for.
func (s *Server) next(r *http.Request) (Reply, string) {
	var body map[string]any
	data, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(data, &body)
	model, _ := body["model"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	return s.replies[min(len(s.calls), len(s.replies))-1], model
}

// start serves path with the replies, rendering a 200 with ok and an
// error status with fail.
func start(t testing.TB, path string, replies []Reply, ok func(Reply, string) any, fail func(Reply) any) *Server {
	if len(replies) == 0 {
		t.Fatal("llmtest: a fake server needs at least one reply")
	}
	s := &Server{replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.Error(w, `{"error": {"type": "not_found_error", "message": "no such path"}}`, http.StatusNotFound)
			return
		}
		reply, model := s.next(r)
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
		for k, v := range reply.Header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		status := reply.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		if reply.Body != "" {
			io.WriteString(w, reply.Body)
			return
		}
		var v any
		if status == http.StatusOK {
			v = ok(reply, model)
		} else {
			v = fail(reply)
		}
		json.NewEncoder(w).Encode(v)
	}))
	t.Cleanup(s.Close)
	return s
}

// errorMessage is what a fake says for an error status: the reply's Text
// (OpenAI's 401 quotes part of the key, for one), else the status text.
func errorMessage(r Reply) string {
	if r.Text != "" {
		return r.Text
	}
	return http.StatusText(r.Status)
}

// NewAnthropic starts a fake of POST /v1/messages.
func NewAnthropic(t testing.TB, replies ...Reply) *Server {
	return start(t, "/v1/messages", replies, func(r Reply, model string) any {
		return map[string]any{
			"id": "msg_01Fake", "type": "message", "role": "assistant", "model": model,
			"content":     []any{map[string]any{"type": "text", "text": r.Text}},
			"stop_reason": "end_turn", "stop_sequence": nil,
			"usage": map[string]any{
				"input_tokens": r.InputTokens, "output_tokens": r.OutputTokens,
				"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
			},
		}
	}, func(r Reply) any {
		kind := map[int]string{401: "authentication_error", 403: "permission_error", 404: "not_found_error",
			429: "rate_limit_error", 529: "overloaded_error"}[r.Status]
		if kind == "" {
			kind = "api_error"
		}
		return map[string]any{"type": "error", "error": map[string]any{"type": kind, "message": errorMessage(r)},
			"request_id": "req_01Fake"}
	})
}

// NewOpenAI starts a fake of POST /v1/chat/completions; clients take its
// URL plus "/v1" as their base URL.
func NewOpenAI(t testing.TB, replies ...Reply) *Server {
	return start(t, "/v1/chat/completions", replies, func(r Reply, model string) any {
		return map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "created": 1760000000, "model": model,
			"choices": []any{map[string]any{
				"index": 0, "finish_reason": "stop", "logprobs": nil,
				"message": map[string]any{"role": "assistant", "content": r.Text, "refusal": nil},
			}},
			"usage": map[string]any{
				"prompt_tokens": r.InputTokens, "completion_tokens": r.OutputTokens,
				"total_tokens": r.InputTokens + r.OutputTokens,
			},
		}
	}, func(r Reply) any {
		return map[string]any{"error": map[string]any{"message": errorMessage(r), "type": "invalid_request_error",
			"param": nil, "code": nil}}
	})
}

// Answer formats sources as a model's answer, one variant each.
func Answer(threadgroup string, sources ...string) string {
	var b strings.Builder
	b.WriteString("Here are the variants.\n")
	for i, src := range sources {
		fmt.Fprintf(&b, "---VARIANT---\nREASONING: variant %d\nTHREADGROUP: %s\nSOURCE:\n```c\n%s\n```\n", i+1, threadgroup, src)
	}
	return b.String()
}

// CLIRun is one scripted run of the fake claude CLI.
type CLIRun struct {
	Stdout, Stderr string
	Code           int
	Sleep          float64 // seconds before answering
}

// ClaudeScript writes a fake claude CLI into dir, to put first on PATH.
// Each run saves its arguments and stdin in dir (args.txt, stdin.txt)
// and plays the next scripted run; the last one repeats. The file
// "calls" in dir counts the runs.
func ClaudeScript(t testing.TB, dir string, runs ...CLIRun) {
	t.Helper()
	if len(runs) == 0 {
		t.Fatal("llmtest: a fake claude needs at least one run")
	}
	for i, r := range runs {
		for ext, data := range map[string]string{
			"out": r.Stdout, "err": r.Stderr, "code": fmt.Sprint(r.Code), "sleep": fmt.Sprint(r.Sleep),
		} {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.%s", i+1, ext)), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// sleep runs detached from the pipes, so that killing the script
	// closes them at once.
	script := fmt.Sprintf(`#!/bin/sh
d=%q
n=$(( $(cat "$d/calls" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$d/calls"
[ "$n" -gt %[2]d ] && n=%[2]d
printf '%%s\n' "$@" > "$d/args.txt"
cat > "$d/stdin.txt"
sleep "$(cat "$d/$n.sleep")" </dev/null >/dev/null 2>&1
cat "$d/$n.out"
cat "$d/$n.err" >&2
exit "$(cat "$d/$n.code")"
`, dir, len(runs))
	if err := os.WriteFile(filepath.Join(dir, "claude"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// ClaudeJSON is what `claude -p --output-format json` prints for an
// answer.
func ClaudeJSON(text, model string, inputTokens, outputTokens int, costUSD float64) string {
	data, _ := json.Marshal(map[string]any{
		"type": "result", "subtype": "success", "is_error": false, "duration_ms": 1234, "num_turns": 1,
		"result": text, "session_id": "00000000-fake", "total_cost_usd": costUSD,
		"usage": map[string]any{"input_tokens": inputTokens, "cache_creation_input_tokens": 0,
			"cache_read_input_tokens": 0, "output_tokens": outputTokens},
		"modelUsage": map[string]any{model: map[string]any{"inputTokens": inputTokens, "outputTokens": outputTokens, "costUSD": costUSD}},
	})
	return string(data) + "\n"
}
