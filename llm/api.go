package llm

import (
	"cmp"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"
)

// Defaults of the HTTP API backends.
const (
	defaultMaxTokens = 16000
	// defaultRetries after the first attempt: three attempts in all, on
	// 408, 409, 429, 5xx (529 is Anthropic's "overloaded") and lost
	// connections.
	defaultRetries = 2
	// defaultBackoff is the wait before the first retry, doubled for each
	// next one, unless the server says how long (Retry-After).
	defaultBackoff = time.Second
)

// api is what the HTTP API backends share: the request's settings and the
// retry policy, which the SDKs carry out.
type api struct {
	keyVar      string // the environment variable that holds the key
	model       string
	maxTokens   int
	temperature *float64
	timeout     time.Duration // one call, retries included
	retries     int
	backoff     time.Duration
}

// newAPI reads the key's presence (the SDKs read the value itself, with
// the base URL, from the environment) and fills in defaults.
func newAPI(backend, keyVar, defaultModel string, opts Options) (api, error) {
	if os.Getenv(keyVar) == "" {
		return api{}, fmt.Errorf("--llm %s needs %s in the environment", backend, keyVar)
	}
	return api{
		keyVar:      keyVar,
		model:       cmp.Or(opts.Model, defaultModel),
		maxTokens:   cmp.Or(opts.MaxTokens, defaultMaxTokens),
		temperature: opts.Temperature,
		timeout:     opts.callTimeout(),
		retries:     defaultRetries,
		backoff:     cmp.Or(opts.backoff, defaultBackoff),
	}, nil
}

// pace is an SDK middleware that sets the SDK's wait before a retry: it
// marks a retryable answer that does not say how long to wait with
// Retry-After-Ms, which both SDKs obey, so the backoff is ours to choose.
func (a api) pace(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	res, err := next(req)
	if err != nil || !retryable(res.StatusCode) || res.Header.Get("Retry-After") != "" || res.Header.Get("Retry-After-Ms") != "" {
		return res, err
	}
	// The SDKs number their attempts in this header: 0, 1, 2...
	attempt, _ := strconv.Atoi(req.Header.Get("X-Stainless-Retry-Count"))
	wait := a.backoff << min(attempt, 10)
	res.Header.Set("Retry-After-Ms", strconv.FormatFloat(float64(wait)/float64(time.Millisecond), 'f', -1, 64))
	return res, nil
}

func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusConflict ||
		status == http.StatusTooManyRequests || status >= 500
}

// statusError describes an HTTP error answer; message is the server's
// own, redacted by the caller.
func (a api) statusError(status int, message string) error {
	var hint string
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		hint = fmt.Sprintf(" (set %s to a valid key with access to model %q)", a.keyVar, a.model)
	case status == http.StatusNotFound:
		hint = fmt.Sprintf(" (check --model %q and the base URL)", a.model)
	case retryable(status):
		hint = fmt.Sprintf(" (the last of up to %d attempts)", a.retries+1)
	}
	if message == "" {
		message = http.StatusText(status)
	}
	return fmt.Errorf("HTTP %d: %s%s", status, message, hint)
}
