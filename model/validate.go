package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"discover/pack"
	"discover/session"
)

// Options of a validation.
type Options struct {
	MaxTokens int    // tokens per run
	Runs      int    // timed runs per variant, after one warm-up run each
	Start     uint32 // the first token
	// Progress, if set, gets a line per phase and run.
	Progress func(format string, args ...any)
}

// KernelTime is one class's device time per token, summed over its steps.
type KernelTime struct {
	Launches     int     `json:"launches_per_token"`
	BaselineUs   float64 `json:"baseline_us"`
	DiscoveredUs float64 `json:"discovered_us,omitempty"`
}

// Bandwidth is a projection's achieved bandwidth in the baseline loop.
type Bandwidth struct {
	Step      string  `json:"step"`
	Bytes     int64   `json:"bytes"`
	Us        float64 `json:"us"`
	GBs       float64 `json:"gb_per_s"`
	PctCopyBW float64 `json:"pct_copy_bw,omitempty"`
}

// Fidelity compares the discovered loop's tokens with the baseline's (with
// no pack, a timed baseline run's with the warm-up's).
type Fidelity struct {
	FirstDivergence int `json:"first_divergence"` // -1: none
	Matched         int `json:"matched"`          // tokens before the first divergence
	Total           int `json:"total"`
}

// Record is one validation, as appended to benchmark_results.json. The
// discovered fields are null when no pack was given.
type Record struct {
	Model              string                `json:"model"`
	BaselineTPS        float64               `json:"baseline_tps"`
	DiscoveredTPS      *float64              `json:"discovered_tps"`
	DiscoveredDeltaPct *float64              `json:"discovered_delta_pct"`
	TokenIdentical     bool                  `json:"token_identical"`
	PerKernelUs        map[string]KernelTime `json:"per_kernel_us"`
	Device             string                `json:"device"`
	Date               string                `json:"date"`

	Dialect           string    `json:"dialect"`
	Config            Config    `json:"config"` // with the layers run
	Weights           string    `json:"weights"`
	MaxTokens         int       `json:"max_tokens"`
	Runs              int       `json:"runs"`
	BaselineRunsTPS   []float64 `json:"baseline_runs_tps"`
	DiscoveredRunsTPS []float64 `json:"discovered_runs_tps,omitempty"`
	Fidelity          Fidelity  `json:"fidelity"`
	// The warm-up runs' tokens; the discovered ones only when they differ.
	BaselineTokens   []uint32    `json:"baseline_tokens"`
	DiscoveredTokens []uint32    `json:"discovered_tokens,omitempty"`
	Kernels          []Choice    `json:"kernels"`
	Bandwidth        []Bandwidth `json:"bandwidth"`
	// StepUs is the device time of one token step, the sum of every
	// step's time alone: compare it with 1e6/tps to see the host's share.
	BaselineStepUs   float64 `json:"baseline_step_us"`
	DiscoveredStepUs float64 `json:"discovered_step_us,omitempty"`
}

// Profiling of each step: launches per batch, batches.
const profileLaunches, profileSamples = 20, 3

// Validate decodes opts.MaxTokens tokens with the seed kernels and, when
// discovered is not nil, with those choices: a warm-up run each, then
// opts.Runs timed runs each, alternating (baseline, discovered, baseline,
// ...) so drift hits both alike. Then it times every step alone, per class.
func Validate(ctx context.Context, m *Model, discovered []Choice, opts Options) (*Record, error) {
	if opts.MaxTokens < 1 || opts.Runs < 1 {
		return nil, fmt.Errorf("need at least one token and one run, got %d and %d", opts.MaxTokens, opts.Runs)
	}
	say := opts.Progress
	if say == nil {
		say = func(string, ...any) {}
	}
	seeds, err := Seeds(m.cfg)
	if err != nil {
		return nil, err
	}
	say("compiling the baseline loop")
	base, err := m.Build(ctx, seeds)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer base.Release()
	loops := []*Loop{base}
	if discovered != nil {
		say("compiling the discovered loop")
		disc, err := m.Build(ctx, discovered)
		if err != nil {
			return nil, fmt.Errorf("discovered: %w", err)
		}
		defer disc.Release()
		loops = append(loops, disc)
	}
	info := m.dev.Info()
	rec := &Record{Model: m.cfg.Name, Device: info.Name, Dialect: string(info.API), Date: time.Now().UTC().Format(time.RFC3339),
		Config: m.cfg, Weights: m.source, MaxTokens: opts.MaxTokens, Runs: opts.Runs, Kernels: discovered,
		PerKernelUs: map[string]KernelTime{}}
	if discovered == nil {
		rec.Kernels = seeds
	}

	if err := decodeRuns(ctx, rec, loops, opts, say); err != nil {
		return nil, err
	}
	for i, l := range loops {
		say("timing each kernel of the %s loop", variants[i])
		steps, err := l.Profile(profileLaunches, profileSamples)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", variants[i], err)
		}
		total := 0.0
		for _, s := range steps {
			us := float64(s.Time) / 1e3
			total += us
			kt := rec.PerKernelUs[s.Class]
			if i == 0 {
				kt.Launches++
				kt.BaselineUs += us
			} else {
				kt.DiscoveredUs += us
			}
			rec.PerKernelUs[s.Class] = kt
		}
		if i == 0 {
			rec.BaselineStepUs = total
			rec.Bandwidth = bandwidth(steps, info.CopyBandwidthGBs)
		} else {
			rec.DiscoveredStepUs = total
		}
	}
	return rec, nil
}

// variants names the loops: the baseline, then the discovered one.
var variants = []string{"baseline", "discovered"}

