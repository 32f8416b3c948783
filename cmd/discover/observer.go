package main

import (
	"fmt"
	"io"
	"strings"

	"discover/eval"
	"discover/search"
	"discover/session"
	"discover/target"
)

// textObserver prints a line per step on stderr, and with -v a line per
// candidate.
type textObserver struct {
	w       io.Writer
	verbose bool
	target  *target.Target
}

func (o *textObserver) Seed(res eval.Result) {
	last := res.Shapes[len(res.Shapes)-1]
	fmt.Fprintf(o.w, "seed: correct; %.1f us at %s=%d (timed against itself: %.1f us, so differences under %.1f%% are noise)\n",
		last.MedianUs, o.target.RowVar, last.Rows, last.SeedMedianUs, noisePct(res))
}

// noisePct is the largest gap between the seed and itself over the shapes.
func noisePct(res eval.Result) float64 {
	worst := 0.0
	for _, s := range res.Shapes {
		gap := 100 * (s.MedianUs/s.SeedMedianUs - 1)
		worst = max(worst, gap, -gap)
	}
	return worst
}

func (o *textObserver) StepStart(step, last int, parent *search.Node) {
	reward := 0.0
	if parent.Evaluated() {
		reward = parent.EvalResult.Reward
	}
	fmt.Fprintf(o.w, "step %d/%d: parent %s (reward %.3f)\n", step, last, parent.NodeID, reward)
}

func (o *textObserver) Candidate(n *search.Node) {
	if !o.verbose {
		return
	}
	r := n.EvalResult
	if r.Correct {
		fmt.Fprintf(o.w, "  OK   %-20s %9.1f us  %.3fx  %s\n", n.NodeID, r.MedianUs, r.Speedup, firstLine(n.Candidate.LLMReasoning, 60))
		return
	}
	fmt.Fprintf(o.w, "  FAIL %-20s %s: %s\n", n.NodeID, r.Failure, firstLine(r.Detail, 100))
}

func (o *textObserver) StepEnd(rec session.StepRecord, best *search.Node) {
	msg := fmt.Sprintf("%d variants, %d new", rec.Variants, len(rec.Added))
	if rec.Error != "" {
		msg = "generation failed: " + firstLine(rec.Error, 120)
	}
	if rec.Skipped > 0 {
		msg += fmt.Sprintf(", %d over the cap skipped", rec.Skipped)
	}
	speedup := 1.0
	if best.Evaluated() {
		speedup = best.EvalResult.Speedup
	}
	fmt.Fprintf(o.w, "step %d done: %s; best %.3fx (%s); %.1fs\n", rec.Step, msg, speedup, best.NodeID, rec.Seconds)
}

func firstLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
