package llm

import (
	"context"
	"errors"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// DefaultOpenAIModel is OpenAI's general model; a local server wants
// --model set to one it serves.
const DefaultOpenAIModel = openai.ChatModelGPT5_5

// openAIAPI sends prompts to a Chat Completions endpoint: OpenAI's, or a
// local compatible server's (Ollama, vLLM, llama.cpp) through
// OPENAI_BASE_URL. The SDK reads OPENAI_API_KEY and OPENAI_BASE_URL from
// the environment.
type openAIAPI struct {
	api
	client openai.Client
}

func newOpenAI(opts Options) (Generator, error) {
	a, err := newAPI("openai", "OPENAI_API_KEY", DefaultOpenAIModel, opts)
	if err != nil {
		return nil, err
	}
	c := &openAIAPI{api: a, client: openai.NewClient()}
	return &chat{name: "openai", model: a.model, timeout: a.timeout, send: c.send}, nil
}

func (c *openAIAPI) send(ctx context.Context, system, user string) (completion, error) {
	params := openai.ChatCompletionNewParams{
		Model:    c.model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system), openai.UserMessage(user)},
		// max_tokens is refused by OpenAI's reasoning models; the
		// compatible servers take max_completion_tokens too.
		MaxCompletionTokens: openai.Int(int64(c.maxTokens)),
	}
	if c.temperature != nil {
		params.Temperature = openai.Float(*c.temperature)
	}
	resp, err := c.client.Chat.Completions.New(ctx, params,
		option.WithMaxRetries(c.retries),
		option.WithMiddleware(c.pace),
	)
	if err != nil {
		var apiErr *openai.Error
		if errors.As(err, &apiErr) {
			return completion{}, c.statusError(apiErr.StatusCode, apiErr.Message)
		}
		return completion{}, err
	}
	out := completion{
		model:        resp.Model,
		inputTokens:  int(resp.Usage.PromptTokens),
		outputTokens: int(resp.Usage.CompletionTokens),
	}
	if len(resp.Choices) > 0 {
		out.text = resp.Choices[0].Message.Content
		out.truncated = resp.Choices[0].FinishReason == "length"
	}
	return out, nil
}
