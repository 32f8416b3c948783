// Package engine runs a search: select a parent with PUCT, ask the
// generator for variants, evaluate them, backpropagate, save. It knows the
// order of things; the tree, the evaluator and the generator know the rest.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"discover/device"
	"discover/eval"
	"discover/kernel"
	"discover/llm"
	"discover/search"
	"discover/session"
	"discover/target"
)

// Evaluator evaluates candidates on a device; eval.Supervisor is one.
type Evaluator interface {
	Info() device.Info
	Evaluate(ctx context.Context, spec kernel.Spec, nonce uint64) (eval.Result, error)
}

// MaxFailedCalls is how many generation calls in a row may fail before the
// search stops.
const MaxFailedCalls = 5

// Config is one search.
type Config struct {
	Target            *target.Target
	Steps             int // steps to run now (on top of a resumed session's)
	CandidatesPerStep int
	CPuct             float64
	SessionPath       string
	// Session to resume; nil starts a new one.
	Session *session.Session
	Backend string
	Log     Observer
}

// Observer is told what the search does, for progress lines and bars.
type Observer interface {
	Seed(res eval.Result)
	StepStart(step, last int, parent *search.Node)
	Candidate(n *search.Node)
	StepEnd(rec session.StepRecord, best *search.Node)
}

// ErrGeneratorFailing stops a search whose generator failed MaxFailedCalls
// times in a row.
var ErrGeneratorFailing = errors.New("generator failed repeatedly")

// MaxVariants is the cap on variants evaluated per step; the rest of a
// larger answer is recorded as skipped.
func MaxVariants(candidatesPerStep int) int { return max(2*candidatesPerStep, 8) }

// Run runs the search and returns the saved session. On cancellation it
// drops the unevaluated part of the step in flight, saves, and returns
// ctx's error with the session.
func Run(ctx context.Context, cfg Config, gen llm.Generator, ev Evaluator) (*session.Session, error) {
	s := cfg.Session
	dialect := ev.Info().API
	if s == nil {
		seed, err := eval.SeedSpec(cfg.Target, dialect)
		if err != nil {
			return nil, err
		}
		tree := search.New(kernel.Candidate{Spec: seed, LLMReasoning: "seed"}, cfg.CPuct)
		s = session.New(cfg.Target.Name, cfg.Backend, ev.Info(), tree)
	}
	tree := s.TreeData
	if !tree.Root.Evaluated() {
		if err := evaluateSeed(ctx, s, ev); err != nil {
			return nil, err
		}
		cfg.Log.Seed(*tree.Root.EvalResult)
		if err := s.Save(cfg.SessionPath); err != nil {
			return s, fmt.Errorf("save session: %w", err)
		}
	}

	first := s.Metadata.TotalSteps + 1
	last := s.Metadata.TotalSteps + cfg.Steps
	failedCalls := 0
	for step := first; step <= last; step++ {
		rec, err := runStep(ctx, cfg, s, gen, ev, step, last)
		if errors.Is(err, llm.ErrExhausted) {
			s.Metadata.StopReason = "generator has no more responses"
			break
		}
		if ctx.Err() != nil {
			tree.Prune()
			s.Metadata.StopReason = "interrupted"
			s.Refresh()
			if serr := s.Save(cfg.SessionPath); serr != nil {
				return s, fmt.Errorf("save session: %w", serr)
			}
			return s, ctx.Err()
		}
		s.Steps = append(s.Steps, rec)
		s.Metadata.TotalSteps = step
		s.Refresh()
		if rec.Error != "" {
			failedCalls++
		} else {
			failedCalls = 0
		}
		if failedCalls >= MaxFailedCalls {
			s.Metadata.StopReason = fmt.Sprintf("%d generation calls failed in a row; last: %s", failedCalls, rec.Error)
		}
		if err := s.Save(cfg.SessionPath); err != nil {
			return s, fmt.Errorf("save session: %w", err)
		}
		cfg.Log.StepEnd(rec, tree.Best())
		if failedCalls >= MaxFailedCalls {
			return s, fmt.Errorf("%w: %s", ErrGeneratorFailing, s.Metadata.StopReason)
		}
	}
	s.Refresh()
	return s, s.Save(cfg.SessionPath)
}

