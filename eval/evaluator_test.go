package eval

import (
	"context"
	"testing"

	"discover/internal/devtest"
	"discover/target"
)

// quick options keep CI time down; the rules stay the same.
var quick = Options{ChecksPerShape: 2, Warmup: 1, Samples: 3, SampleTime: 0, MaxLaunches: 1}

func TestEverySeedPassesItsOwnCheckOnOpenCL(t *testing.T) {
	dev := devtest.OpenCL(t)
	ctx := context.Background()
	for _, tg := range target.All() {
		t.Run(tg.Name, func(t *testing.T) {
			ev, err := New(ctx, dev, tg, quick)
			if err != nil {
				t.Fatal(err)
			}
			defer ev.Close()
			res, fatal := ev.Evaluate(ctx, ev.seed.spec, 7)
			if fatal != nil || !res.Correct {
				t.Fatalf("seed failed: %s: %s (fatal %v)", res.Failure, res.Detail, fatal)
			}
			if len(res.Shapes) != len(tg.Shapes) {
				t.Fatalf("%d shape results, want %d", len(res.Shapes), len(tg.Shapes))
			}
			for _, s := range res.Shapes {
				if s.MedianUs <= 0 || s.SeedMedianUs <= 0 || s.Speedup <= 0 || s.GBs <= 0 {
					t.Errorf("shape %d: implausible timing %+v", s.Rows, s)
				}
			}
			t.Logf("%s: %.1fs, speedup vs itself %.3f", tg.Name, res.EvalSeconds, res.Speedup)
		})
	}
}

// The timed draw is the last check's, and its distribution must not change
// with the nonce (runs would time different inputs); the checks before it
// must still reach every other distribution across nonces.
func TestCheckDistribution(t *testing.T) {
	for _, checks := range []int{2, 3, 4} {
		seen := map[target.Distribution]bool{}
		for nonce := range uint64(6) {
			if got := checkDistribution(checks-1, checks, nonce); got != TimedDistribution {
				t.Errorf("checks %d nonce %d: timed draw is %s, want %s", checks, nonce, got, TimedDistribution)
			}
			for c := range checks - 1 {
				seen[checkDistribution(c, checks, nonce)] = true
			}
		}
		for _, d := range target.Distributions {
			if !seen[d] && d != TimedDistribution {
				t.Errorf("checks %d: %s inputs are never checked", checks, d)
			}
		}
	}
}
