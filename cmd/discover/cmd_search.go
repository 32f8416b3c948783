package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"discover/devices"
	"discover/engine"
	"discover/eval"
	"discover/llm"
	"discover/report"
	"discover/session"
	"discover/target"
)

type searchOptions struct {
	steps, candidatesPerStep int
	llmName, model, replay   string
	deviceName, sessionDir   string
	resume                   string
	cPuct                    float64
	timeout                  time.Duration
	verbose, asJSON          bool
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
	f.IntVar(&o.steps, "steps", 10, "search steps to run (on top of a resumed session's)")
	f.IntVar(&o.candidatesPerStep, "candidates-per-step", 4, "variants to ask the generator for at each step")
	f.StringVar(&o.llmName, "llm", "auto", "generator: "+strings.Join(llm.Names, ", "))
	f.StringVar(&o.model, "model", "", "LLM model override")
	f.StringVar(&o.replay, "replay", "", "file of recorded responses for --llm replay")
	f.StringVar(&o.deviceName, "device", "auto", "device: "+strings.Join(devices.Names, ", "))
	f.StringVar(&o.sessionDir, "session-dir", "discover_sessions", "directory of session files")
	f.StringVar(&o.resume, "resume", "", "continue a saved session (the target's in --session-dir, or --resume=FILE)")
	f.Lookup("resume").NoOptDefVal = resumeDefault
	f.Float64Var(&o.cPuct, "c-puct", 1.0, "PUCT exploration constant")
	f.DurationVar(&o.timeout, "timeout", 60*time.Second, "per-candidate limit; the worker is killed and restarted after it")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "a line per candidate")
	f.BoolVar(&o.asJSON, "json", false, "print a JSON summary on stdout instead of the report")
	return cmd
}

func (o searchOptions) validate(targetName string) (*target.Target, error) {
	t, ok := target.Lookup(targetName)
	if !ok {
		return nil, usagef("unknown target %q; valid targets: %s", targetName, strings.Join(target.Names(), ", "))
	}
	switch {
	case o.steps < 0:
		return nil, usagef("--steps must be 0 or more, got %d", o.steps)
	case o.candidatesPerStep < 1:
		return nil, usagef("--candidates-per-step must be at least 1, got %d", o.candidatesPerStep)
	case o.cPuct < 0:
		return nil, usagef("--c-puct must be 0 or more, got %g", o.cPuct)
	case o.timeout <= 0:
		return nil, usagef("--timeout must be positive, got %s", o.timeout)
	case !devices.Valid(o.deviceName):
		return nil, usagef("--device must be one of %s, got %q", strings.Join(devices.Names, ", "), o.deviceName)
	case !slices.Contains(llm.Names, o.llmName):
		return nil, usagef("--llm must be one of %s, got %q", strings.Join(llm.Names, ", "), o.llmName)
	}
	return t, nil
}

func runSearch(ctx context.Context, o searchOptions, targetName string) error {
	t, err := o.validate(targetName)
	if err != nil {
		return err
	}
	path := session.Path(o.sessionDir, t.Name)
	var resumed *session.Session
	switch {
	case o.resume != "":
		if o.resume != resumeDefault {
			path = o.resume
		}
		if resumed, err = session.Load(path); err != nil {
			return fmt.Errorf("cannot resume: %w (the file was left as it is)", err)
		}
		if resumed.Metadata.TargetName != t.Name {
			return fmt.Errorf("cannot resume: %s is a session of target %q, not %q (the file was left as it is)", path, resumed.Metadata.TargetName, t.Name)
		}
	default:
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("a session already exists at %s: continue it with --resume, or move it away to start over", path)
		}
	}

	llmName := o.llmName
	if llmName == "auto" {
		var why string
		llmName, why = llm.Auto()
		fmt.Fprintf(os.Stderr, "generator: %s (%s)\n", llmName, why)
	}
	gen, err := llm.New(llmName, llm.Options{Model: o.model, ReplayFile: o.replay})
	if err != nil {
		return usageError{err}
	}

	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable for the worker: %w", err)
	}
	worker := func(ctx context.Context) *exec.Cmd {
		return exec.CommandContext(ctx, exe, "worker", "--target", t.Name, "--device", o.deviceName)
	}
	fmt.Fprintf(os.Stderr, "opening device %s and compiling the seed of %s...\n", o.deviceName, t.Name)
	sup, err := eval.NewSupervisor(ctx, worker, o.timeout)
	if err != nil {
		return fmt.Errorf("start evaluator: %w", err)
	}
	defer sup.Close()
	info := sup.Info()
	if resumed != nil && resumed.Metadata.Dialect != info.API {
		return fmt.Errorf("cannot resume: the session's kernels are %q but device %s compiles %s (the file was left as it is)",
			dialectName(resumed.Metadata.Dialect), info.Name, info.API)
	}
	fmt.Fprintf(os.Stderr, "device: %s (%s, %d compute units, copy bandwidth %.0f GB/s)\n",
		info.Name, info.API, info.ComputeUnits, info.CopyBandwidthGBs)

	cfg := engine.Config{
		Target: t, Steps: o.steps, CandidatesPerStep: o.candidatesPerStep, CPuct: o.cPuct,
		SessionPath: path, Session: resumed, Backend: llmName,
		Log: &textObserver{w: os.Stderr, verbose: o.verbose, target: t},
	}
	s, runErr := engine.Run(ctx, cfg, gen, sup)
	if s == nil {
		return runErr
	}
	if errors.Is(runErr, context.Canceled) {
		fmt.Fprintf(os.Stderr, "session saved to %s\n", path)
		return runErr
	}
	if o.asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report.Summarize(s, path)); err != nil {
			return err
		}
	} else {
		report.Print(os.Stdout, s, 5)
	}
	fmt.Fprintf(os.Stderr, "session saved to %s\n", path)
	return runErr
}

func dialectName[D ~string](d D) string {
	if d == "" {
		return "metal (ZMLX)"
	}
	return string(d)
}
