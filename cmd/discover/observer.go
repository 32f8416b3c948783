package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"discover/engine"
	"discover/eval"
	"discover/search"
	"discover/session"
	"discover/target"
)

// observer is an engine.Observer that must be closed when the search ends.
type observer interface {
	engine.Observer
	Close()
}

// newObserver shows a progress bar when w is a terminal, else the plain
// lines of textObserver (logs and CI keep a readable record).
func newObserver(w *os.File, t *target.Target, steps int, label string, verbose bool) observer {
	text := &textObserver{w: w, verbose: verbose, target: t, label: label}
	if steps < 1 || !term.IsTerminal(int(w.Fd())) {
		return text
	}
	return newBarObserver(w, text, steps)
}

// textObserver prints a line per step on stderr, and with -v a line per
// candidate.
type textObserver struct {
	w       io.Writer
	verbose bool
	target  *target.Target
	label   string // prefix of the step lines (autorun's pair)
}

func (o *textObserver) Close() {}

func (o *textObserver) Seed(res eval.Result) {
	last := res.Shapes[len(res.Shapes)-1]
	fmt.Fprintf(o.w, "%sseed: correct; %.1f us at %s=%d (timed against itself: %.1f us, so differences under %.1f%% are noise)\n",
		o.prefix(), last.MedianUs, o.target.RowVar, last.Rows, last.SeedMedianUs, noisePct(res))
}

func (o *textObserver) prefix() string {
	if o.label == "" {
		return ""
	}
	return o.label + ": "
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
	fmt.Fprintf(o.w, "%sstep %d/%d: parent %s (reward %.3f)\n", o.prefix(), step, last, parent.NodeID, reward)
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
	fmt.Fprintf(o.w, "%sstep %d done: %s; best %.3fx (%s); %.1fs\n", o.prefix(), rec.Step, msg, bestSpeedup(best), best.NodeID, rec.Seconds)
}

func bestSpeedup(best *search.Node) float64 {
	if best.Evaluated() {
		return best.EvalResult.Speedup
	}
	return 1
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

// barObserver draws one progress bar over the steps: step, candidates
// evaluated, best speedup so far, elapsed time. The seed line and -v's
// candidate lines are printed above it.
type barObserver struct {
	bar     *progressbar.ProgressBar
	text    *textObserver
	done    chan struct{}
	ticking sync.WaitGroup

	mu                   sync.Mutex
	step, last           int
	evaluated, ok, fails int
	best                 float64
}

func newBarObserver(w io.Writer, text *textObserver, steps int) *barObserver {
	o := &barObserver{text: text, done: make(chan struct{}), best: 1}
	o.bar = progressbar.NewOptions(steps,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(20),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionClearOnFinish(),
	)
	o.bar.Describe(text.prefix() + "evaluating the seed")
	// The bar redraws only when told; a tick keeps the elapsed time moving
	// while a candidate is compiled and timed.
	o.ticking.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-o.done:
				return
			case <-tick.C:
				o.redraw()
			}
		}
	})
	return o
}

func (o *barObserver) redraw() {
	o.mu.Lock()
	desc := o.text.prefix() + "evaluating the seed"
	if o.step > 0 {
		desc = fmt.Sprintf("%sstep %d/%d, %d evaluated (%d ok, %d failed), best %.3fx",
			o.text.prefix(), o.step, o.last, o.evaluated, o.ok, o.fails, o.best)
	}
	o.mu.Unlock()
	o.bar.Describe(desc)
}

// above prints lines above the bar.
func (o *barObserver) above(print func()) {
	_ = o.bar.Clear()
	print()
	_ = o.bar.RenderBlank()
}

func (o *barObserver) Seed(res eval.Result) { o.above(func() { o.text.Seed(res) }) }

func (o *barObserver) StepStart(step, last int, _ *search.Node) {
	o.mu.Lock()
	o.step, o.last = step, last
	o.mu.Unlock()
	o.redraw()
}

func (o *barObserver) Candidate(n *search.Node) {
	o.mu.Lock()
	o.evaluated++
	if r := n.EvalResult; r.Correct {
		o.ok++
		o.best = max(o.best, r.Speedup)
	} else {
		o.fails++
	}
	o.mu.Unlock()
	if o.text.verbose {
		o.above(func() { o.text.Candidate(n) })
	}
	o.redraw()
}

func (o *barObserver) StepEnd(_ session.StepRecord, best *search.Node) {
	o.mu.Lock()
	o.best = bestSpeedup(best)
	o.mu.Unlock()
	o.redraw()
	_ = o.bar.Add(1)
}

func (o *barObserver) Close() {
	close(o.done)
	o.ticking.Wait()
	_ = o.bar.Clear()
	_ = o.bar.Exit()
}
