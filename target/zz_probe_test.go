package target

import (
	"testing"
)

func TestZZProbe(t *testing.T) {
	for _, tg := range All() {
		rowsList := tg.Shapes[:len(tg.Shapes)-1]
		worst := map[string]float64{}
		for _, rows := range rowsList {
			for _, dist := range Distributions {
				for seed := int64(0); seed < 60; seed++ {
					in := tg.Generate(rows, seed, dist)
					got := float32Ports[tg.Kernel](tg, rows, in)
					ref := tg.Reference(rows, in)
					for i, tn := range tg.Outputs {
						if tn.DType == Uint32 {
							continue
						}
						for _, scale := range []float64{1} {
							_ = scale
							// find ratio
							lo, hi := 0.0, 10.0
							for it := 0; it < 30; it++ {
								mid := (lo + hi) / 2
								ok, _ := within(got[i], ref[i], Tolerance{tg.Tolerance.Atol * mid, tg.Tolerance.Rtol * mid})
								if ok {
									hi = mid
								} else {
									lo = mid
								}
							}
							k := string(dist) + "/" + tn.Name
							if hi > worst[k] {
								worst[k] = hi
							}
						}
					}
				}
			}
		}
		t.Logf("%s %v", tg.Name, worst)
	}
}
