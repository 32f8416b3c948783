// Package eval decides whether a candidate kernel is correct and how fast it
// is, under rules that make the number trustworthy: fresh inputs, poisoned
// outputs, guard regions, input checksums, a second run to catch races, and
// timing interleaved with the seed kernel.
package eval

import "math"

// Reason is why a candidate failed. The generator sees it in its history.
type Reason string

const (
	CompileError  Reason = "compile_error"
	LaunchError   Reason = "launch_error"
	WrongResult   Reason = "wrong_result"
	Race          Reason = "race"
	OutOfBounds   Reason = "out_of_bounds"
	InputModified Reason = "input_modified"
	Timeout       Reason = "timeout"
	Crash         Reason = "crash"
)

// MaxReward is ZMLX's clamp on the reward.
const MaxReward = 10.0

// ShapeResult is the timing of one shape, candidate and seed side by side.
type ShapeResult struct {
	Rows         int     `json:"rows"`
	MedianUs     float64 `json:"median_us"`
	P10Us        float64 `json:"p10_us"`
	P90Us        float64 `json:"p90_us"`
	SeedMedianUs float64 `json:"seed_median_us"`
	SeedP10Us    float64 `json:"seed_p10_us"`
	SeedP90Us    float64 `json:"seed_p90_us"`
	Speedup      float64 `json:"speedup"` // seed median / candidate median
	// SpeedupP10 and SpeedupP90 spread the ratios of the interleaved pairs
	// (seed sample i / candidate sample i): a speedup whose p10 is under 1
	// is within the noise.
	SpeedupP10 float64 `json:"speedup_p10"`
	SpeedupP90 float64 `json:"speedup_p90"`
	Bytes      int64   `json:"bytes"`
	GBs        float64 `json:"gb_per_s"`
	PctCopyBW  float64 `json:"pct_copy_bw,omitempty"`
	Samples    int     `json:"samples"`
	Launches   int     `json:"launches_per_sample"`
}

// Result is a candidate's evaluation. The first fields keep the meaning of
// ZMLX Discover's eval_result; the rest are this tool's additions.
type Result struct {
	Compiled         bool      `json:"compiled"`
	Correct          bool      `json:"correct"`
	CompileError     *string   `json:"compile_error"`
	CorrectnessError *string   `json:"correctness_error"`
	TimingsUs        []float64 `json:"timings_us"` // candidate samples at the largest shape
	MedianUs         float64   `json:"median_us"`  // candidate median at the largest shape
	Reward           float64   `json:"reward"`
	Speedup          float64   `json:"speedup"` // geometric mean of per-shape speedups

	Failure     Reason        `json:"failure_reason,omitempty"`
	Detail      string        `json:"failure_detail,omitempty"`
	Shapes      []ShapeResult `json:"shapes,omitempty"`
	EvalSeconds float64       `json:"eval_seconds"`
	// Where EvalSeconds went: compiling, correctness checks (host draws and
	// references included), timing.
	CompileSeconds float64 `json:"compile_seconds,omitempty"`
	CheckSeconds   float64 `json:"check_seconds,omitempty"`
	TimingSeconds  float64 `json:"timing_seconds,omitempty"`
}

// Failed builds a failed result with its reason and detail. Compiled is
// left false: only the evaluator knows whether compiling finished (a hang
// or a crash may come from the compiler too), and it sets it.
func Failed(reason Reason, detail string) Result {
	r := Result{Failure: reason, Detail: detail}
	if reason == CompileError {
		r.CompileError = &detail
	} else {
		r.CorrectnessError = &detail
	}
	return r
}

// Score fills Speedup and Reward from the per-shape results:
// reward = geometric mean of the speedups, clamped to [0, MaxReward].
func (r *Result) Score() {
	if len(r.Shapes) == 0 {
		return
	}
	logSum := 0.0
	for _, s := range r.Shapes {
		logSum += math.Log(s.Speedup)
	}
	r.Speedup = math.Exp(logSum / float64(len(r.Shapes)))
	r.Reward = math.Max(0, math.Min(MaxReward, r.Speedup))
}
