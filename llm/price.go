package llm

import "regexp"

// price is a model's list price in US dollars per million tokens.
type price struct{ in, out float64 }

// prices are the published list prices of the models a search is likely
// to use; a model not here gets no cost rather than a guessed one.
var prices = map[string]price{
	"claude-sonnet-5-5": {2, 10},
	"claude-sonnet-5":   {2, 10},
	"claude-sonnet-4-6": {3, 15},
	"claude-sonnet-4-5": {3, 15},
	"claude-opus-5-5":   {4, 20},
	"claude-opus-5":     {5, 25},
	"claude-opus-4-5":   {5, 25},
	"claude-haiku-4-5":  {1, 5},
	"gpt-5":             {1.25, 10},
	"gpt-5-mini":        {0.25, 2},
	"gpt-4.1":           {2, 8},
	"gpt-4.1-mini":      {0.4, 1.6},
	"gpt-4o":            {2.5, 10},
}

// datedSuffix ends a pinned model id: claude-sonnet-4-5-20250929,
// gpt-4.1-2025-04-14. A pinned id costs what its alias does.
var datedSuffix = regexp.MustCompile(`-\d{4}-?\d{2}-?\d{2}$`)

// costUSD is the list price of a call, or nil when the model's price is
// not known.
func costUSD(model string, inputTokens, outputTokens int) *float64 {
	p, ok := prices[model]
	if !ok {
		p, ok = prices[datedSuffix.ReplaceAllString(model, "")]
	}
	if !ok {
		return nil
	}
	c := (float64(inputTokens)*p.in + float64(outputTokens)*p.out) / 1e6
	return &c
}