// evaluateSeed evaluates the root. The seed is the baseline by definition:
// its speedup is 1, and its per-shape medians show the timing noise (the
// seed timed against itself).
func evaluateSeed(ctx context.Context, s *session.Session, ev Evaluator) error {
	root := s.TreeData.Root
	res, err := ev.Evaluate(ctx, root.Candidate.Spec, nonce())
	if err != nil {
		return err
	}
	if !res.Correct {
		return fmt.Errorf("the seed kernel of %s fails on %s (%s): %s; the device or its compiler is not usable",
			s.Metadata.TargetName, ev.Info().Name, res.Failure, res.Detail)
	}
	for i := range res.Shapes {
		res.Shapes[i].Speedup, res.Shapes[i].SpeedupP10, res.Shapes[i].SpeedupP90 = 1, 1, 1
	}
	res.Speedup, res.Reward = 1, 1
	root.EvalResult = &res
	s.TreeData.Backpropagate(root, res.Reward)
	s.Metadata.BaselineUs = res.MedianUs
	s.EvalHistory = append(s.EvalHistory, record(root, 0))
	s.Refresh()
	return nil
}

func runStep(ctx context.Context, cfg Config, s *session.Session, gen llm.Generator, ev Evaluator, step, last int) (session.StepRecord, error) {
	start := time.Now()
	tree := s.TreeData
	parent := tree.Select()
	cfg.Log.StepStart(step, last, parent)
	rec := session.StepRecord{Step: step, ParentID: parent.NodeID}
	resp, err := gen.Generate(ctx, buildRequest(cfg, s, ev.Info(), parent, step))
	rec.Usage = resp.Usage
	if err != nil {
		if errors.Is(err, llm.ErrExhausted) || ctx.Err() != nil {
			return rec, err
		}
		rec.Error = err.Error()
		rec.Seconds = time.Since(start).Seconds()
		return rec, nil
	}
	rec.Variants, rec.Malformed = len(resp.Variants), resp.Malformed
	variants := resp.Variants
	if limit := MaxVariants(cfg.CandidatesPerStep); len(variants) > limit {
		rec.Skipped = len(variants) - limit
		variants = variants[:limit]
	}
	s.Metadata.TotalCandidates += len(resp.Variants)

	var cands []kernel.Candidate
	for _, v := range variants {
		cands = append(cands, candidate(parent, v, step))
	}
	added := tree.Expand(parent, cands, step)
	rec.Duplicate = len(cands) - len(added)
	for _, n := range added {
		res, err := ev.Evaluate(ctx, n.Candidate.Spec, nonce())
		if err != nil {
			return rec, err
		}
		n.EvalResult = &res
		tree.Backpropagate(n, res.Reward)
		s.EvalHistory = append(s.EvalHistory, record(n, step))
		rec.Added = append(rec.Added, n.NodeID)
		cfg.Log.Candidate(n)
	}
	rec.Seconds = time.Since(start).Seconds()
	return rec, nil
}

// candidate turns a parsed variant into a child of parent. A variant
// without THREADGROUP keeps the parent's; without GRID it gets the seed's
// launch rule.
func candidate(parent *search.Node, v llm.Variant, step int) kernel.Candidate {
	spec := parent.Candidate.Spec
	spec.Source = v.Source
	spec.Grid = v.Grid
	if v.Threadgroup != [3]int{} {
		spec.Threadgroup = v.Threadgroup
	}
	parentID := parent.NodeID
	return kernel.Candidate{Spec: spec, ParentID: &parentID, Generation: step, LLMReasoning: v.Reasoning}
}

func record(n *search.Node, step int) session.EvalRecord {
	r := n.EvalResult
	return session.EvalRecord{NodeID: n.NodeID, Step: step, Correct: r.Correct, Reward: r.Reward,
		Speedup: r.Speedup, Failure: r.Failure, EvalSeconds: r.EvalSeconds}
}

// historyLen is how many recent attempts a prompt shows.
const historyLen = 20

func buildRequest(cfg Config, s *session.Session, info device.Info, parent *search.Node, step int) llm.Request {
	tree := s.TreeData
	best := tree.Best()
	req := llm.Request{
		Target: cfg.Target, Dialect: info.API, Device: info, N: cfg.CandidatesPerStep, Step: step,
		Parent: example(parent),
		Best:   example(best),
	}
	hist := s.EvalHistory
	if len(hist) > historyLen {
		hist = hist[len(hist)-historyLen:]
	}
	for _, h := range hist {
		n := tree.Lookup(h.NodeID)
		if n == nil || !n.Evaluated() {
			continue
		}
		a := llm.Attempt{NodeID: n.NodeID, Reasoning: n.Candidate.LLMReasoning, Speedup: n.EvalResult.Speedup,
			Failure: n.EvalResult.Failure, Detail: n.EvalResult.Detail}
		req.History = append(req.History, a)
	}
	return req
}

func example(n *search.Node) llm.Example {
	return llm.Example{NodeID: n.NodeID, Spec: n.Candidate.Spec, Reasoning: n.Candidate.LLMReasoning, Result: n.EvalResult}
}

func nonce() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}
