package eval

import (
	"math"
	"slices"
	"time"

	"discover/target"
)

// draw is one fresh set of inputs at a row count, with its reference and
// each output's max|ref| (computed once: every run of the draw needs it).
type draw struct {
	rows   int
	dist   target.Distribution
	inputs [][]float32
	ref    [][]float64
	scales []float64
}

func (e *Evaluator) newDraw(rows int, seed int64, dist target.Distribution) *draw {
	inputs := e.target.Generate(rows, seed, dist)
	d := &draw{rows: rows, dist: dist, inputs: inputs, ref: e.target.Reference(rows, inputs)}
	for _, r := range d.ref {
		d.scales = append(d.scales, maxAbs(r))
	}
	return d
}

// check runs the candidate twice on one draw of inputs. The first run must
// match the float64 reference; a second run that does not, while the first
// did, is a race.
func (e *Evaluator) check(cand *program, d *draw) *failure {
	t, rows := e.target, d.rows
	launch, f := e.geometry(cand.spec, rows)
	if f != nil {
		return f
	}
	b, f := e.buffersFor(rows)
	if f != nil {
		return f
	}
	if f := b.load(d.inputs); f != nil {
		return f
	}
	nOut := len(t.Outputs)
	for run := range 2 {
		if f := b.poison(0, nOut); f != nil {
			return f
		}
		if err := cand.kernel.Run(b.args(0, nOut, rows), launch); err != nil {
			return launchFailure("launch", err)
		}
		if f := b.verify(t, 0, d, run == 1); f != nil {
			if run == 1 && f.reason == WrongResult {
				f.reason = Race
				f.detail = "second run on the same inputs differs from the first, which was correct: " + f.detail
			}
			return f
		}
	}
	return nil
}

// time measures the candidate and the seed at one shape, interleaved
// (seed, candidate, seed, candidate...) so that drift hits both alike, then
// re-checks the output of the candidate's last timed launch. Last, it
// launches the candidate once more on the inputs of another draw (fresh),
// over the output the timed launches left, not poisoned: a kernel that
// skips its work once its output looks computed, or once it has been
// called often enough (a counter in device memory), leaves the timed
// draw's result there and fails.
func (e *Evaluator) time(cand *program, d, fresh *draw) (ShapeResult, []float64, *failure) {
	t, rows := e.target, d.rows
	candLaunch, f := e.geometry(cand.spec, rows)
	if f != nil {
		return ShapeResult{}, nil, f
	}
	seedLaunch, f := e.geometry(e.seed.spec, rows)
	if f != nil {
		return ShapeResult{}, nil, f
	}
	b, f := e.buffersFor(rows)
	if f != nil {
		return ShapeResult{}, nil, f
	}
	if f := b.load(d.inputs); f != nil {
		return ShapeResult{}, nil, f
	}
	nOut := len(t.Outputs)
	for set := range 2 {
		if f := b.poison(set, nOut); f != nil {
			return ShapeResult{}, nil, f
		}
	}
	candArgs, seedArgs := b.args(0, nOut, rows), b.args(1, nOut, rows)

	for range e.opts.Warmup {
		if err := e.seed.kernel.Run(seedArgs, seedLaunch); err != nil {
			return ShapeResult{}, nil, launchFailure("seed launch", err)
		}
		if err := cand.kernel.Run(candArgs, candLaunch); err != nil {
			return ShapeResult{}, nil, launchFailure("launch", err)
		}
	}
	// Size a sample from one timed launch of the seed, and use the same
	// count for both kernels.
	one, err := e.seed.kernel.Time(seedArgs, seedLaunch, 1)
	if err != nil {
		return ShapeResult{}, nil, launchFailure("seed timing", err)
	}
	launches := int(math.Ceil(float64(e.opts.SampleTime) / float64(max(one, time.Nanosecond))))
	launches = min(max(launches, 1), e.opts.MaxLaunches)

	var candUs, seedUs []float64
	for range e.opts.Samples {
		d, err := e.seed.kernel.Time(seedArgs, seedLaunch, launches)
		if err != nil {
			return ShapeResult{}, nil, launchFailure("seed timing", err)
		}
		seedUs = append(seedUs, perLaunchUs(d, launches))
		d, err = cand.kernel.Time(candArgs, candLaunch, launches)
		if err != nil {
			return ShapeResult{}, nil, launchFailure("timed launch", err)
		}
		candUs = append(candUs, perLaunchUs(d, launches))
	}
	if f := b.verify(t, 0, d, true); f != nil {
		f.detail = "output of the last timed launch: " + f.detail
		return ShapeResult{}, nil, f
	}
	if f := b.load(fresh.inputs); f != nil {
		return ShapeResult{}, nil, f
	}
	if err := cand.kernel.Run(candArgs, candLaunch); err != nil {
		return ShapeResult{}, nil, launchFailure("launch after timing", err)
	}
	if f := b.verify(t, 0, fresh, true); f != nil {
		f.detail = "launch after the timed ones, on new inputs over the output they left (not poisoned; " +
			"a kernel must not skip work because its output looks computed or it was called before): " + f.detail
		return ShapeResult{}, nil, f
	}

	sr := ShapeResult{
		Rows:     rows,
		MedianUs: percentile(candUs, 50), P10Us: percentile(candUs, 10), P90Us: percentile(candUs, 90),
		SeedMedianUs: percentile(seedUs, 50), SeedP10Us: percentile(seedUs, 10), SeedP90Us: percentile(seedUs, 90),
		Bytes: t.Bytes(rows), Samples: e.opts.Samples, Launches: launches,
	}
	sr.Speedup = sr.SeedMedianUs / sr.MedianUs
	ratios := make([]float64, len(candUs))
	for i := range candUs {
		ratios[i] = seedUs[i] / candUs[i]
	}
	sr.SpeedupP10, sr.SpeedupP90 = percentile(ratios, 10), percentile(ratios, 90)
	sr.GBs = float64(sr.Bytes) / (sr.MedianUs * 1e3)
	if bw := e.dev.Info().CopyBandwidthGBs; bw > 0 {
		sr.PctCopyBW = 100 * sr.GBs / bw
	}
	return sr, candUs, nil
}

func perLaunchUs(d time.Duration, launches int) float64 {
	return float64(d.Nanoseconds()) / 1e3 / float64(launches)
}

// percentile by linear interpolation between the closest ranks.
func percentile(v []float64, p float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}
