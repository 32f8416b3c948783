package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"discover/devices"
	"discover/model"
	"discover/pack"
)

type validateOptions struct {
	model, kernels, weights, deviceName, sessionDir, promote string
	layers, maxTokens, runs                                  int
	seed                                                     uint32
	noPatch, asJSON                                          bool
}

// startToken is the token every run starts from.
const startToken = 1

func newValidateCommand() *cobra.Command {
	var o validateOptions
	cmd := &cobra.Command{
		Use:   "validate --model PRESET|config.json",
		Short: "Model level: decode a MoE model with the seed kernels and with a pack's, compare tok/s and tokens",
		Long: `Decode tokens with a mixture-of-experts transformer at a real model's dims, built
from the kernels the search works on, once with the seed kernels (baseline) and
once with a kernel pack's, and report decode tokens/s (median over --runs, after
a warm-up run, baseline and discovered alternating), the device time per kernel
class, the matrix-vector kernel's bandwidth, and token fidelity (first divergence,
matched/total). The record is appended to <session-dir>/benchmark_results.json.

Per layer: RMSNorm, a mixing step, RMSNorm, router, top-k gating, the selected
experts' gate/up projections, SwiGLU, down projection, MoE combine; then a final
norm, the LM head and greedy argmax. The mixing step is a dense hidden x hidden
projection standing in for attention (no KV cache): the loop measures the MoE
kernels and the projections, not attention. Weights are float32, random from
--seed, or read from --weights (safetensors; see docs/validate.md).

A pack's kernel is used for a class when an entry has the same family and dims,
dialect, device name, dtype float32 and the row count the loop launches it at;
otherwise the seed runs, and the output says why. --promote writes the entries
that pass ZMLX's gate (kernel-level speedup p10 > 1.01, and the model run
token-identical and not slower) to a new pack.

Presets: ` + strings.Join(model.PresetNames(), ", ") + `.

` + exitCodesHelp,
		Example: `  discover validate --model glm-4.7-flash --layers 4 --kernels pack.json --device cuda
  discover validate --model tiny --device opencl --max-tokens 8 --runs 2 --kernels pack.json --promote winners.json
  discover validate --model ./Qwen3-30B-A3B/config.json --layers 2 --no-patch --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "preset ("+strings.Join(model.PresetNames(), ", ")+") or a Hugging Face config.json (required)")
	f.IntVar(&o.layers, "layers", 0, "run the first N layers (default: all of the config's)")
	f.IntVar(&o.maxTokens, "max-tokens", 200, "tokens decoded per run")
	f.IntVar(&o.runs, "runs", 5, "timed runs per variant, after a warm-up run")
	f.StringVar(&o.kernels, "kernels", "", "kernel pack whose kernels the discovered loop runs")
	f.BoolVar(&o.noPatch, "no-patch", false, "run the baseline (seed kernels) only")
	f.StringVar(&o.weights, "weights", "", "directory of safetensors files (default: random weights from --seed)")
	f.Uint32Var(&o.seed, "seed", 1, "seed of the random weights")
	f.StringVar(&o.deviceName, "device", "auto", "device: "+strings.Join(devices.Names, ", "))
	f.StringVar(&o.sessionDir, "session-dir", "discover_sessions", "directory of benchmark_results.json")
	f.BoolVar(&o.asJSON, "json", false, "print the record as JSON")
	f.StringVar(&o.promote, "promote", "", "write the pack entries that pass the promote gate to this new pack")
	return cmd
}

func (o validateOptions) check() error {
	switch {
	case o.model == "":
		return usagef("--model is required: a preset (%s) or a config.json", strings.Join(model.PresetNames(), ", "))
	case o.layers < 0:
		return usagef("--layers must be positive, got %d", o.layers)
	case o.maxTokens < 1:
		return usagef("--max-tokens must be at least 1, got %d", o.maxTokens)
	case o.runs < 1:
		return usagef("--runs must be at least 1, got %d", o.runs)
	case !devices.Valid(o.deviceName):
		return usagef("--device must be one of %s, got %q", strings.Join(devices.Names, ", "), o.deviceName)
	case o.promote != "" && (o.kernels == "" || o.noPatch):
		return usagef("--promote needs --kernels (and no --no-patch): it judges the pack's kernels")
	}
	return nil
}

func runValidate(ctx context.Context, o validateOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	cfg, err := model.Resolve(o.model)
	if errors.Is(err, model.ErrUnknownModel) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	if o.layers > cfg.Layers {
		return usagef("--layers %d: %s has %d layers", o.layers, cfg.Name, cfg.Layers)
	}
	if o.layers > 0 {
		cfg.Layers = o.layers
	}
	if o.kernels != "" && o.noPatch {
		fmt.Fprintf(os.Stderr, "--no-patch: %s is not used\n", o.kernels)
	}
	var p *pack.Pack
	if o.kernels != "" && !o.noPatch {
		if p, err = pack.Load(o.kernels); err != nil {
			return err
		}
	}

	// A results file that cannot take the record fails now, not after the runs.
	results := filepath.Join(o.sessionDir, "benchmark_results.json")
	if _, err := model.ReadRecords(results); err != nil {
		return err
	}

	dev, err := devices.Open(o.deviceName, 0)
	if err != nil {
		return err
	}
	defer dev.Close()
	info := dev.Info()
	var discovered []model.Choice
	if p != nil {
		if discovered, err = model.Choose(cfg, info, p); err != nil {
			return fmt.Errorf("%s: %w", o.kernels, err)
		}
		for _, ch := range discovered {
			fmt.Fprintf(os.Stderr, "%-12s %s: %s\n", ch.Family, ch.From, ch.Why)
		}
	}

	w := model.Weights{Seed: o.seed, Dir: o.weights}
	fmt.Fprintf(os.Stderr, "validate %s (%d layers, %.3g GB of %s weights) on %s\n",
		cfg.Name, cfg.Layers, float64(cfg.WeightBytes())/1e9, w, info.Name)
	start := time.Now()
	m, err := model.New(ctx, dev, cfg, w, weightProgress(os.Stderr))
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Fprintf(os.Stderr, "weights ready in %.1f s: %s\n", time.Since(start).Seconds(), m.WeightSource())

	rec, err := model.Validate(ctx, m, discovered, model.Options{
		MaxTokens: o.maxTokens, Runs: o.runs, Start: startToken,
		Progress: func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	if err := model.AppendRecord(results, rec); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "appended to %s\n", results)

	out := io.Writer(os.Stdout)
	if o.asJSON {
		if err := writeJSON(rec); err != nil {
			return err
		}
		out = os.Stderr
	} else {
		printValidation(out, rec)
	}
	if o.promote != "" {
		verdicts, passed := model.Promote(rec)
		for _, v := range verdicts {
			verdict := "KEEP SEED"
			if v.Pass {
				verdict = "PROMOTE"
			}
			fmt.Fprintf(out, "%-9s %s: %s\n", verdict, v.Entry, v.Reason)
		}
		if err := passed.Save(o.promote); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d of %d entries passed the gate\n", o.promote, len(passed.Entries), len(verdicts))
	}
	return nil
}

// weightProgress draws a bar over the tensors on a terminal; elsewhere it
// stays quiet (the start and end are printed).
func weightProgress(w *os.File) func(done, total int) {
	if !term.IsTerminal(int(w.Fd())) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetWidth(20),
				progressbar.OptionSetDescription("weights"), progressbar.OptionClearOnFinish())
		}
		bar.Set(done)
	}
}

func printValidation(w io.Writer, r *model.Record) {
	fmt.Fprintf(w, "%s, %d layers, on %s (%s), %s weights, %d tokens x %d runs\n",
		r.Model, r.Config.Layers, r.Device, r.Dialect, r.Weights, r.MaxTokens, r.Runs)
	fmt.Fprintf(w, "baseline    %8.1f tok/s (median)\n", r.BaselineTPS)
	if r.DiscoveredTPS != nil {
		fmt.Fprintf(w, "discovered  %8.1f tok/s (median), %+.2f%%\n", *r.DiscoveredTPS, *r.DiscoveredDeltaPct)
	}
	f := r.Fidelity
	div := "none"
	if f.FirstDivergence >= 0 {
		div = fmt.Sprint(f.FirstDivergence)
	}
	fmt.Fprintf(w, "tokens      %d/%d matched, first divergence: %s, identical across runs: %v\n", f.Matched, f.Total, div, r.TokenIdentical)

	fmt.Fprintln(w, "\nkernels:")
	for _, ch := range r.Kernels {
		fmt.Fprintf(w, "  %-12s %-5s %s\n", ch.Family, ch.From, ch.Why)
	}

	fmt.Fprintln(w, "\ndevice time per token, each kernel timed alone:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	patched := r.DiscoveredTPS != nil
	if patched {
		fmt.Fprintln(tw, "class\tlaunches\tbaseline us\tshare\tdiscovered us\tshare\t")
	} else {
		fmt.Fprintln(tw, "class\tlaunches\tus\tshare\t")
	}
	classes := make([]string, 0, len(r.PerKernelUs))
	for c := range r.PerKernelUs {
		classes = append(classes, c)
	}
	sort.SliceStable(classes, func(i, j int) bool { return classIndex(classes[i]) < classIndex(classes[j]) })
	for _, c := range classes {
		kt := r.PerKernelUs[c]
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.1f%%\t", c, kt.Launches, kt.BaselineUs, 100*kt.BaselineUs/r.BaselineStepUs)
		if patched {
			fmt.Fprintf(tw, "%.2f\t%.1f%%\t", kt.DiscoveredUs, 100*kt.DiscoveredUs/r.DiscoveredStepUs)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "sum\t\t%.2f\t\t", r.BaselineStepUs)
	if patched {
		fmt.Fprintf(tw, "%.2f\t\t", r.DiscoveredStepUs)
	}
	fmt.Fprintln(tw)
	tw.Flush()
	fmt.Fprintf(w, "(wall time per token at the median: baseline %.2f us", 1e6/r.BaselineTPS)
	if r.DiscoveredTPS != nil {
		fmt.Fprintf(w, ", discovered %.2f us", 1e6 / *r.DiscoveredTPS)
	}
	fmt.Fprintln(w, ")")

	for _, b := range r.Bandwidth {
		fmt.Fprintf(w, "%-15s %.2f us, %.1f GB/s, %.1f%% of the measured copy bandwidth\n", b.Step, b.Us, b.GBs, b.PctCopyBW)
	}
}

func classIndex(c string) int {
	for i, x := range model.Classes {
		if x == c {
			return i
		}
	}
	return len(model.Classes)
}
