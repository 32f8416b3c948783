package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"discover/devices"
	"discover/engine"
	"discover/eval"
	"discover/llm"
	"discover/report"
	"discover/session"
	"discover/target"
)

// runOptions are the flags that search and autorun share.
type runOptions struct {
	steps, candidatesPerStep int
	model, replay            string
	maxTokens                int
	temperature              string // empty means the model's default
	deviceName               string
	cPuct                    float64
	timeout                  time.Duration
	verbose, asJSON          bool
}

// addFlags defines the shared flags; --steps differs in meaning between
// the commands, so its help is theirs.
func (o *runOptions) addFlags(f *pflag.FlagSet, stepsHelp, jsonHelp string) {
	f.IntVar(&o.steps, "steps", 10, stepsHelp)
	f.IntVar(&o.candidatesPerStep, "candidates-per-step", 4, "variants to ask the generator for at each step")
	f.StringVar(&o.model, "model", "", "LLM model override")
	f.IntVar(&o.maxTokens, "max-tokens", 0, "output token limit of --llm claude and openai (default 16000)")
	f.StringVar(&o.temperature, "temperature", "", "sampling temperature of --llm claude and openai (default: the model's)")
	f.StringVar(&o.replay, "replay", "", "file of recorded responses for the replay generator")
	f.StringVar(&o.deviceName, "device", "auto", "device: "+strings.Join(devices.Names, ", "))
	f.Float64Var(&o.cPuct, "c-puct", 1.0, "PUCT exploration constant")
	f.DurationVar(&o.timeout, "timeout", 60*time.Second, "per-candidate limit; the worker is killed and restarted after it")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "a line per candidate")
	f.BoolVar(&o.asJSON, "json", false, jsonHelp)
}

func (o runOptions) validate() error {
	switch {
	case o.steps < 0:
		return usagef("--steps must be 0 or more, got %d", o.steps)
	case o.candidatesPerStep < 1:
		return usagef("--candidates-per-step must be at least 1, got %d", o.candidatesPerStep)
	case o.maxTokens < 0:
		return usagef("--max-tokens must be 0 or more, got %d", o.maxTokens)
	case o.temperature != "" && !validTemperature(o.temperature):
		return usagef("--temperature must be a number from 0 to 2, got %q", o.temperature)
	case o.cPuct < 0:
		return usagef("--c-puct must be 0 or more, got %g", o.cPuct)
	case o.timeout <= 0:
		return usagef("--timeout must be positive, got %s", o.timeout)
	case !devices.Valid(o.deviceName):
		return usagef("--device must be one of %s, got %q", strings.Join(devices.Names, ", "), o.deviceName)
	}
	return nil
}

func validTemperature(s string) bool {
	t, err := strconv.ParseFloat(s, 64)
	return err == nil && t >= 0 && t <= 2
}

// llmOptions are the generator's settings, once validate has passed.
func (o runOptions) llmOptions() llm.Options {
	opts := llm.Options{Model: o.model, MaxTokens: o.maxTokens, ReplayFile: o.replay}
	if t, err := strconv.ParseFloat(o.temperature, 64); err == nil {
		opts.Temperature = &t
	}
	return opts
}

type searchOptions struct {
	runOptions
	llmName, sessionDir string
	resume              string
}

// resumeDefault is --resume given without a file: the target's session in
// --session-dir.
const resumeDefault = "\x00default"

func newSearchCommand() *cobra.Command {
	var o searchOptions
	cmd := &cobra.Command{
		Use:   "search TARGET",
		Short: "Search for a faster kernel for one target",
		Long: `Search for a faster kernel for one target. The seed kernel is evaluated first;
then each step picks a parent with PUCT, asks the generator for variants,
checks each against the float64 reference and times it against the seed.
The session is saved after every step to <session-dir>/<target>_session.json.
Progress goes to stderr (a bar on a terminal), the report to stdout.

` + exitCodesHelp,
		Example: `  discover search rmsnorm --llm mock --steps 3 --candidates-per-step 4 --device opencl
  discover search glm_rmsnorm --resume --steps 5
  discover search rmsnorm --llm replay --replay responses.txt -v`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSearch(cmd.Context(), o, args[0])
		},
	}
	f := cmd.Flags()
	o.addFlags(f, "search steps to run (on top of a resumed session's)", "print a JSON summary on stdout instead of the report")
	f.StringVar(&o.llmName, "llm", "auto", "generator: "+strings.Join(llm.Names, ", "))
	f.StringVar(&o.sessionDir, "session-dir", "discover_sessions", "directory of session files")
	f.StringVar(&o.resume, "resume", "", "continue a saved session (the target's in --session-dir, or --resume=FILE)")
	f.Lookup("resume").NoOptDefVal = resumeDefault
	return cmd
}

