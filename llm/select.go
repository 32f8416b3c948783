package llm

import (
	"fmt"
	"strings"
)

// Options configure a generator from the command line.
type Options struct {
	Model      string // model override; empty means the backend's default
	ReplayFile string // for replay
}

// Names are the values --llm accepts.
var Names = []string{"auto", "mock", "replay"}

// New builds the named generator. "auto" must be resolved with Auto first.
func New(name string, opts Options) (Generator, error) {
	switch name {
	case "mock":
		return Mock{}, nil
	case "replay":
		if opts.ReplayFile == "" {
			return nil, fmt.Errorf("--llm replay needs --replay FILE")
		}
		return NewReplay(opts.ReplayFile)
	}
	return nil, fmt.Errorf("unknown generator %q (want one of %s)", name, strings.Join(Names, ", "))
}

// Auto picks the best generator available and says why: an LLM backend
// when one is configured, else the tuner, else mock.
func Auto() (name, why string) {
	return "mock", "no LLM backend is configured and the tuner is not built yet"
}