// decodeRuns runs a warm-up decode per loop (the first replay pays one-time
// costs; its tokens are the loop's reference), then opts.Runs timed decodes
// per loop, alternating, and fills in tokens/s and fidelity.
func decodeRuns(ctx context.Context, rec *Record, loops []*Loop, opts Options, say func(string, ...any)) error {
	warm := make([][]uint32, len(loops))
	for i, l := range loops {
		say("warm-up %s: %d tokens", variants[i], opts.MaxTokens)
		var err error
		if warm[i], _, err = l.Decode(opts.Start, opts.MaxTokens); err != nil {
			return fmt.Errorf("%s: %w", variants[i], err)
		}
	}
	identical := len(warm) == 1 || slices.Equal(warm[0], warm[1])
	tps := make([][]float64, len(loops))
	var lastBaseline []uint32
	for r := range opts.Runs {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i, l := range loops {
			tokens, elapsed, err := l.Decode(opts.Start, opts.MaxTokens)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", variants[i], r+1, err)
			}
			identical = identical && slices.Equal(tokens, warm[0])
			if i == 0 {
				lastBaseline = tokens
			}
			tps[i] = append(tps[i], float64(opts.MaxTokens)/elapsed.Seconds())
			say("run %d/%d %s: %.1f tok/s", r+1, opts.Runs, variants[i], tps[i][r])
		}
	}
	rec.TokenIdentical = identical
	rec.BaselineRunsTPS, rec.BaselineTPS = tps[0], median(tps[0])
	compared := lastBaseline // with no pack: a timed run against the warm-up
	if len(loops) == 2 {
		compared = warm[1]
		rec.DiscoveredRunsTPS = tps[1]
		d := median(tps[1])
		delta := 100 * (d - rec.BaselineTPS) / rec.BaselineTPS
		rec.DiscoveredTPS, rec.DiscoveredDeltaPct = &d, &delta
	}
	rec.Fidelity = compare(warm[0], compared)
	rec.BaselineTokens = warm[0]
	if rec.Fidelity.FirstDivergence >= 0 {
		rec.DiscoveredTokens = compared
	}
	return nil
}

// bandwidth reports the LM head and the first layer's mixing projection.
func bandwidth(steps []StepTime, copyGBs float64) []Bandwidth {
	var out []Bandwidth
	for _, class := range []string{ClassLMHead, ClassMixer} {
		i := slices.IndexFunc(steps, func(s StepTime) bool { return s.Class == class })
		if i < 0 || steps[i].Time <= 0 {
			continue
		}
		s := steps[i]
		b := Bandwidth{Step: class, Bytes: s.Bytes, Us: float64(s.Time) / 1e3}
		b.GBs = float64(s.Bytes) / s.Time.Seconds() / 1e9
		if copyGBs > 0 {
			b.PctCopyBW = 100 * b.GBs / copyGBs
		}
		out = append(out, b)
	}
	return out
}

func compare(want, got []uint32) Fidelity {
	f := Fidelity{FirstDivergence: -1, Matched: len(want), Total: len(want)}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			f.FirstDivergence, f.Matched = i, i
			break
		}
	}
	return f
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// PromoteP10 is the gate's bar for the kernel-level speedup's p10.
const PromoteP10 = 1.01

// Verdict is the promote gate's decision on one pack entry the loop ran.
type Verdict struct {
	Entry  pack.Key `json:"entry"`
	Pass   bool     `json:"pass"`
	Reason string   `json:"reason"`
}

// Promote applies ZMLX's gate to every pack kernel the discovered loop
// ran: its kernel-level speedup's p10 is above PromoteP10, and the model
// run was token-identical and not slower. It returns a verdict per entry
// and a pack of those that pass.
func Promote(rec *Record) ([]Verdict, *pack.Pack) {
	out := pack.New()
	var verdicts []Verdict
	for _, ch := range rec.Kernels {
		if ch.Entry == nil {
			continue
		}
		e := *ch.Entry
		var fails []string
		switch {
		case e.SpeedupP10 == 0:
			fails = append(fails, "no kernel-level p10 in the pack (made before it was recorded)")
		case e.SpeedupP10 <= PromoteP10:
			fails = append(fails, fmt.Sprintf("kernel-level p10 %.3fx is not above %.2fx", e.SpeedupP10, PromoteP10))
		}
		if !rec.TokenIdentical {
			fails = append(fails, fmt.Sprintf("tokens differ from the baseline's (first at %d)", rec.Fidelity.FirstDivergence))
		}
		if rec.DiscoveredTPS == nil || *rec.DiscoveredTPS < rec.BaselineTPS {
			fails = append(fails, fmt.Sprintf("model level %.1f%% slower", -deref(rec.DiscoveredDeltaPct)))
		}
		v := Verdict{Entry: e.Key, Pass: len(fails) == 0}
		if v.Pass {
			v.Reason = fmt.Sprintf("p10 %.3fx, token-identical, model level %+.1f%%", e.SpeedupP10, deref(rec.DiscoveredDeltaPct))
			out.Add(e)
		} else {
			v.Reason = strings.Join(fails, "; ")
		}
		verdicts = append(verdicts, v)
	}
	return verdicts, out
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// ReadRecords reads the JSON array of records in path (none if the file
// is missing). A file that is not such an array is an error.
func ReadRecords(path string) ([]json.RawMessage, error) {
	var records []json.RawMessage
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &records); err != nil {
		return nil, fmt.Errorf("%s is not a JSON array of records (%v); move it away to start a new one", path, err)
	}
	return records, nil
}

// AppendRecord adds rec to the JSON array in path, creating the file if
// missing, atomically. A file that is not such an array is an error, never
// overwritten.
func AppendRecord(path string, rec *Record) error {
	records, err := ReadRecords(path)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(append(records, raw), "", "  ")
	if err != nil {
		return err
	}
	return session.WriteFileAtomic(path, append(out, '\n'))
}
