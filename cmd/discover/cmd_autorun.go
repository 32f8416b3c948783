package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"discover/llm"
	"discover/report"
	"discover/session"
	"discover/target"
)

type autorunOptions struct {
	runOptions
	targets, backends []string
	sessionDir        string
	force             bool
}

func newAutorunCommand() *cobra.Command {
	var o autorunOptions
	cmd := &cobra.Command{
		Use:   "autorun [--targets T...] [--backends a,b,c] --steps N --candidates-per-step M",
		Short: "Search every target x backend pair, resuming what was done",
		Long: `Run a search for every target x backend pair, one after the other, each in
<session-dir>/<target>_<backend>/<target>_session.json. A pair whose session
already has --steps steps is skipped (--force starts it over, replacing its
session); one with fewer steps is resumed up to --steps. A pair that fails is
recorded with its error and the others go on. <session-dir>/autorun_summary.json
is rewritten after every pair; the summary table goes to stdout (--json: the
summary as JSON), progress to stderr. Then run: discover compare <session-dir>.

--targets and --backends take comma-separated lists; --targets also takes
space-separated names (the arguments after the flags). The default is every
target, and the generator that --llm auto would pick.

` + exitCodesHelp,
		Example: `  discover autorun --targets rmsnorm fused_swiglu --backends mock --steps 2 --candidates-per-step 2 --device opencl
  discover autorun --backends claude-code,claude,openai --steps 10 --candidates-per-step 4
  discover autorun --targets glm_rmsnorm,glm_fused_swiglu --steps 20 --force --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.targets = append(o.targets, args...)
			return runAutorun(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	o.addFlags(f, "steps each session should have", "print the autorun summary as JSON on stdout")
	f.StringSliceVar(&o.targets, "targets", nil, "targets to search (default all: "+strings.Join(target.Names(), ", ")+")")
	f.StringSliceVar(&o.backends, "backends", []string{"auto"}, "generators to search with")
	f.StringVar(&o.sessionDir, "session-dir", filepath.Join("discover_sessions", "autorun"), "directory of the pairs' sessions and the summary")
	f.BoolVar(&o.force, "force", false, "start over the pairs that already have --steps steps")
	return cmd
}

// pairs checks the targets and backends and returns them in order, without
// repeats.
func (o autorunOptions) pairs() ([]*target.Target, []string, error) {
	names := o.targets
	if len(names) == 0 {
		names = target.Names()
	}
	var targets []*target.Target
	for _, n := range names {
		t, err := lookupTarget(n)
		if err != nil {
			return nil, nil, err
		}
		if !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	var backends []string
	for _, b := range o.backends {
		b, err := resolveGenerator("--backends", b)
		if err != nil {
			return nil, nil, err
		}
		// Building it checks its options (an API key, --replay) before hours of searching.
		if _, err := llm.New(b, o.llmOptions()); err != nil {
			return nil, nil, usageError{fmt.Errorf("--backends %s: %w", b, err)}
		}
		if !slices.Contains(backends, b) {
			backends = append(backends, b)
		}
	}
	if len(backends) == 0 {
		return nil, nil, usagef("--backends is empty")
	}
	return targets, backends, nil
}

func runAutorun(ctx context.Context, o autorunOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	targets, backends, err := o.pairs()
	if err != nil {
		return err
	}
	sum := &report.Autorun{
		Dir: o.sessionDir, StartedAt: time.Now().Format(time.RFC3339), Steps: o.steps,
		CandidatesPerStep: o.candidatesPerStep, Device: o.deviceName,
	}
	total, failed := len(targets)*len(backends), 0
	for _, t := range targets {
		for _, b := range backends {
			label := fmt.Sprintf("[%d/%d] %s x %s", len(sum.Pairs)+1, total, t.Name, b)
			p, runErr := o.runPair(ctx, t, b, label)
			sum.Pairs = append(sum.Pairs, p)
			if p.Status == report.StatusFailed {
				failed++
			}
			if err := sum.Save(); err != nil {
				return err
			}
			if errors.Is(runErr, context.Canceled) {
				fmt.Fprintf(os.Stderr, "interrupted; session of %s saved, summary in %s\n", label, filepath.Join(o.sessionDir, report.AutorunFile))
				return runErr
			}
		}
	}
	sum.FinishedAt = time.Now().Format(time.RFC3339)
	if err := sum.Save(); err != nil {
		return err
	}
	if o.asJSON {
		err = writeJSON(sum)
	} else {
		err = report.PrintAutorun(os.Stdout, sum)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "summary saved to %s; compare the backends with: discover compare %s\n",
		filepath.Join(o.sessionDir, report.AutorunFile), o.sessionDir)
	if failed > 0 {
		return fmt.Errorf("%d of %d pairs failed (their errors are in the summary)", failed, total)
	}
	return nil
}

// runPair runs, resumes or skips one pair. The error it returns is for
// the caller to stop on (an interruption); a pair's own failure is in the
// record.
func (o autorunOptions) runPair(ctx context.Context, t *target.Target, backend, label string) (report.AutorunPair, error) {
	start := time.Now()
	path := session.Path(report.PairDir(o.sessionDir, t.Name, backend), t.Name)
	rel, _ := filepath.Rel(o.sessionDir, path)
	p := report.AutorunPair{Target: t.Name, Backend: backend, Session: rel, Status: report.StatusRan}
	fail := func(err error) (report.AutorunPair, error) {
		p.Status, p.Error, p.Seconds = report.StatusFailed, err.Error(), time.Since(start).Seconds()
		fmt.Fprintf(os.Stderr, "%s: failed: %v\n", label, err)
		return p, nil
	}

	job := searchJob{target: t, backend: backend, path: path, steps: o.steps, label: label}
	if !o.force {
		s, err := session.Load(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fail(fmt.Errorf("cannot resume: %w (move the file away, or use --force to start over)", err))
		case s.Metadata.TotalSteps >= o.steps:
			p.Status = report.StatusSkipped
			p.Record(s)
			fmt.Fprintf(os.Stderr, "%s: skipped, the session has %d steps (--force starts it over)\n", label, s.Metadata.TotalSteps)
			return p, nil
		default:
			p.Status, job.resumed, job.steps = report.StatusResumed, s, o.steps-s.Metadata.TotalSteps
			fmt.Fprintf(os.Stderr, "%s: resuming at step %d of %d\n", label, s.Metadata.TotalSteps+1, o.steps)
		}
	}
	if job.resumed == nil {
		fmt.Fprintf(os.Stderr, "%s: new session %s\n", label, path)
	}

	s, err := runOne(ctx, o.runOptions, job)
	p.Seconds = time.Since(start).Seconds()
	if s != nil {
		p.Record(s)
	}
	switch {
	case ctx.Err() != nil:
		p.Status = report.StatusInterrupted
		return p, ctx.Err()
	case err != nil:
		return fail(err)
	}
	fmt.Fprintf(os.Stderr, "%s: best %.3fx (%s) after %d steps, %d evaluated, in %.0fs\n",
		label, s.Metadata.BestSpeedup, s.Metadata.BestNodeID, s.Metadata.TotalSteps, s.Metadata.TotalEvaluated, p.Seconds)
	return p, nil
}
