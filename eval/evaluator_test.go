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
