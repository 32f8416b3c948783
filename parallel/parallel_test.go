package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

func TestForCoversEveryIndexOnce(t *testing.T) {
	for _, procs := range []int{1, 4} {
		old := runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 7, 1000, 1024, 1025} {
			hits := make([]int32, n)
			For(n, 64, func(lo, hi int) {
				if hi-lo > 64 || lo%64 != 0 {
					t.Errorf("range [%d,%d) is not a chunk", lo, hi)
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("procs %d n %d: index %d visited %d times", procs, n, i, h)
				}
			}
		}
		runtime.GOMAXPROCS(old)
	}
}