func lookupTarget(name string) (*target.Target, error) {
	t, ok := target.Lookup(name)
	if !ok {
		return nil, usagef("unknown target %q; valid targets: %s", name, strings.Join(target.Names(), ", "))
	}
	return t, nil
}

// resolveGenerator checks a generator name and turns "auto" into the one
// available, saying why on stderr.
func resolveGenerator(flag, name string) (string, error) {
	if !slices.Contains(llm.Names, name) {
		return "", usagef("%s must be one of %s, got %q", flag, strings.Join(llm.Names, ", "), name)
	}
	if name != "auto" {
		return name, nil
	}
	name, why := llm.Auto()
	fmt.Fprintf(os.Stderr, "generator: %s (%s)\n", name, why)
	return name, nil
}

func runSearch(ctx context.Context, o searchOptions, targetName string) error {
	t, err := lookupTarget(targetName)
	if err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	backend, err := resolveGenerator("--llm", o.llmName)
	if err != nil {
		return err
	}
	job := searchJob{target: t, backend: backend, path: session.Path(o.sessionDir, t.Name), steps: o.steps}
	switch {
	case o.resume != "":
		if o.resume != resumeDefault {
			job.path = o.resume
		}
		if job.resumed, err = session.Load(job.path); err != nil {
			return fmt.Errorf("cannot resume: %w (the file was left as it is)", err)
		}
		if job.resumed.Metadata.TargetName != t.Name {
			return fmt.Errorf("cannot resume: %s is a session of target %q, not %q (the file was left as it is)", job.path, job.resumed.Metadata.TargetName, t.Name)
		}
	default:
		if _, err := os.Stat(job.path); err == nil {
			return fmt.Errorf("a session already exists at %s: continue it with --resume, or move it away to start over", job.path)
		}
	}

	s, runErr := runOne(ctx, o.runOptions, job)
	if s == nil {
		return runErr
	}
	if errors.Is(runErr, context.Canceled) {
		fmt.Fprintf(os.Stderr, "session saved to %s\n", job.path)
		return runErr
	}
	if o.asJSON {
		if err := writeJSON(report.Summarize(s, job.path)); err != nil {
			return err
		}
	} else {
		report.Print(os.Stdout, s, 5)
	}
	fmt.Fprintf(os.Stderr, "session saved to %s\n", job.path)
	return runErr
}

// searchJob is one search: a target, a resolved generator, a session file.
type searchJob struct {
	target  *target.Target
	backend string
	path    string
	resumed *session.Session // nil starts a new session
	steps   int
	label   string // prefix of the progress bar (autorun's pair)
}

// runOne starts the evaluator's worker and runs one search. It returns the
// saved session, with ctx's error when interrupted.
func runOne(ctx context.Context, o runOptions, job searchJob) (*session.Session, error) {
	t := job.target
	gen, err := llm.New(job.backend, o.llmOptions())
	if err != nil {
		return nil, usageError{err}
	}
	worker, err := workerCommand(t.Name, o.deviceName)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "opening device %s and compiling the seed of %s...\n", o.deviceName, t.Name)
	sup, err := eval.NewSupervisor(ctx, worker, o.timeout)
	if err != nil {
		return nil, fmt.Errorf("start evaluator: %w", err)
	}
	defer sup.Close()
	info := sup.Info()
	if job.resumed != nil && job.resumed.Metadata.Dialect != info.API {
		return nil, fmt.Errorf("cannot resume: the session's kernels are %q but device %s compiles %s (the file was left as it is)",
			report.DialectName(job.resumed.Metadata.Dialect), info.Name, info.API)
	}
	fmt.Fprintf(os.Stderr, "device: %s (%s, %d compute units, copy bandwidth %.0f GB/s)\n",
		info.Name, info.API, info.ComputeUnits, info.CopyBandwidthGBs)
	if job.resumed != nil && job.resumed.Metadata.DeviceChip != info.Name {
		// Every speedup is measured against the seed on the same device, so
		// each stays valid, but the tree now mixes two devices' numbers.
		fmt.Fprintf(os.Stderr, "warning: the session was measured on %s; new candidates are timed on %s\n",
			job.resumed.Metadata.DeviceChip, info.Name)
	}

	obs := newObserver(os.Stderr, t, job.steps, job.label, o.verbose)
	defer obs.Close()
	cfg := engine.Config{
		Target: t, Steps: job.steps, CandidatesPerStep: o.candidatesPerStep, CPuct: o.cPuct,
		SessionPath: job.path, Session: job.resumed, Backend: job.backend, Log: obs,
	}
	return engine.Run(ctx, cfg, gen, sup)
}

// writeJSON prints v on stdout, indented.
func writeJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
