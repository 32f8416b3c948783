package llm

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

// DefaultClaudeModel is the current Sonnet.
const DefaultClaudeModel = anthropic.ModelClaudeSonnet5_5

// claudeAPI sends prompts to the Anthropic Messages API. The SDK reads
// ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from the environment.
type claudeAPI struct {
	api
	client anthropic.Client
}

func newClaude(opts Options) (Generator, error) {
	a, err := newAPI("claude", "ANTHROPIC_API_KEY", DefaultClaudeModel, opts)
	if err != nil {
		return nil, err
	}
	c := &claudeAPI{api: a, client: anthropic.NewClient()}
	return &chat{name: "claude", model: a.model, timeout: a.timeout, send: c.send}, nil
}

func (c *claudeAPI) send(ctx context.Context, system, user string) (completion, error) {
	params := anthropic.MessageNewParams{
		Model:     c.model,
		MaxTokens: int64(c.maxTokens),
		System:    []anthropic.TextBlockParam{{Text: system}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(user))},
	}
	if c.temperature != nil {
		params.Temperature = anthropic.Float(*c.temperature)
	}
	msg, err := c.client.Messages.New(ctx, params,
		option.WithMaxRetries(c.retries),
		option.WithMiddleware(c.pace),
		// An explicit attempt timeout (ctx bounds the call anyway) stops the
		// SDK from refusing a large max_tokens without streaming.
		option.WithRequestTimeout(c.timeout),
	)
	if err != nil {
		var apiErr *anthropic.Error
		if errors.As(err, &apiErr) {
			return completion{}, c.statusError(apiErr.StatusCode, anthropicMessage(apiErr))
		}
		return completion{}, err
	}
	var text strings.Builder
	for _, block := range msg.Content {
		if block.Type == "text" {
			text.WriteString(block.Text)
		}
	}
	u := msg.Usage
	return completion{
		text:         text.String(),
		model:        msg.Model,
		inputTokens:  int(u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens),
		outputTokens: int(u.OutputTokens),
		truncated:    msg.StopReason == anthropic.StopReasonMaxTokens,
	}, nil
}

// anthropicMessage is the "error" part of an Anthropic error body:
// {"type": "error", "error": {"type": "...", "message": "..."}}.
func anthropicMessage(e *anthropic.Error) string {
	var body struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(e.RawJSON()), &body) != nil || body.Error.Message == "" {
		return oneLine(e.RawJSON(), 300)
	}
	return body.Error.Type + ": " + body.Error.Message
}
